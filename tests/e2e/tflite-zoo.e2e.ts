/**
 * The zoo's .tflite files (written by scripts/zoo/keras-to-tflite.ts) compute what its ONNX files compute: LiteRT.js
 * (wasm, in headless Chromium, on a bare test page) against ONNX Runtime (in Node) on the same inputs. tiny-cnn
 * agrees to 1e-4 (on LiteRT's webgpu path too, SwiftShader here); MobileNetV2 picks the same class on every bundled
 * picture. Needs `npm run zoo` (or the build).
 */
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../src/cli/chromium.ts';
import { serveStatic, type StaticServer } from '../../src/cli/server.ts';
import { findFormat, parseManifest, type Manifest } from '../../src/lib/models/manifest.ts';
import { synthesizeInputs } from '../../src/lib/models/inputs.ts';
import { projectRoot } from './harness.ts';

const modelsDir = join(projectRoot, 'public', 'models');
const litert = join(projectRoot, 'node_modules', '@litertjs');

/**
 * A bare page (the server's CSP allows no inline script) whose module loads LiteRT.js same-origin and offers two
 * helpers: run a .tflite file on one input, and a picture's pixels.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>tflite check</title><script type="module" src="check.js"></script>`;
const CHECK = `import { loadLiteRt, loadAndCompile, Tensor } from './core.js';
window.ready = loadLiteRt('/litert/wasm/');
window.runTflite = async (url, data, shape, accelerator) => {
  await window.ready;
  const model = await loadAndCompile(url, { accelerator });
  const input = new Tensor(Float32Array.from(data), shape);
  const [gpuOrHost] = await model.run([input]);
  // Where the output was made (a model LiteRT could not put on the GPU would give host memory); moveTo deletes it.
  const madeOn = gpuOrHost.accelerator;
  const out = madeOn === 'wasm' ? gpuOrHost : await gpuOrHost.moveTo('wasm');
  const result = {
    inputs: model.getInputDetails().map((d) => d.name),
    outputs: model.getOutputDetails().map((d) => d.name),
    data: Array.from(out.toTypedArray()),
    shape: Array.from(out.type.layout.dimensions),
    madeOn,
  };
  input.delete(); out.delete(); model.delete();
  return result;
};
// A picture stretched to w x h, RGB in 0..1, NHWC: the input both runtimes get.
window.pixels = async (url, w, h) => {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const out = [];
  for (let i = 0; i < w * h; i++) out.push(rgba[i * 4] / 255, rgba[i * 4 + 1] / 255, rgba[i * 4 + 2] / 255);
  return out;
};
`;

interface TfliteRun {
  inputs: string[];
  outputs: string[];
  data: number[];
  shape: number[];
  madeOn: string;
}

async function ortRun(path: string, name: string, data: Float32Array, shape: number[]): Promise<Float32Array> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(path)));
  const out = await session.run({ [name]: new ort.Tensor('float32', data, shape) });
  const result = out[session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  return result;
}

function place(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

const argmax = (xs: ArrayLike<number>) => Array.from(xs).reduce((best, x, i, a) => (x > a[best]! ? i : best), 0);

describe('zoo .tflite files on LiteRT.js (wasm) agree with the ONNX files on ORT', () => {
  let manifest: Manifest;
  let server: StaticServer;
  let browser: LaunchedBrowser;
  let page: Page;

  beforeAll(async () => {
    const manifestPath = join(modelsDir, 'manifest.json');
    if (!existsSync(manifestPath)) throw new Error(`no zoo at ${modelsDir}: run \`npm run zoo\` (or the build) first`);
    manifest = parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')));
    const root = mkdtempSync(join(tmpdir(), 'tflite-check-'));
    writeFileSync(join(root, 'index.html'), PAGE);
    writeFileSync(join(root, 'check.js'), CHECK);
    // core's one bare import points at its sibling package, served beside it (an import map would be inline script).
    const core = readFileSync(join(litert, 'core', 'dist', 'index.js'), 'utf8');
    writeFileSync(join(root, 'core.js'), core.replaceAll('"@litertjs/wasm-utils"', '"./wasm-utils.js"'));
    // Everything else as hard links in the served folder (the server sends its own MIME types only from there).
    place(join(litert, 'wasm-utils', 'dist', 'index.js'), join(root, 'wasm-utils.js'));
    for (const f of readdirSync(join(litert, 'core', 'wasm')))
      place(join(litert, 'core', 'wasm', f), join(root, 'litert', 'wasm', f));
    for (const id of ['tiny-cnn', 'mobilenet-v2'])
      place(join(modelsDir, id, 'model.tflite'), join(root, 'models', id, 'model.tflite'));
    for (const img of manifest.images) place(join(modelsDir, img.path), join(root, 'models', img.path));
    server = await serveStatic(root);
    browser = await launchChromium();
    page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(new URL('index.html', server.url).href);
    await page
      .waitForFunction(() => 'ready' in window, undefined, { timeout: 30_000 })
      .catch(() => {
        throw new Error(`the LiteRT.js test page did not load: ${problems.join('; ') || 'no error reported'}`);
      });
    await page.evaluate(() => (window as unknown as { ready: Promise<unknown> }).ready);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const runTflite = (url: string, data: Float32Array, shape: number[], accelerator = 'wasm'): Promise<TfliteRun> =>
    page.evaluate(
      ([u, d, s, a]) =>
        (window as unknown as { runTflite: (...a: unknown[]) => Promise<TfliteRun> }).runTflite(u, d, s, a),
      [url, Array.from(data), shape, accelerator] as const,
    );

  it('both zoo CNNs list a tflite format', () => {
    for (const id of ['tiny-cnn', 'mobilenet-v2']) {
      const model = manifest.models.find((m) => m.id === id)!;
      expect(findFormat(model, 'tflite')?.entry.path).toBe(`${id}/model.tflite`);
    }
  });

  // webgpu here is SwiftShader (software): a check that LiteRT's GPU path takes the file, not a speed.
  it.each(['wasm', 'webgpu'])(
    'tiny-cnn on %s: same outputs as ONNX within 1e-4, names from the signature',
    async (accelerator) => {
      const model = manifest.models.find((m) => m.id === 'tiny-cnn')!;
      const [input] = synthesizeInputs(model.inputs, model.batchDim, 1, 42, {}, model.dimDefaults);
      const data = input!.data as Float32Array;
      const lite = await runTflite('/models/tiny-cnn/model.tflite', data, input!.shape, accelerator);
      const onnx = await ortRun(join(modelsDir, 'tiny-cnn', 'model.onnx'), 'input', data, input!.shape);
      expect(lite.inputs).toEqual(['input']);
      expect(lite.outputs).toEqual(['probs']);
      expect(lite.shape).toEqual([1, 10]);
      expect(lite.madeOn).toBe(accelerator);
      expect(lite.data).toHaveLength(onnx.length);
      const diff = Math.max(...lite.data.map((v, i) => Math.abs(v - onnx[i]!)));
      console.log(`tiny-cnn on LiteRT.js ${accelerator}: max diff from ORT ${diff.toExponential(1)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
      expect(Math.max(...onnx) - Math.min(...onnx)).toBeGreaterThan(1e-3); // not a constant output
    },
    120_000,
  );

  it('mobilenet-v2: the same top-1 class as ONNX on every bundled picture', async () => {
    const model = manifest.models.find((m) => m.id === 'mobilenet-v2')!;
    const tops: string[] = [];
    for (const img of manifest.images) {
      const pixels = await page.evaluate(
        (url) =>
          (window as unknown as { pixels: (u: string, w: number, h: number) => Promise<number[]> }).pixels(
            url,
            224,
            224,
          ),
        `/models/${img.path}`,
      );
      const data = Float32Array.from(pixels);
      const lite = await runTflite('/models/mobilenet-v2/model.tflite', data, [1, 224, 224, 3]);
      const onnx = await ortRun(join(modelsDir, 'mobilenet-v2', 'model.onnx'), 'input_1', data, [1, 224, 224, 3]);
      const diff = Math.max(...lite.data.map((v, i) => Math.abs(v - onnx[i]!)));
      tops.push(`${img.name}: ${model.labels?.[argmax(lite.data)]} (max diff ${diff.toExponential(1)})`);
      expect(argmax(lite.data), img.name).toBe(argmax(onnx));
      expect(diff, img.name).toBeLessThanOrEqual(1e-4);
    }
    console.log(`mobilenet-v2 on LiteRT.js: ${tops.join('; ')}`);
    expect(tops).toHaveLength(4);
  }, 240_000);
});
