/**
 * Native reference cells (`latency-lab run --native`): onnxruntime-node beside the browser cells, fed the same input
 * bytes, outputs compared, and the browser tax per cell. Also: own models by path, a TF.js-only model (no native
 * reference, said why), and the usage errors when onnxruntime-node is missing or the browser is remote.
 */
import { cpSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLocalModels } from '../../src/cli/local-models.ts';
import { modelInputs } from '../../src/lib/models/manifest.ts';
import { okCells, parseRunResult, type OkCellResult } from '../../src/lib/schema.ts';
import { inputDigest } from '../../src/worker/cell-io.ts';
import { distDir, labCli, NIGHTLY, openLab, projectRoot, requireDist } from './harness.ts';

const cli = (args: string[], env: Record<string, string> = {}) => labCli(args, { env });

const tmp = mkdtempSync(join(tmpdir(), 'lab-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('latency-lab run --native', () => {
  it('runs a native reference beside each ONNX model, on the same input bytes, with outputs within 1e-4 and a tax per CPU cell', async () => {
    requireDist();
    // An own ONNX model by path (no --images: random inputs, the seeded synthesis on both sides) and an own TF.js-only
    // model; tiny-cnn itself takes the bundled pictures.
    const own = join(tmp, 'own-classifier.onnx');
    copyFileSync(join(distDir, 'models', 'tiny-cnn', 'model.onnx'), own);
    const tfjsOnly = join(tmp, 'tfjs-only');
    cpSync(join(distDir, 'models', 'tiny-cnn', 'tfjs'), tfjsOnly, { recursive: true });
    const out = join(tmp, 'run');
    const r = cli([
      'run',
      '--models',
      `tiny-cnn,${own},${tfjsOnly}`,
      '--targets',
      'ort:wasm,tfjs:wasm',
      '--native',
      '--samples',
      '20',
      '--warmup',
      '3',
      '--allow-unsupported',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    const ok = okCells(result.cells);
    const byId = (id: string) => ok.find((c) => c.cell.id === id) as OkCellResult;

    // One native cell per ONNX model; none for the TF.js-only one, and the plan says why.
    const natives = ok
      .filter((c) => c.cell.runtime === 'ort-node')
      .map((c) => c.cell.id)
      .sort();
    expect(natives).toEqual(['own-classifier/ort-node:cpu/b1/t1', 'tiny-cnn/ort-node:cpu/b1/t1']);
    expect(result.plan.nativeSkipped).toEqual([
      { modelId: 'tfjs-only', reason: expect.stringMatching(/onnxruntime-node runs ONNX files.*tfjs-(layers|graph)/) },
    ]);
    expect(r.out).toMatch(/tfjs-only: no native reference/);
    // Native cells interleave with the browser cells of the same work, in one live group.
    expect(result.plan.schedule).toBe('interleaved');

    // Every CPU browser cell of an ONNX model has its tax: same input bytes, outputs within 1e-4 of native.
    const taxed = ['tiny-cnn/ort:wasm@wasm/b1/t1', 'tiny-cnn/tfjs:wasm/b1/t1', 'own-classifier/ort:wasm@wasm/b1/t1'];
    for (const id of taxed) {
      const c = byId(id);
      expect(c, id).toBeDefined();
      expect(c.tax?.nativeCellId, id).toBe(id.replace(/^([^/]+)\/.*$/, '$1/ort-node:cpu/b1/t1'));
      expect(c.tax!.inputsMatch, id).toBe(true);
      expect(c.tax!.parity?.withinTolerance, id).toBe(true);
      expect(c.tax!.parity!.maxAbsDiff!, id).toBeLessThanOrEqual(1e-4);
      expect(c.tax!.ratio).toBeGreaterThan(0);
      expect(c.tax!.ci95[0]).toBeLessThanOrEqual(c.tax!.ratio);
      expect(c.tax!.ci95[1]).toBeGreaterThanOrEqual(c.tax!.ratio);
      expect(r.out).toContain(`${id}: `);
    }
    // Pictures: the native cell was fed what this browser's preprocessing made (decoded on the page), byte for byte.
    expect(byId('tiny-cnn/ort-node:cpu/b1/t1').inputDigest).toBe(byId('tiny-cnn/ort:wasm@wasm/b1/t1').inputDigest);
    // Random values: both digests are those of the seeded synthesis, computed here independently.
    const local = loadLocalModels([own], new Set()).models[0]!;
    const nativeOwn = byId('own-classifier/ort-node:cpu/b1/t1');
    const expected = await inputDigest(modelInputs(local, 1, nativeOwn.cell.inputSeed, nativeOwn.cell.inputOverrides));
    expect(nativeOwn.inputDigest).toBe(expected);

    // The native cell records its own environment.
    const d = nativeOwn.proof.details;
    expect(nativeOwn.proof.runtime).toBe('ort-node');
    expect(nativeOwn.proof.runtimeVersion).toBe('1.30.0');
    expect(d['executionProvider']).toBe('cpu');
    expect(d['intraOpNumThreads']).toBe(1);
    expect(String(d['cpu']).length).toBeGreaterThan(0);
    expect(String(d['os'])).toMatch(/linux|darwin|windows/i);
    expect(r.out).toMatch(/browser tax \(model work per pass/);
    expect(r.out).toMatch(/native: onnxruntime-node 1\.30\.0, cpu EP/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(
      /## Browser tax \(against native onnxruntime-node\)[\s\S]*\| tiny-cnn\/tfjs:wasm\/b1\/t1 \| tiny-cnn\/ort-node:cpu\/b1\/t1 \|/,
    );
    expect(md).toMatch(/\| tfjs-only \| none \|/);
    expect(readFileSync(join(out, 'summary.csv'), 'utf8').split('\n')[0]).toContain('browser_tax');
  });

  // The tax once went missing from auto-mode runs (the page's end-of-run arithmetic outlasted the CLI's liveness
  // check); a run of several invocations a side must carry it in every output, whatever the seed.
  const autoRun = (seed: number) => {
    const out = join(tmp, `auto-${seed}`);
    const r = cli([
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm',
      '--native',
      '--values',
      'input=random',
      '--max-time',
      '3',
      '--min-warmup',
      '0.5',
      '--seed',
      String(seed),
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    const browser = okCells(result.cells).find((c) => c.cell.runtime === 'ort')!;
    const native = okCells(result.cells).find((c) => c.cell.runtime === 'ort-node')!;
    expect(browser.invocations.length).toBeGreaterThanOrEqual(3);
    expect(native.invocations.length).toBeGreaterThanOrEqual(3);
    const t = browser.tax!;
    expect(t, 'browser cell has a tax').toBeTruthy();
    expect(t.method).toBe('paired');
    // Invocation k of each ran in round k; auto mode may give one cell more rounds than the other.
    expect(t.pairs).toBe(Math.min(browser.invocations.length, native.invocations.length));
    expect(t.ci95[0]).toBeLessThanOrEqual(t.ratio);
    expect(t.ci95[1]).toBeGreaterThanOrEqual(t.ratio);
    expect(t.ratio).toBeGreaterThan(0.5);
    expect(t.inputsMatch).toBe(true);
    const row = r.out.split('\n').find((l) => l.startsWith('tiny-cnn/ort:wasm'))!;
    expect(row).toContain(`${t.ratio.toFixed(2)}x`);
    expect(r.out).toContain(
      `tiny-cnn/ort:wasm@wasm/b1/t1: ${t.ratio.toFixed(2)}x (${t.ci95[0].toFixed(2)}-${t.ci95[1].toFixed(2)})`,
    );
    expect(r.out).not.toMatch(/no browser cell on a CPU backend has a native reference/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain(`| ${t.ratio.toFixed(2)}x | ${t.ci95[0].toFixed(2)}–${t.ci95[1].toFixed(2)} |`);
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').split('\n');
    const head = csv[0]!.split(',');
    const line = csv.find((l) => l.split(',')[head.indexOf('cell')] === browser.cell.id)!;
    const col = head.indexOf('browser_tax');
    expect(Number(line.split(',')[col])).toBeCloseTo(t.ratio, 6);
  };
  const autoTitle = 'the tax, paired over invocations, in results.json, the table, report.md and summary.csv';
  it(`auto mode, seed 11: ${autoTitle}`, () => autoRun(11), 180_000);
  // Another draw of the cell order and rounds (~30 s): nightly.
  it.runIf(NIGHTLY)(`(nightly) auto mode, seed 12: ${autoTitle}`, () => autoRun(12), 180_000);

  it("the page shows an imported native result: the tax list per cell; ort-node:cpu is listed as the CLI's own", async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.getByTestId('import-input').setInputFiles(join(tmp, 'run', 'results.json'));
      await page.getByTestId('tax-list').waitFor({ timeout: 20_000 });
      const items = await page.getByTestId('tax-list').locator('li').allTextContents();
      expect(items).toHaveLength(3);
      expect(items.join('\n')).toMatch(
        /tiny-cnn\/tfjs:wasm\/b1\/t1 is \d+\.\d\d× slower than tiny-cnn\/ort-node:cpu\/b1\/t1 \(95% CI [\d.]+–[\d.]+;.*same input bytes, outputs agree\)/,
      );
      // The native target is listed but can't be picked in a browser, and says where it runs.
      // (once the page's backend probe is in: until then no target is greyed out)
      const native = page.locator('label.check.unavailable', { hasText: 'ort-node:cpu' });
      await native.waitFor({ timeout: 20_000 });
      expect(await native.locator('input').isDisabled()).toBe(true);
      expect(await native.getAttribute('title')).toMatch(/latency-lab run --native/);
      await page.getByTestId('tax-list').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(projectRoot, 'test-results', 'native-import.png'), fullPage: true });
      expect(lab.offOrigin).toEqual([]);
    } finally {
      await lab.close();
    }
  }, 60_000);

  it('is a usage error (exit 2, before any browser) when onnxruntime-node does not load, naming the fix', () => {
    const r = cli(['run', '--models', 'tiny-cnn', '--targets', 'ort:wasm', '--native', '--samples', '5'], {
      LATENCY_LAB_NATIVE_MODULE: 'onnxruntime-node-not-installed',
    });
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/--native: .*onnxruntime-node.*did not load/);
    expect(r.err).toMatch(/npm install .*onnxruntime-node@1\.30\.0/);
  });

  it('is a usage error with a remote browser: there is no same-machine reference', () => {
    const r = cli(['run', '--models', 'tiny-cnn', '--native', '--connect', 'ws://127.0.0.1:9/x']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--native .* same-machine/);
  });
});
