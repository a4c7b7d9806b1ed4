import { describe, expect, it } from 'vitest';
import { shipCode } from '../../src/lib/report/ship-code.ts';
import { fitRect, imageGeometry, writePixels } from '../../src/lib/models/image-input.ts';
import type { ImagePolicy, OkCellResult } from '../../src/lib/schema.ts';
import { okCell } from './fixtures.ts';

function ortCell(build: string, entry: string, backend: 'wasm' | 'webgpu', threads: number): OkCellResult {
  const c = okCell(`tiny-cnn/ort:${backend}/b1`, 1, 1);
  return {
    ...c,
    cell: { ...c.cell, threads, build: build as never },
    proof: { ...c.proof, backendInUse: backend, threads, details: { build, entry, wasmFile: 'x.wasm' } },
    inputs: [{ name: 'input', dtype: 'float32', shape: [1, 3, 8, 8] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 10], head: [], min: 0, max: 0, mean: 0, nonFinite: 0 }],
  };
}

/** Runs generated code (imports dropped, exports made local) with the given globals; returns what `tail` returns. */
async function evaluate(code: string, globals: Record<string, unknown>, tail: string): Promise<unknown> {
  const body = code
    .split('\n')
    .filter((l) => !l.startsWith('import '))
    .join('\n')
    .replace(/^export /gm, '');
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<unknown>;
  return new AsyncFunction(...Object.keys(globals), `${body}\n${tail}`)(...Object.values(globals));
}

describe('shipCode for ORT', () => {
  it('writes the import, self-hosted wasm, threads and the execution provider that ran', async () => {
    const s = shipCode(ortCell('wasm', 'onnxruntime-web/wasm', 'wasm', 2), { modelUrl: './m.onnx' });
    expect(s.code).toMatch(/^import \* as ort from "onnxruntime-web\/wasm";/);
    expect(s.code).toContain('ort.env.wasm.wasmPaths = new URL("./ort/", location.href).href;');
    expect(s.code).toContain('ort.env.wasm.numThreads = 2; // needs cross-origin isolation');
    expect(s.code).toContain('executionProviders: ["wasm"]');
    expect(s.code).toContain("graphOptimizationLevel: 'all'");
    expect(s.selfHost).toEqual([
      { from: 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs', to: './ort/ort-wasm-simd-threaded.mjs' },
      {
        from: 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
        to: './ort/ort-wasm-simd-threaded.wasm',
      },
    ]);
    // The code runs: a fake ORT records what it was given.
    const seen: Record<string, unknown> = {};
    const ort = {
      env: { wasm: {} as Record<string, unknown> },
      Tensor: class {
        constructor(
          public type: string,
          public data: unknown,
          public dims: number[],
        ) {}
      },
      InferenceSession: {
        create: async (url: string, opts: unknown) => {
          seen.url = url;
          seen.opts = opts;
          return { run: async (feeds: unknown) => feeds };
        },
      },
    };
    const feeds = (await evaluate(
      s.code,
      { ort, location: { href: 'https://app.example/a/b.html' } },
      'return run({ input: new Float32Array(192) });',
    )) as Record<string, { type: string; dims: number[] }>;
    expect(seen.url).toBe('./m.onnx');
    expect(ort.env.wasm).toEqual({ wasmPaths: 'https://app.example/a/ort/', numThreads: 2 });
    expect(feeds.input!.dims).toEqual([1, 3, 8, 8]);
    expect(feeds.input!.type).toBe('float32');
  });

  it('uses the build that ran on WebGPU, without wasm threads', () => {
    const s = shipCode(ortCell('webgpu', 'onnxruntime-web/webgpu', 'webgpu', 1), { modelUrl: 'm.onnx' });
    expect(s.code).toContain('from "onnxruntime-web/webgpu"');
    expect(s.code).toContain('executionProviders: ["webgpu"]');
    expect(s.code).not.toContain('numThreads');
    expect(s.selfHost.map((f) => f.to)).toEqual([
      './ort/ort-wasm-simd-threaded.asyncify.mjs',
      './ort/ort-wasm-simd-threaded.asyncify.wasm',
    ]);
  });

  it('says when the pick is a variant the lab made, where its file is, and loads it from the URL it names', async () => {
    const c = ortCell('wasm', 'onnxruntime-web/wasm', 'wasm', 1);
    c.cell.variant = 'int8';
    const source = '/tmp/out/variants/tiny-cnn.int8.onnx';
    const code = shipCode(c, { modelUrl: './models/tiny-cnn.int8.onnx', variantSource: source }).code;
    expect(code).toContain(
      `// The model: made by the lab from tiny-cnn (its int8 variant, not the original file): ${source}.\n` +
        '// Serve that file at ./models/tiny-cnn.int8.onnx.',
    );
    let url = '';
    const ort = {
      env: { wasm: {} },
      InferenceSession: { create: async (u: string) => ((url = u), {}) },
    };
    await evaluate(code, { ort, location: { href: 'https://app.example/' } }, 'return null;');
    expect(url).toBe('./models/tiny-cnn.int8.onnx');
    // Without a known place, it says where the lab keeps such files.
    expect(shipCode(c, { modelUrl: 'm.onnx' }).code).toMatch(
      /download button under What to ship, or a CLI run's <out>\/variants\//,
    );
    // An fp32 pick says nothing of variants.
    c.cell.variant = 'fp32';
    expect(shipCode(c, { modelUrl: 'm.onnx', variantSource: source }).code).not.toContain('made by the lab');
  });
});

describe('shipCode for pictures', () => {
  const policy: ImagePolicy = {
    kind: 'image',
    images: [],
    layout: 'NCHW',
    fit: 'cover',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    order: 'BGR',
  };
  it('makes the same tensor from pixels as the lab (layout, order, mean/std, fit)', async () => {
    const c = ortCell('wasm', 'onnxruntime-web/wasm', 'wasm', 1);
    c.cell.inputOverrides = { input: { values: policy } };
    const s = shipCode(c, { modelUrl: 'm.onnx' });
    const rgba = Uint8ClampedArray.from({ length: 8 * 8 * 4 }, (_, i) => (i * 37) % 256);
    const drawn: number[][] = [];
    const ctx = {
      clearRect() {},
      drawImage: (_b: unknown, ...r: number[]) => drawn.push(r),
      getImageData: () => ({ data: rgba }),
    };
    const globals = {
      ort: { env: { wasm: {} }, InferenceSession: { create: async () => ({}) } },
      location: { href: 'https://app.example/' },
      OffscreenCanvas: class {
        getContext = () => ctx;
      },
      createImageBitmap: async () => ({ width: 20, height: 10, close() {} }),
    };
    const got = (await evaluate(s.code, globals, 'return pictures_input([{}]);')) as Float32Array;
    const spec = { name: 'input', dtype: 'float32' as const, shape: [1, 3, 8, 8] };
    const want = new Float32Array(192);
    writePixels(rgba, imageGeometry(spec, spec.shape, policy), policy, 'float32', want, 0);
    expect(got).toBeInstanceOf(Float32Array);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
    const r = fitRect(20, 10, 8, 8, 'cover');
    expect(drawn[0]).toEqual([r.sx, r.sy, r.sw, r.sh, r.dx, r.dy, r.dw, r.dh]);
  });
});

describe('shipCode for TF.js', () => {
  it('imports the wasm backend, sets its paths and threads, and loads the model kind that ran', () => {
    const c = okCell('m/tfjs:wasm/b1', 1, 1);
    c.proof = { ...c.proof, runtime: 'tfjs', threads: 2, details: { modelKind: 'layers' } };
    c.inputs = [{ name: 'x', dtype: 'float32', shape: [1, 4] }];
    const s = shipCode(c, { modelUrl: './m/model.json' });
    expect(s.code).toContain("import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';");
    expect(s.code).toContain('setWasmPaths(new URL("./tfjs/", location.href).href);');
    expect(s.code).toContain('setThreadsCount(2);');
    expect(s.code).toContain('await tf.setBackend("wasm");');
    expect(s.code).toContain('tf.loadLayersModel("./m/model.json")');
    expect(s.selfHost).toHaveLength(3);
  });
  it('imports setThreadsCount only when it is called', () => {
    const c = okCell('m/tfjs:wasm/b1', 1, 1);
    c.proof = { ...c.proof, runtime: 'tfjs' };
    const s = shipCode(c, { modelUrl: 'm.json' });
    expect(s.code).toContain("import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';");
    expect(s.code).not.toContain('setThreadsCount');
    expect(s.code).toContain('tf.loadGraphModel("m.json")');
  });
  it('refuses the lab yardsticks', () => {
    expect(() => shipCode(okCell('m/ort-node:cpu/b1', 1, 1), { modelUrl: 'x' })).toThrow(/yardstick/);
  });
});
