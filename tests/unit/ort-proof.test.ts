import { afterEach, describe, expect, it } from 'vitest';
import { captureConsole, installConsoleTap, resetConsoleTapForTest } from '../../src/runtimes/console-tap.ts';
import {
  backendKindOf,
  droppedProvider,
  formatProviders,
  kernelsPerProvider,
  verdictOf,
  webGlInitFailure,
} from '../../src/runtimes/ort-proof.ts';
import { buildOfFile, fetchedWasm, ORT_WASM_BUILDS, TFJS_WASM_BUILDS } from '../../src/runtimes/wasm-file.ts';

/** Lines as ORT-web 1.30 printed them for tiny-cnn (shortened args), one console.log each. */
const event = (name: string, provider: string | null, cat = 'Node') =>
  `{"cat" : "${cat}","pid" :42,"tid" :1053752,"dur" :94,"ts" :274920,"ph" : "X","name" :"${name}","args" : {${
    provider ? `"op_name" : "FusedConv","provider" : "${provider}","output_type_shape" : [{"float":[1,16,16,16]}]` : ''
  }}},`;
const profile = (providers: string[]) => [
  '[',
  event('model_loading_array', null, 'Session'),
  ...providers.map((p, i) => event(`node${i}_kernel_time`, p)),
  event('SequentialExecutor::Execute', null, 'Session'),
  '{"cat" : "Session","pid" :42,"tid" :1,"dur" :14774,"ts" :261590,"ph" : "X","name" :"model_run","args" : {}}',
  ']',
];

describe("ORT's profile: which execution provider ran each kernel", () => {
  it('counts kernel events per provider and skips session events and other console lines', () => {
    const lines = [
      'some other log line',
      ...profile(['JsExecutionProvider', 'JsExecutionProvider', 'CPUExecutionProvider']),
    ];
    expect(kernelsPerProvider(lines)).toEqual({ JsExecutionProvider: 2, CPUExecutionProvider: 1 });
    expect(formatProviders(kernelsPerProvider(lines))).toBe('JsExecutionProvider:2, CPUExecutionProvider:1');
  });
  it('all kernels on the requested provider: that backend, no warning', () => {
    expect(verdictOf({ WebGpuExecutionProvider: 7 }, 'webgpu')).toEqual({
      backendInUse: 'webgpu',
      fellBack: false,
      warning: null,
    });
    expect(verdictOf({ CPUExecutionProvider: 7 }, 'wasm').backendInUse).toBe('wasm');
  });
  it('none on the requested provider: a fallback, named by the backend that ran them', () => {
    expect(verdictOf({ CPUExecutionProvider: 7 }, 'webgpu')).toEqual({
      backendInUse: 'wasm',
      fellBack: true,
      warning: null,
    });
    expect(verdictOf({ CPUExecutionProvider: 7 }, 'webnn').fellBack).toBe(true);
  });
  it('part of the model elsewhere: the requested backend, with a warning that counts the rest', () => {
    const v = verdictOf({ WebGpuExecutionProvider: 175, CPUExecutionProvider: 18 }, 'webgpu');
    expect(v.backendInUse).toBe('webgpu');
    expect(v.warning).toBe('18 of 193 kernels ran outside webgpu (CPUExecutionProvider:18): ORT placed them there');
  });
  it('no kernels read: no backend claimed', () => {
    expect(verdictOf({}, 'webgpu')).toMatchObject({ backendInUse: null, fellBack: false });
  });
});

describe("ORT's console words at session creation", () => {
  it("finds the reason ORT removed the requested provider, and only that provider's", () => {
    const lines = [
      'removing requested execution provider "wasm" from session options because it is not available: backend not found.',
      'removing requested execution provider "webgpu" from session options because it is not available: Error: Failed to get GPU adapter.',
    ];
    expect(droppedProvider(lines, 'webgpu')).toBe('Error: Failed to get GPU adapter.');
    expect(droppedProvider(lines, 'webgl')).toBeNull();
  });
  it("reads the WebGL backend's own failure line, colour codes and all", () => {
    const line =
      '\u001b[30;43mw\u001b[0m \u001b[35mWebGLBackend\u001b[0m 2026-12-03T09:05:12.014Z|Unable to initialize WebGLBackend. TypeError: failed to create canvas: document is not supported';
    expect(webGlInitFailure(['x', line])).toBe('TypeError: failed to create canvas: document is not supported');
    expect(webGlInitFailure(['Created WebGLContext'])).toBeNull();
  });
  it("tells ORT's two backends apart by the session's handler", () => {
    expect(backendKindOf({ handler: { sessionId: 3, inputNames: [] } })).toBe('wasm');
    expect(backendKindOf({ handler: { session: { context: {} } } })).toBe('onnxjs');
    expect(backendKindOf({})).toBeNull();
  });
});

describe('the console tap', () => {
  afterEach(() => resetConsoleTapForTest());
  const fakeConsole = () => {
    const seen: string[] = [];
    const c = {
      log: (...a: unknown[]) => seen.push(`log ${a.join(' ')}`),
      info: (...a: unknown[]) => seen.push(`info ${a.join(' ')}`),
      warn: (...a: unknown[]) => seen.push(`warn ${a.join(' ')}`),
      error: (...a: unknown[]) => seen.push(`error ${a.join(' ')}`),
      debug: (...a: unknown[]) => seen.push(`debug ${a.join(' ')}`),
    } as unknown as Console;
    return { c, seen };
  };
  it('captures what a bound console.log prints (as Emscripten binds it) and still passes it through', async () => {
    const { c, seen } = fakeConsole();
    installConsoleTap(c);
    const out = c.log.bind(c); // bound after the tap, as the wasm module's factory does
    const r = await captureConsole(async () => {
      out('{"cat" : "Node"}');
      c.warn('dropped', 1);
      return 5;
    });
    expect(r).toEqual({
      ok: true,
      value: 5,
      lines: [
        { level: 'log', text: '{"cat" : "Node"}' },
        { level: 'warn', text: 'dropped 1' },
      ],
    });
    expect(seen).toEqual(['log {"cat" : "Node"}', 'warn dropped 1']);
    out('after'); // not captured once the capture closed
    expect(seen.at(-1)).toBe('log after');
  });
  it('keeps the lines and the error when the call throws; quiet keeps them off the console', async () => {
    const { c, seen } = fakeConsole();
    installConsoleTap(c);
    const r = await captureConsole(async () => {
      c.log('why');
      throw new Error('no available backend to use');
    }, true);
    expect(r.ok).toBe(false);
    expect(r.lines).toEqual([{ level: 'log', text: 'why' }]);
    expect(seen).toEqual([]);
  });
});

describe('the wasm build a runtime fetched', () => {
  it('names builds from served files, hashed (production) or not (dev)', () => {
    expect(buildOfFile('tfjs-backend-wasm-simd-BrM3BlWr.wasm', TFJS_WASM_BUILDS)?.name).toBe(
      'tfjs-backend-wasm-simd.wasm',
    );
    expect(buildOfFile('tfjs-backend-wasm-threaded-simd.wasm', TFJS_WASM_BUILDS)).toMatchObject({
      simd: true,
      threaded: true,
    });
    expect(buildOfFile('tfjs-backend-wasm-BIA8cDLW.wasm', TFJS_WASM_BUILDS)).toMatchObject({ simd: false });
    expect(buildOfFile('ort-wasm-simd-threaded.jsep-MDYUKy93.wasm', ORT_WASM_BUILDS)?.name).toBe(
      'ort-wasm-simd-threaded.jsep.wasm',
    );
    expect(buildOfFile('model.onnx', ORT_WASM_BUILDS)).toBeNull();
  });
  it('reads Resource Timing entries; two builds fetched is an error, not a guess', () => {
    const e = (url: string) => ({ name: url }) as PerformanceEntry;
    const one = [e('http://x/models/tiny-cnn/model.onnx'), e('http://x/assets/ort-wasm-simd-threaded-DcHrbrbl.wasm')];
    expect(fetchedWasm(ORT_WASM_BUILDS, one)?.file).toBe('ort-wasm-simd-threaded-DcHrbrbl.wasm');
    expect(fetchedWasm(TFJS_WASM_BUILDS, one)).toBeNull();
    const two = [...one, e('http://x/assets/ort-wasm-simd-threaded.jsep-MDYUKy93.wasm')];
    expect(() => fetchedWasm(ORT_WASM_BUILDS, two)).toThrow(/more than one runtime wasm build/);
  });
});
