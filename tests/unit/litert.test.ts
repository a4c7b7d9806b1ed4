/**
 * LiteRT.js, the pure parts: which build a cell loads, what LiteRT's compile warnings and objects say ran, the
 * shapes a .tflite file runs, litert targets in plans and capabilities, WebNN probed by createContext, the tax.
 */
import { describe, expect, it } from 'vitest';
import type { TensorDetails } from '@litertjs/core';
import {
  chooseLiteRtBuild,
  liteRtWarnings,
  readLiteRtRan,
  type LiteRtFeatures,
} from '../../src/runtimes/litert-proof.ts';
import { shapeMismatch, toLiteRtData } from '../../src/runtimes/litert-session.ts';
import { capabilitiesFrom, probeWebNn } from '../../src/runtimes/capabilities.ts';
import { buildOfFile, fetchedWasm, LITERT_WASM_BUILDS } from '../../src/runtimes/wasm-file.ts';
import { parseTarget, pickFormat, PlanError } from '../../src/lib/plan/target-parse.ts';
import { taxable } from '../../src/lib/report/tax.ts';
import type { HostTensor } from '../../src/lib/models/inputs.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import type { Cell } from '../../src/lib/schema.ts';
import { unavailableReason } from '../../src/app/cell-start.ts';
import { fakeEnvironment, fakeModel } from './fixtures.ts';
import { buildPlan } from '../../src/lib/plan/plan.ts';
import { DEFAULT_RUN_TARGETS } from '../../src/lib/plan/defaults.ts';

const all: LiteRtFeatures = { relaxedSimd: true, threads: true, jspi: true, crossOriginIsolated: true };
const build = (backend: 'wasm' | 'webgpu', threads: number, f: Partial<LiteRtFeatures> = {}) =>
  chooseLiteRtBuild(backend, threads, { ...all, ...f });

describe('LiteRT build choice', () => {
  it('picks as loadLiteRt would: plain for 1 thread, threaded for more, JSPI for webgpu, compat without relaxed SIMD', () => {
    expect(build('wasm', 1)).toMatchObject({ build: 'plain' });
    expect(build('wasm', 2)).toMatchObject({ build: 'threaded' });
    expect(build('webgpu', 1)).toMatchObject({ build: 'jspi' });
    expect(build('webgpu', 1, { jspi: false })).toMatchObject({ build: 'plain' });
    expect(build('wasm', 1, { relaxedSimd: false })).toMatchObject({ build: 'compat' });
    expect(build('webgpu', 1, { relaxedSimd: false })).toMatchObject({ build: 'compat' });
  });
  it('threads that cannot run here are unavailable with the reason', () => {
    expect(build('wasm', 2, { crossOriginIsolated: false })).toMatchObject({
      unavailable: expect.stringMatching(/cross-origin isolation/),
    });
    expect(build('wasm', 4, { relaxedSimd: false })).toMatchObject({
      unavailable: expect.stringMatching(/relaxed SIMD/),
    });
    expect(build('wasm', 2, { threads: false })).toMatchObject({
      unavailable: expect.stringMatching(/no wasm threads/),
    });
    expect(build('webgpu', 2)).toMatchObject({ unavailable: expect.stringMatching(/no thread setting/) });
  });
  it("reads a served wasm file (hashed or not) as its build, and tells LiteRT's four apart", () => {
    expect(buildOfFile('litert_wasm_internal-xlFQpo4H.wasm', LITERT_WASM_BUILDS)?.name).toBe(
      'litert_wasm_internal.wasm',
    );
    expect(buildOfFile('litert_wasm_jspi_internal.wasm', LITERT_WASM_BUILDS)?.name).toBe(
      'litert_wasm_jspi_internal.wasm',
    );
    expect(buildOfFile('litert_wasm_threaded_internal-BnPQDIh_.wasm', LITERT_WASM_BUILDS)?.threaded).toBe(true);
    expect(buildOfFile('ort-wasm-simd-threaded.wasm', LITERT_WASM_BUILDS)).toBeNull();
  });
  it("skips the dev server's ?url module answers: only the fetched .wasm is the build", () => {
    const e = (name: string) => ({ name }) as PerformanceEntry;
    const dir = 'http://x/node_modules/@litertjs/core/wasm';
    const stubs = ['compat_internal', 'internal', 'threaded_internal', 'jspi_internal'].map((b) =>
      e(`${dir}/litert_wasm_${b}.wasm?url`),
    );
    expect(fetchedWasm(LITERT_WASM_BUILDS, [...stubs, e(`${dir}/litert_wasm_jspi_internal.wasm`)])?.file).toBe(
      'litert_wasm_jspi_internal.wasm',
    );
    expect(fetchedWasm(LITERT_WASM_BUILDS, stubs)).toBeNull();
  });
});

describe('what LiteRT says ran', () => {
  // As captureConsole records LiteRT's console.warn('%c[LiteRT]%c ...', style, style).
  const partial =
    '%c[LiteRT]%c Model not fully compiled for webgpu. Partially delegating to WASM execution. background: #FFA000; color: black; font-weight: bold; padding: 2px 5px; border-radius: 3px; font-weight: bold;';
  const whole =
    '%c[LiteRT]%c Model not fully compiled for webgpu on non-JSPI browser. Falling back to WASM execution. background: #D32F2F; color: white; font-weight: bold; color: #D32F2F; font-weight: bold;';

  it("keeps LiteRT's words without the console styling, and nothing else", () => {
    expect(liteRtWarnings([partial, 'some other line', whole])).toEqual([
      'Model not fully compiled for webgpu. Partially delegating to WASM execution.',
      'Model not fully compiled for webgpu on non-JSPI browser. Falling back to WASM execution.',
    ]);
  });
  it('a whole fallback to wasm (no JSPI) is a mismatch, in LiteRT words', () => {
    const ran = readLiteRtRan({
      requested: 'webgpu',
      compiledFor: 'wasm',
      fullyAccelerated: null,
      outputsOn: ['wasm'],
      warnings: liteRtWarnings([whole]),
    });
    expect(ran.backendInUse).toBe('wasm');
    expect(ran.fellBack).toMatch(/asked LiteRT.js for webgpu, but it compiled the model for wasm .*non-JSPI/);
  });
  it('a partitioned model (JSPI) runs as webgpu with a warning that some ops ran on wasm', () => {
    const ran = readLiteRtRan({
      requested: 'webgpu',
      compiledFor: 'webgpu',
      fullyAccelerated: false,
      outputsOn: ['wasm'],
      warnings: liteRtWarnings([partial]),
    });
    expect(ran).toMatchObject({ backendInUse: 'webgpu', fellBack: null });
    expect(ran.warning).toMatch(/not fully: some ops run on wasm .*Partially delegating/);
  });
  it('a fully accelerated model, and a wasm one, say so with no warning', () => {
    const gpu = readLiteRtRan({
      requested: 'webgpu',
      compiledFor: 'webgpu',
      fullyAccelerated: true,
      outputsOn: ['webgpu'],
      warnings: [],
    });
    expect(gpu).toMatchObject({ backendInUse: 'webgpu', fellBack: null, warning: null });
    expect(gpu.summary).toMatch(/fully accelerated/);
    const cpu = readLiteRtRan({
      requested: 'wasm',
      compiledFor: 'wasm',
      fullyAccelerated: null,
      outputsOn: ['wasm'],
      warnings: [],
    });
    expect(cpu).toMatchObject({ backendInUse: 'wasm', fellBack: null, warning: null });
  });
});

const details = (shape: number[], dtype: TensorDetails['dtype'] = 'float32'): TensorDetails => ({
  name: 'input',
  index: 0,
  dtype,
  shape: new Int32Array(shape),
  supportedBufferTypes: new Set([1]),
});
const host = (shape: number[], dtype: HostTensor['dtype'] = 'float32', data?: HostTensor['data']): HostTensor => ({
  name: 'input',
  dtype,
  shape,
  data: data ?? new Float32Array(shape.reduce((a, b) => a * b, 1)),
});

describe('shapes and dtypes a .tflite file runs', () => {
  it('runs the shape the file fixes; another batch is named with the reason', () => {
    expect(shapeMismatch([details([1, 32, 32, 3])], [host([1, 32, 32, 3])])).toBeNull();
    expect(shapeMismatch([details([1, 32, 32, 3])], [host([4, 32, 32, 3])])).toMatch(
      /is \[1, 32, 32, 3\] and the cell feeds \[4, 32, 32, 3\].*no resize/,
    );
    expect(shapeMismatch([details([-1, 32, 32, 3])], [host([1, 32, 32, 3])])).toMatch(
      /only fixed shapes.*shape_signature/,
    );
    expect(shapeMismatch([details([1, 2]), details([1, 2])], [host([1, 2])])).toMatch(/2 inputs.*manifest 1/);
  });
  it('int64 ids go in as int32 where the file takes int32; a dtype it cannot take is named', () => {
    const ids = host([2], 'int64', new BigInt64Array([5n, 7n]));
    expect(Array.from(toLiteRtData(ids, 'int32'))).toEqual([5, 7]);
    expect(() => toLiteRtData(host([2], 'float16', new Uint16Array(2)), 'float32')).toThrow(/float16.*takes float32/);
    const same = host([3]);
    expect(toLiteRtData(same, 'float32')).toBe(same.data);
  });
});

describe('litert in targets, plans, capabilities and the tax', () => {
  it('parses litert:wasm and litert:webgpu; other backends and builds are refused with the valid ones', () => {
    expect(parseTarget('litert:webgpu')).toEqual({ runtime: 'litert', backend: 'webgpu' });
    expect(() => parseTarget('litert:webgl')).toThrow(/runtime 'litert' has no backend 'webgl'; valid: wasm, webgpu/);
    expect(() => parseTarget('litert:wasm@default')).toThrow(PlanError);
  });
  it('litert loads .tflite only; ort and tfjs do not load it', () => {
    const formats = (fs: string[]) => ({ formats: fs.map((format) => ({ format })) }) as unknown as ModelInfo;
    expect(pickFormat(formats(['onnx', 'tflite']), 'litert')).toBe('tflite');
    expect(pickFormat(formats(['onnx']), 'litert')).toBeNull();
    expect(pickFormat(formats(['tflite']), 'ort')).toBeNull();
    expect(pickFormat(formats(['tflite']), 'tfjs')).toBeNull();
  });
  it('capabilities: litert targets have their own reasons', () => {
    const none = { wasm: null, webgl2: null, webgl1: null, webgpu: null, webnn: null };
    const caps = capabilitiesFrom({ ...none, webgpu: 'no adapter' });
    expect(caps.find((c) => c.target === 'litert:webgpu')!.reason).toBe(
      "LiteRT.js's WebGPU accelerator needs a WebGPU adapter: no adapter",
    );
    expect(caps.find((c) => c.target === 'litert:wasm')!.available).toBe(true);
  });
  it('the default matrix runs litert:wasm on every model with a .tflite file, and only there', () => {
    const zoo = [fakeModel('both', ['onnx', 'tflite']), fakeModel('onnx', ['onnx'])];
    const plan = buildPlan(
      {
        models: ['both', 'onnx'],
        targets: [...DEFAULT_RUN_TARGETS],
        batches: [1],
        sampling: {},
        seed: 1,
        order: 'matrix',
        skipMissingFormats: true,
      },
      zoo,
    );
    const litert = plan.cells.filter((c) => c.runtime === 'litert');
    expect(litert.map((c) => [c.id, c.format])).toEqual([['both/litert:wasm/b1/t1', 'tflite']]);
  });
  it('the tax covers litert:wasm, not litert:webgpu', () => {
    const cell = (backend: Cell['backend']) => ({ runtime: 'litert', backend, variant: 'fp32' }) as Cell;
    expect(taxable(cell('wasm'))).toBe(true);
    expect(taxable(cell('webgpu'))).toBe(false);
  });
});

describe('WebNN probed by createContext, not by navigator.ml', () => {
  it('no navigator.ml: says how Chromium exposes it', async () => {
    expect(await probeWebNn(undefined)).toMatch(/navigator.ml is missing.*WebMachineLearningNeuralNetwork.*--webnn/);
  });
  it("navigator.ml with every context refused: the browser's own words, once per distinct refusal", async () => {
    const refused = Object.assign(new Error('WebNN is not supported on this platform'), { name: 'NotSupportedError' });
    const ml = { createContext: async () => Promise.reject(refused) };
    expect(await probeWebNn(ml)).toBe(
      'WebNN: NotSupportedError: WebNN is not supported on this platform (createContext for cpu, gpu, npu)',
    );
  });
  it('available as soon as one device type gives a context', async () => {
    const tried: unknown[] = [];
    const ml = {
      createContext: async (o?: unknown) => {
        tried.push(o);
        if ((o as { deviceType: string }).deviceType === 'cpu') throw new Error('no cpu');
        return {};
      },
    };
    expect(await probeWebNn(ml)).toBeNull();
    expect(tried).toEqual([{ deviceType: 'cpu' }, { deviceType: 'gpu' }]);
  });
  it('an unavailable WebNN cell names the flag the browser was tried with (and only a WebNN cell)', () => {
    const reason =
      'WebNN: NotSupportedError: WebNN is not supported on this platform (createContext for cpu, gpu, npu)';
    const capabilities = [
      { target: 'ort:webnn', available: false, reason },
      { target: 'ort:webgl', available: false, reason: 'no WebGL' },
    ];
    const flags = ['--enable-unsafe-webgpu', '--enable-features=WebMachineLearningNeuralNetwork'];
    const env = fakeEnvironment({ capabilities, browserFlags: flags });
    const cell = (backend: Cell['backend']) => ({ runtime: 'ort', backend }) as Cell;
    expect(unavailableReason(env, cell('webnn'))).toBe(
      `ort:webnn is not available in this browser: ${reason} (tried with --enable-features=WebMachineLearningNeuralNetwork)`,
    );
    expect(unavailableReason(env, cell('webgl'))).toBe('ort:webgl is not available in this browser: no WebGL');
    expect(unavailableReason(fakeEnvironment({ capabilities }), cell('webnn'))).not.toMatch(/tried with/);
  });
});
