import { describe, expect, it } from 'vitest';
import { parseRunResult, SamplingSettings, SCHEMA_VERSION, SchemaError, type RunResult } from '../../src/lib/schema.ts';
import { summarizeStages } from '../../src/lib/measure/stats.ts';
import { parseManifest } from '../../src/lib/models/manifest.ts';
import { steadyStateOf } from '../../src/lib/measure/warmup-curve.ts';
import { fakeEnvironment } from './fixtures.ts';

function validRun(): RunResult {
  const cell = {
    id: 'm/ort:wasm@wasm/b1/t1',
    modelId: 'm',
    format: 'onnx' as const,
    runtime: 'ort' as const,
    backend: 'wasm' as const,
    batch: 1,
    threads: 1,
    build: 'wasm' as const,
    coresOverride: null,
    dims: {},
    variant: 'fp32' as const,
    inputSeed: 1,
    inputOverrides: {},
  };
  const samples = [1, 2, 3].map((v) => ({
    preprocess: 0.1,
    upload: null,
    inference: v,
    readback: null,
    postprocess: 0.01,
    total: v + 0.11,
    iterations: 1,
    at: 1_800_000_000_000 + v,
    segment: 0,
    parts: v === 2 ? { decode: 0.05, resize: 0.04, normalise: 0.01 } : null,
    invocation: 0,
  }));
  const coldStart = {
    runtimeInitMs: 1,
    fetchMs: 1,
    fetchedBytes: 10,
    sessionCreateMs: 1,
    firstInferenceMs: 1,
    warmupCount: 0,
    warmupTotalMs: 0,
    runtimeWasm: { file: 'ort-wasm-simd-threaded.wasm', transferBytes: 0, bytes: 14_000_000, fetchMs: 3 },
    workerBootMs: null,
    firstResultMs: null,
    network: null,
  };
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'inference-latency-lab', version: '0.1.0' },
    createdAt: '2026-11-28T00:00:00.000Z',
    source: 'cli',
    device: null,
    environment: fakeEnvironment({
      libraries: { 'onnxruntime-web': '1.30.0' },
      capabilities: [{ target: 'ort:webgpu', available: false, reason: 'navigator.gpu is missing' }],
    }),
    plan: {
      seed: 1,
      order: 'matrix',
      schedule: 'sequential',
      liveCells: 4,
      sampling: SamplingSettings.parse({ mode: 'fixed', samples: 3, warmup: 0 }),
      cells: [cell],
      nativeSkipped: [],
    },
    cells: [
      {
        status: 'ok',
        cell,
        startedAt: '2026-11-28T00:00:00.000Z',
        durationMs: 10,
        coldStart,
        coldStarts: [coldStart],
        sampling: {
          mode: 'fixed',
          stopReason: 'fixed-count',
          targetCI: null,
          achievedCI: null,
          precisionReached: null,
          iterations: 1,
          iterationsWhy: 'fixed',
          warmupPasses: 0,
          warmupPassesMs: [],
          warmupStop: 'fixed',
          blocks: 1,
          samplingMs: 7,
          neededMs: null,
        },
        steadyState: steadyStateOf(samples, { passes: 0, totalMs: 0, passMs: [] }, 10).steadyState,
        validity: {
          pageHidden: false,
          drift: null,
          softwareGpu: false,
          coarseStages: [],
          unsupportedPercentiles: ['p90', 'p95', 'p99'],
        },
        samples,
        summary: summarizeStages(samples),
        preprocessParts: null,
        predictions: [{ image: 'cat.png', top: [{ index: 1, label: 'cat', score: 0.9 }] }],
        stageNotes: [{ stage: 'upload', includedIn: 'inference', why: 'x' }],
        proof: {
          runtime: 'ort',
          runtimeVersion: '1.30.0',
          backendRequested: 'wasm',
          backendInUse: 'wasm',
          threads: 1,
          simd: true,
          crossOriginIsolated: true,
          details: {},
        },
        timerResolutionMs: 0.005,
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
        outputs: [
          { name: 'y', dtype: 'float32', shape: [1, 2], head: [0.5, 0.5], min: 0.5, max: 0.5, mean: 0.5, nonFinite: 0 },
        ],
        parity: null,
        agreement: null,
        modelBytes: null,
        inputDigest: null,
        tax: null,
        invocations: [],
        acrossInvocations: null,
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
      },
      {
        status: 'unsupported',
        cell: {
          ...cell,
          id: 'm/tfjs:cpu/b1/t1',
          runtime: 'tfjs',
          backend: 'cpu',
          format: null,
          build: null,
          coresOverride: null,
        },
        startedAt: '2026-11-28T00:00:00.000Z',
        durationMs: 0,
        reason: 'no format',
      },
    ],
    serving: null,
    firstVisits: null,
  };
}

describe('result file schema', () => {
  it('accepts a valid result, also after a JSON round trip', () => {
    const run = validRun();
    expect(parseRunResult(JSON.parse(JSON.stringify(run)))).toEqual(run);
  });
  it('names the field that is wrong', () => {
    const run = validRun() as unknown as { cells: { samples: { total: unknown }[] }[] };
    run.cells[0]!.samples[1]!.total = 'fast';
    expect(() => parseRunResult(run)).toThrow(/cells\[0\]\.samples\[1\]\.total/);
  });
  it('says plainly when the file is of another schema version', () => {
    const run = { ...validRun(), schemaVersion: 99 };
    expect(() => parseRunResult(run)).toThrow(new RegExp(`reads version ${SCHEMA_VERSION}, the file has 99`));
  });
  it('rejects an unknown cell status and an ok cell without samples', () => {
    const run = validRun() as unknown as { cells: Record<string, unknown>[] };
    run.cells[1]!.status = 'maybe';
    expect(() => parseRunResult(run)).toThrow(SchemaError);
    const run2 = validRun() as unknown as { cells: Record<string, unknown>[] };
    run2.cells[0]!.samples = [];
    expect(() => parseRunResult(run2)).toThrow(/cells\[0\]\.samples/);
  });
  it('refuses version-1 and version-2 files by name (their summaries mix warm-up with the steady state)', () => {
    expect(() => parseRunResult({ ...validRun(), schemaVersion: 1 })).toThrow(
      new RegExp(`reads version ${SCHEMA_VERSION}, the file has 1`),
    );
    expect(() => parseRunResult({ ...validRun(), schemaVersion: 2 })).toThrow(
      new RegExp(`reads version ${SCHEMA_VERSION}, the file has 2`),
    );
  });
  it('reads a version-3 file (no pictures, no swept dims) as the current version', () => {
    const v3 = JSON.parse(JSON.stringify(validRun())) as Record<string, unknown> & {
      cells: Record<string, unknown>[];
      plan: { cells: Record<string, unknown>[] };
    };
    v3.schemaVersion = 3;
    delete v3.cells[0]!.predictions;
    delete v3.cells[0]!.preprocessParts;
    delete v3.plan.cells[0]!.dims;
    const read = parseRunResult(v3);
    expect(read.schemaVersion).toBe(SCHEMA_VERSION);
    expect(read.plan.cells[0]!.dims).toEqual({});
    expect(read.cells[0]!.status === 'ok' && read.cells[0]!.predictions).toBeNull();
  });
  it('reads a version-7 file (no variants, agreement or model bytes) as the current version', () => {
    const v7 = JSON.parse(JSON.stringify(validRun())) as Record<string, unknown> & {
      cells: Record<string, unknown>[];
      plan: { cells: Record<string, unknown>[] };
    };
    v7.schemaVersion = 7;
    delete v7.cells[0]!.agreement;
    delete v7.cells[0]!.modelBytes;
    delete (v7.cells[0]!.cell as Record<string, unknown>).variant;
    delete v7.plan.cells[0]!.variant;
    const read = parseRunResult(v7);
    expect(read.schemaVersion).toBe(SCHEMA_VERSION);
    expect(read.plan.cells[0]!.variant).toBe('fp32');
    expect(read.cells[0]!.cell.variant).toBe('fp32');
    expect(read.cells[0]!.status === 'ok' && read.cells[0]!.agreement).toBeNull();
  });
  it('reads a version-4 file (no native cells, no tax, no input digests) as the current version', () => {
    const v4 = JSON.parse(JSON.stringify(validRun())) as Record<string, unknown> & {
      cells: Record<string, unknown>[];
      plan: Record<string, unknown>;
    };
    v4.schemaVersion = 4;
    delete v4.cells[0]!.inputDigest;
    delete v4.cells[0]!.tax;
    delete v4.plan.nativeSkipped;
    const read = parseRunResult(v4);
    expect(read.schemaVersion).toBe(SCHEMA_VERSION);
    expect(read.plan.nativeSkipped).toEqual([]);
    expect(read.cells[0]!.status === 'ok' && read.cells[0]!.tax).toBeNull();
    expect(read.cells[0]!.status === 'ok' && read.cells[0]!.inputDigest).toBeNull();
  });
  it('rejects things that are not result files at all', () => {
    expect(() => parseRunResult(null)).toThrow(SchemaError);
    expect(() => parseRunResult({ hello: 'world' })).toThrow(/schemaVersion/);
  });
});

describe('manifest schema', () => {
  it('names a bad checksum field', () => {
    const m = {
      manifestVersion: 1,
      models: [
        {
          id: 'x',
          title: 'x',
          task: 'other',
          description: '',
          inputs: [{ name: 'a', dtype: 'float32', shape: [1] }],
          outputs: [{ name: 'b', dtype: 'float32', shape: [1] }],
          batchDim: null,
          formats: [{ format: 'onnx', entry: { path: 'x/m.onnx', bytes: 1, sha256: 'zz' }, weights: [] }],
          provenance: { package: 'p', version: '1', license: 'MIT', files: [], notes: '' },
        },
      ],
    };
    expect(() => parseManifest(m)).toThrow(/models\[0\]\.formats\[0\]\.entry\.sha256/);
  });
});
