/** Result fixtures shared by unit tests: made-up but valid cells. */
import { mulberry32 } from '../../src/lib/rng.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import {
  SamplingSettings,
  SCHEMA_VERSION,
  type CellResult,
  type Environment,
  type OkCellResult,
  type RunResult,
  type Sample,
} from '../../src/lib/schema.ts';
import { summarizeStages } from '../../src/lib/measure/stats.ts';
import { assessValidity } from '../../src/lib/measure/validity.ts';
import { steadyStateOf } from '../../src/lib/measure/warmup-curve.ts';

/** A made-up browser environment (Chromium on Linux, 2 cores, isolated, 5 us timer); `over` changes fields. */
export function fakeEnvironment(over: Partial<Environment> = {}): Environment {
  return {
    userAgent: 'ua',
    browser: { name: 'Chromium', version: '156' },
    platform: 'Linux',
    hardwareConcurrency: 2,
    deviceMemoryGiB: null,
    crossOriginIsolated: true,
    timerResolutionMs: 0.005,
    libraries: {},
    browserFlags: [],
    gpu: null,
    capabilities: [],
    ...over,
  };
}

/** One pass of `total` ms, all of it inference (one iteration, no timestamp); `over` changes fields. */
export function fakeSample(total: number, over: Partial<Sample> = {}): Sample {
  return {
    preprocess: 0,
    upload: null,
    inference: total,
    readback: null,
    postprocess: null,
    total,
    iterations: 1,
    at: null,
    segment: null,
    parts: null,
    invocation: 0,
    ...over,
  };
}

/** A result file holding `cells` (a CLI run on fakeEnvironment, default sampling); `over` changes fields. */
export function fakeRun(cells: CellResult[], over: Partial<RunResult> = {}): RunResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'inference-latency-lab', version: '0' },
    createdAt: '2026-11-28T00:00:00Z',
    source: 'cli',
    device: null,
    environment: fakeEnvironment(),
    plan: {
      seed: 1,
      order: 'matrix',
      schedule: 'sequential',
      liveCells: 4,
      sampling: SamplingSettings.parse({}),
      cells: cells.map((c) => c.cell),
      nativeSkipped: [],
    },
    cells,
    serving: null,
    firstVisits: null,
    ...over,
  };
}

/** An ok cell `model/runtime:backend/bN` whose totals scatter ±2% around `centre` ms (seeded). */
export function okCell(id: string, centre: number, seed: number, n = 60): OkCellResult {
  const [modelId, target, b] = id.split('/');
  const [runtime, backend] = target!.split(':') as ['ort', 'wasm'];
  const rng = mulberry32(seed);
  const samples: Sample[] = Array.from({ length: n }, () => {
    const t = centre * (1 + 0.04 * (rng() - 0.5));
    return fakeSample(t, { preprocess: 0.01, inference: t - 0.01 });
  });
  const summary = summarizeStages(samples);
  const cold = {
    runtimeInitMs: 1,
    fetchMs: 1,
    fetchedBytes: 1,
    sessionCreateMs: 1,
    firstInferenceMs: 1,
    warmupCount: 1,
    warmupTotalMs: 1,
    runtimeWasm: null,
    workerBootMs: null,
    firstResultMs: null,
    network: null,
  };
  return {
    status: 'ok',
    cell: {
      id,
      modelId: modelId!,
      format: 'onnx',
      runtime,
      backend,
      batch: Number(b!.slice(1)),
      threads: 1,
      build: null,
      coresOverride: null,
      dims: {},
      variant: 'fp32',
      inputSeed: 1,
      inputOverrides: {},
    },
    startedAt: '',
    durationMs: 1,
    coldStart: cold,
    coldStarts: [cold],
    sampling: {
      mode: 'fixed',
      stopReason: 'fixed-count',
      targetCI: null,
      achievedCI: 0.01,
      precisionReached: null,
      iterations: 1,
      iterationsWhy: '',
      warmupPasses: 1,
      warmupPassesMs: [],
      warmupStop: 'fixed',
      blocks: 1,
      samplingMs: 1,
      neededMs: null,
    },
    steadyState: steadyStateOf(samples, { passes: 1, totalMs: 1, passMs: [] }, 10).steadyState,
    validity: assessValidity(samples, summary, {
      pageHidden: false,
      overlapped: [],
      softwareGpu: false,
      tickMs: 0.005,
      iterations: 1,
    }),
    samples,
    summary,
    stageNotes: [],
    proof: {
      runtime,
      runtimeVersion: '1',
      backendRequested: backend,
      backendInUse: backend,
      threads: 1,
      simd: true,
      crossOriginIsolated: true,
      details: {},
    },
    timerResolutionMs: 0.005,
    inputs: [],
    outputs: [],
    parity: null,
    gpuBusy: null,
    memory: {
      tfjsTensorsBefore: null,
      tfjsTensorsAfter: null,
      tfjsBytesAfter: null,
      tfjsTensorsPerSampleLeak: null,
      wasmHeapBytes: null,
      userAgentBytes: null,
      userAgentNote: null,
      leak: false,
    },
    warnings: [],
    preprocessParts: null,
    predictions: null,
    inputDigest: null,
    tax: null,
    invocations: [],
    acrossInvocations: null,
    agreement: null,
    modelBytes: null,
  } as OkCellResult;
}

const file = { path: 'm/x', bytes: 1, sha256: 'a'.repeat(64) };

/** A made-up model `id` in the given formats: x [batch, 4] -> y [batch, 2], batch dim `batch`. */
export function fakeModel(
  id: string,
  formats: ModelInfo['formats'][number]['format'][],
  task: ModelInfo['task'] = 'image-classification',
): ModelInfo {
  return {
    id,
    title: id,
    task,
    description: '',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
    batchDim: 'batch',
    batchFollowers: [],
    dimDefaults: {},
    valueDefaults: {},
    formats: formats.map((format) => ({ format, entry: file, weights: [] })),
    provenance: { package: 'p', version: '1', license: 'MIT', files: [], notes: '' },
  };
}
