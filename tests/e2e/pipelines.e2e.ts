/**
 * Real pipelines (issue 17): image models preprocess real photos (decode + resize + normalise, timed as parts) and
 * every backend names the same top-1 class for each photo; the text encoder sweeps seq on ORT wasm and WebGPU with
 * parity; the page charts latency against seq; an own ONNX image model given by path runs with --images DIR.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInBrowser, type DriverResult } from '../../src/cli/driver.ts';
import { predictionTables } from '../../src/lib/report/predictions.ts';
import { okCells, parseRunResult, type OkCellResult } from '../../src/lib/schema.ts';
import { distDir, labForSuite, openLab, projectRoot, readDistManifest, requireDist } from './harness.ts';
import { OnnxGraph } from '../../scripts/zoo/onnx-graph.ts';

const manifest = readDistManifest();
const photos = manifest.images.map((i) => i.name);

function expectRealPreprocess(c: OkCellResult) {
  expect(c.preprocessParts, c.cell.id).not.toBeNull();
  expect(c.preprocessParts!.decode.median).toBeGreaterThan(0);
  expect(c.preprocessParts!.resize.median).toBeGreaterThan(0);
  // The parts are the stage, split: per sample they sum to the preprocess time (minus the loop between them).
  for (const s of c.samples) {
    const sum = s.parts!.decode + s.parts!.resize + s.parts!.normalise;
    expect(sum).toBeLessThanOrEqual(s.preprocess! + 1e-6);
    expect(sum).toBeGreaterThan(0.7 * s.preprocess!);
  }
}

describe('image models on real photos', () => {
  let run: DriverResult;
  beforeAll(async () => {
    requireDist();
    // MobileNetV2 on the CPU backends; the image pipeline on a (software) GPU backend with the small ocr-cls, beside
    // its wasm reference. MobileNetV2 on software WebGPU took 95 s of this file: it is in the nightly suite
    // (tests/nightly/zoo-gpu.e2e.ts), with every other backend.
    const sampling = { mode: 'fixed' as const, samples: 4, warmup: 1, cellTimeoutMs: 240_000, gpuBusyPasses: 0 };
    const runs = [];
    // ocr-cls at batch 1: at batch 2 its software-WebGPU cell took 27 s, at 1 about 18 (batching is MobileNet's part).
    const plans: [string[], string[], number][] = [
      [['mobilenet-v2'], ['ort:wasm', 'tfjs:wasm'], 2],
      [['ocr-cls'], ['ort:wasm', 'ort:webgpu'], 1],
    ];
    for (const [models, targets, batch] of plans)
      runs.push(
        await runInBrowser({
          distDir,
          softwareGpu: true,
          request: { models, targets, batches: [batch], sampling, skipMissingFormats: true },
        }),
      );
    run = { ...runs[0]!, result: { ...runs[0]!.result, cells: runs.flatMap((r) => r.result.cells) } };
  }, 600_000);

  it('runs every cell, with decode and resize timed inside the preprocess stage', () => {
    expect(() => parseRunResult(JSON.parse(JSON.stringify(run.result)))).not.toThrow();
    const notOk = run.result.cells
      .filter((c) => c.status !== 'ok')
      .map((c) => `${c.cell.id}: ${JSON.stringify(c).slice(0, 300)}`);
    expect(notOk).toEqual([]);
    for (const c of okCells(run.result.cells)) expectRealPreprocess(c);
  });

  it('classifies each bundled photo, with the same top-1 class on every backend', () => {
    const tables = predictionTables(okCells(run.result.cells));
    expect(tables.map((t) => t.modelId).sort()).toEqual(['mobilenet-v2', 'ocr-cls']);
    for (const t of tables) {
      expect(t.rows.map((r) => r.image)).toEqual(photos);
      for (const r of t.rows) expect(r.agree, `${t.modelId} ${r.image}: ${JSON.stringify(r.top1)}`).toBe(true);
    }
    const mobilenet = tables.find((t) => t.modelId === 'mobilenet-v2')!;
    expect(mobilenet.cells).toHaveLength(2);
    // Labels come from the manifest; the photos are not all seen alike (the pictures really differ per item).
    expect(mobilenet.rows[0]!.top1[0]!.label).toMatch(/^(Drawing|Hentai|Neutral|Porn|Sexy)$/);
    expect(new Set(mobilenet.rows.map((r) => r.top1[0]!.score.toFixed(3))).size).toBeGreaterThan(1);
    // And the outputs match the reference cell (parity is on the same photos for every cell).
    for (const c of okCells(run.result.cells)) if (c.parity) expect(c.parity.withinTolerance, c.cell.id).toBe(true);
  });
});

describe('text encoder: seq as a sweep dimension', () => {
  let run: DriverResult;
  beforeAll(async () => {
    run = await runInBrowser({
      distDir,
      softwareGpu: true,
      request: {
        models: ['text-encoder'],
        targets: ['ort:wasm', 'ort:webgpu'],
        batches: [1],
        // Two lengths far apart (the quadratic cost shows); each software-WebGPU cell costs ~6-11 s.
        dims: { seq: [16, 256] },
        sampling: { mode: 'fixed', samples: 5, warmup: 1, gpuBusyPasses: 0 },
      },
    });
  }, 300_000);

  it('makes one cell per seq value and backend, each with inputs of that length and parity against wasm', () => {
    const ids = run.result.cells.map((c) => c.cell.id).sort();
    expect(ids).toEqual([
      'text-encoder/ort:wasm@wasm/b1/t1/seq=16',
      'text-encoder/ort:wasm@wasm/b1/t1/seq=256',
      'text-encoder/ort:webgpu@webgpu/b1/t1/seq=16',
      'text-encoder/ort:webgpu@webgpu/b1/t1/seq=256',
    ]);
    const ok = okCells(run.result.cells);
    expect(ok).toHaveLength(4);
    for (const c of ok) {
      expect(c.inputs.map((i) => i.shape)).toEqual([
        [1, c.cell.dims.seq],
        [1, c.cell.dims.seq],
      ]);
      expect(c.preprocessParts).toBeNull();
      if (c.cell.backend === 'webgpu') {
        expect(c.parity?.referenceCellId).toBe(`text-encoder/ort:wasm@wasm/b1/t1/seq=${c.cell.dims.seq}`);
        expect(c.parity?.withinTolerance, `${c.cell.id}: ${JSON.stringify(c.parity)}`).toBe(true);
      }
    }
    // Attention is quadratic in seq: 256 tokens cost more than 16 on the CPU backend.
    const wasm = (n: number) =>
      ok.find((c) => c.cell.backend === 'wasm' && c.cell.dims.seq === n)!.summary.inference!.median;
    expect(wasm(256)).toBeGreaterThan(wasm(16));
  });
});

describe('the page sweeps seq and charts latency against it', () => {
  const lab = labForSuite();

  it('takes seq values in the dims editor and draws latency and throughput vs seq', async () => {
    const { page } = lab();
    await page.getByTestId('model').selectOption('text-encoder');
    const boxes = page.locator('fieldset', { hasText: 'Runtime : backend' }).locator('input[type=checkbox]');
    for (let i = 0; i < (await boxes.count()); i++) {
      const box = boxes.nth(i);
      if (await box.isDisabled()) continue;
      if (((await box.getAttribute('value')) === 'ort:wasm') !== (await box.isChecked())) await box.click();
    }
    await page.getByTestId('dim-seq').fill('16, 64, 256');
    await page.getByTestId('mode').selectOption('fixed');
    await page.getByTestId('samples').fill('5');
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor({ timeout: 30_000 });
    await page.getByTestId('progress').waitFor({ state: 'detached', timeout: 240_000 });
    await page.locator('canvas[aria-label="Latency vs seq"]').waitFor();
    await page.locator('canvas[aria-label="Throughput vs seq"]').waitFor();
    const rows = await page.locator('[data-testid=totals] tbody tr:not(.warn)').allTextContents();
    expect(rows.filter((r) => /seq=(16|64|256)/.test(r))).toHaveLength(3);
    await page.locator('canvas[aria-label="Latency vs seq"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(projectRoot, 'test-results', 'pipelines-seq-sweep.png'), fullPage: true });

    // The PNG export: 2x the canvas, an opaque background, and a title band above the chart.
    const cssWidth = await page
      .locator('canvas[aria-label="Latency vs seq"]')
      .evaluate((c) => c.getBoundingClientRect().width);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download Latency vs seq as PNG' }).click(),
    ]);
    const file = join(projectRoot, 'test-results', 'pipelines-latency-vs-seq-export.png');
    await download.saveAs(file);
    const png = readFileSync(file);
    expect(png.readUInt32BE(16)).toBe(Math.round(cssWidth * 2)); // IHDR width
    const corner = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = new OffscreenCanvas(img.width, img.height).getContext('2d')!;
      c.drawImage(img, 0, 0);
      return [...c.getImageData(2, 2, 1, 1).data];
    }, png.toString('base64'));
    expect(corner[3]).toBe(255);
  }, 300_000);

  it('shows the preprocess parts and the per-photo answers for an image model', async () => {
    const { page } = lab();
    await page.getByTestId('model').selectOption('ocr-cls');
    await page.getByTestId('dim-height').waitFor();
    await page.getByTestId('image-policy-x').waitFor();
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor({ timeout: 30_000 });
    await page.getByTestId('progress').waitFor({ state: 'detached', timeout: 240_000 });
    await page.getByTestId('pictures').waitFor();
    const answers = await page.getByTestId('predictions-ocr-cls').locator('tbody tr td:first-child').allTextContents();
    expect(answers).toEqual(photos);
    await page.getByTestId('pictures').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(projectRoot, 'test-results', 'pipelines-pictures.png'), fullPage: true });
  }, 300_000);
});

describe('runs that cannot work are refused before they start (issue 18)', () => {
  const lab = labForSuite();

  it('names every missing dim at once, greys out targets that cannot load the model, and runs the rest', async () => {
    const { page } = lab();
    // An own ONNX model with two free image dims and no defaults for them.
    const g = new OnnxGraph();
    g.addInput('x', ['batch', 3, 'h', 'w'], 1);
    g.node('Relu', ['x'], ['y']);
    g.addOutput('y', ['batch', 3, 'h', 'w']);
    await page.getByTestId('own-model-input').setInputFiles({
      name: 'free dims.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(g.encode('free_dims', 'test')),
    });
    await page.getByTestId('dim-h').waitFor();
    const box = (t: string) =>
      page.locator('fieldset', { hasText: 'Runtime : backend' }).locator(`input[value="${t}"]`);
    if (!(await box('ort:wasm').isChecked())) await box('ort:wasm').click();
    expect(await box('tfjs:wasm').isDisabled()).toBe(true);
    expect(await box('tfjs:wasm').locator('..').getAttribute('title')).toMatch(/tfjs can't load free-dims/);
    await page.getByTestId('mode').selectOption('fixed');
    await page.getByTestId('samples').fill('3');
    await page.getByTestId('run').click();
    const error = page.locator('p[role=alert]', { hasText: 'no value' });
    await error.waitFor();
    expect(await error.textContent()).toMatch(
      /symbolic dims with no value: h, w; give each a value in the dims editor/,
    );
    await page.getByTestId('dim-h').fill('8');
    await page.getByTestId('dim-w').fill('8');
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor({ timeout: 30_000 });
    await page.getByTestId('progress').waitFor({ state: 'detached', timeout: 120_000 });
    const rows = await page.locator('[data-testid=totals] tbody tr:not(.warn)').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes('ort:'))).toBe(true);
    expect(await page.locator('.notok li').count()).toBe(0);
  }, 180_000);

  it('runs a recurrent-style model at batch 1 and 4 once its state dim is marked as following the batch', async () => {
    const { page } = lab();
    const g = new OnnxGraph();
    g.addInput('x', ['batch', 4], 1);
    g.addInput('y', ['batch', 4], 1);
    g.addInput('state', [2, 'h', 8], 1);
    g.node('Add', ['x', 'y'], ['z']);
    g.node('Mul', ['state', 'state'], ['state_out']);
    g.addOutput('z', ['batch', 4]);
    g.addOutput('state_out', [2, 'h', 8]);
    await page.getByTestId('own-model-input').setInputFiles({
      name: 'recurrent.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(g.encode('recurrent', 'test')),
    });
    await page.getByTestId('follows-h').waitFor();
    expect(await page.getByTestId('follows-h').isChecked()).toBe(false); // 'h' is not a batch-like name: not guessed
    await page.getByTestId('follows-h').check();
    expect(await page.getByTestId('inputs-editor').textContent()).toMatch(/\[2, h \(batch\), 8\]/);
    await page.getByTestId('batches').fill('1, 4');
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor({ timeout: 30_000 });
    await page.getByTestId('progress').waitFor({ state: 'detached', timeout: 120_000 });
    const rows = await page.locator('[data-testid=totals] tbody tr:not(.warn)').allTextContents();
    expect(rows.filter((r) => /recurrent\/ort:wasm@wasm\/b(1|4)\/t1/.test(r))).toHaveLength(2);
    expect(await page.locator('.notok li').count()).toBe(0);

    // A reload brings back the setup behind the results on screen: the own model, its batch sizes, its tied dim.
    await page.reload();
    await page.waitForFunction(() => window.latencyLab !== undefined);
    await page.locator('[data-testid=totals]').waitFor();
    await page.getByTestId('follows-h').waitFor();
    expect(await page.getByTestId('model').inputValue()).toBe('recurrent');
    expect(await page.getByTestId('batches').inputValue()).toBe('1, 4');
    expect(await page.getByTestId('follows-h').isChecked()).toBe(true);
    expect(await page.getByTestId('mode').inputValue()).toBe('fixed');
  }, 180_000);
});

describe('an own ONNX image model by path, with --images DIR', () => {
  it('runs on the given pictures and shows the same stages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-images-'));
    const pictures = join(dir, 'pictures');
    mkdirSync(pictures);
    // Two of the bundled photos under other names: the CLI must read them from the folder, not the zoo.
    cpSync(join(distDir, 'models', 'images', 'chelsea.png'), join(pictures, 'cat.png'));
    cpSync(join(distDir, 'models', 'images', 'rocket.jpg'), join(pictures, 'launch.jpg'));
    const model = join(dir, 'classifier.onnx');
    cpSync(join(distDir, 'models', 'mobilenet-v2', 'model.onnx'), model);
    const out = join(dir, 'out');
    const stdout = execFileSync(
      process.execPath,
      [
        join(projectRoot, 'bin', 'latency-lab.js'),
        'run',
        '--models',
        model,
        '--images',
        pictures,
        '--targets',
        'ort:wasm',
        '--mode',
        'fixed',
        '--samples',
        '4',
        '--warmup',
        '1',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(stdout).toMatch(/preprocess from pictures/);
    expect(stdout).toMatch(/classifier top-1: cat\.png class \d, launch\.jpg class \d \(one cell\)/);
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    const [c] = okCells(result.cells);
    expect(c).toBeDefined();
    expectRealPreprocess(c!);
    expect(c!.predictions!.map((p) => p.image)).toEqual(['cat.png', 'launch.jpg']);
    const policy = c!.cell.inputOverrides.input_1?.values;
    expect(policy?.kind === 'image' && policy.images.map((i) => i.name)).toEqual(['cat.png', 'launch.jpg']);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/## Preprocess from pictures/);
  }, 300_000);
});

describe("a phone's width (390 x 844)", () => {
  it('never scrolls the page sideways: setup with a picture input, progress, results and charts', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.setViewportSize({ width: 390, height: 844 });
      const sideways = () =>
        page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      await page.getByTestId('model').selectOption('ocr-cls');
      await page.getByTestId('image-policy-x').waitFor();
      expect(await sideways()).toBeLessThanOrEqual(0);
      await page.getByTestId('mode').selectOption('fixed');
      await page.getByTestId('samples').fill('3');
      await page.getByTestId('run').click();
      await page.getByTestId('progress').waitFor({ timeout: 30_000 });
      expect(await sideways()).toBeLessThanOrEqual(0);
      await page.getByTestId('progress').waitFor({ state: 'detached', timeout: 120_000 });
      await page.locator('canvas[aria-label^="Median total"]').waitFor();
      expect(await sideways()).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(projectRoot, 'test-results', 'phone-390.png'), fullPage: true });
    } finally {
      await lab.close();
    }
  }, 180_000);
});
