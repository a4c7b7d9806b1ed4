/**
 * Soak: does the lab hold its memory over long runs? Measured and printed, not asserted (issue 14: numbers for the
 * closing note, not timed tests). Two runs in one headless page, with gc exposed so readings aren't GC timing:
 *  1. one tfjs:wasm cell for 10,000 samples: the tensor count before/after and per sample (tfjs's own count), and
 *     the page's JS heap before and after;
 *  2. a 100-cell matrix (a fresh worker per cell): the page's JS heap after every cell, and the whole page's memory
 *     (measureUserAgentSpecificMemory: page and live workers) at the start and end.
 *
 *   npm run soak [-- --samples 10000 --cells 100]
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { withLabPage } from '../src/cli/driver.ts';
import { okCells, parseRunResult } from '../src/lib/schema.ts';

const { values: v } = parseArgs({
  options: { samples: { type: 'string', default: '10000' }, cells: { type: 'string', default: '100' } },
});
const dist = resolve(join(import.meta.dirname, '..', 'dist'));
const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MB`;

const { value, offOrigin } = await withLabPage(
  { distDir: dist, extraFlags: ['--js-flags=--expose-gc'] },
  async () => undefined,
  async (page) => {
    // Page heap after a full GC: what the page keeps, not what it has yet to collect.
    const heap = () =>
      page.evaluate(() => {
        (globalThis as unknown as { gc?: () => void }).gc?.();
        return (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN;
      });
    const uaMemory = () =>
      page.evaluate(
        async () =>
          (
            (await (
              performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }
            ).measureUserAgentSpecificMemory?.()) ?? { bytes: NaN }
          ).bytes,
      );
    const random = { 'tiny-cnn': { input: { values: { kind: 'random' } } } };

    // 1. One tfjs cell, 10,000 samples of one pass each.
    const heap0 = await heap();
    const long = parseRunResult(
      await page.evaluate(
        `window.latencyLab.run(${JSON.stringify({ models: ['tiny-cnn'], targets: ['tfjs:wasm'], batches: [1], inputOverrides: random, sampling: { mode: 'fixed', samples: Number(v.samples), warmup: 20, iterations: 1, cellTimeoutMs: 3_600_000 } })})`,
      ),
    );
    const heap1 = await heap();
    const cell = okCells(long.cells)[0];
    if (!cell) throw new Error(`the long tfjs cell did not finish: ${JSON.stringify(long.cells[0]).slice(0, 300)}`);

    // 2. A matrix of `cells` cells: two targets x batch sizes 1..cells/2, fixed 10 samples each.
    const half = Math.ceil(Number(v.cells) / 2);
    const batches = Array.from({ length: half }, (_, i) => i + 1);
    const ua0 = await uaMemory();
    const heaps: number[] = [];
    await page.exposeFunction('__soakCellDone', async () => heaps.push(await heap()));
    const matrix = parseRunResult(
      await page.evaluate(
        `window.latencyLab.run(${JSON.stringify({ models: ['tiny-cnn'], targets: ['ort:wasm', 'tfjs:wasm'], batches, inputOverrides: random, order: 'matrix', sampling: { mode: 'fixed', samples: 10, warmup: 2 } })}, { onCellDone: () => window.__soakCellDone() })`,
      ),
    );
    const ua1 = await uaMemory();
    return {
      heap0,
      heap1,
      cell,
      heaps,
      ua0,
      ua1,
      matrixOk: okCells(matrix.cells).length,
      matrixCells: matrix.cells.length,
    };
  },
);
if (offOrigin.length) throw new Error(`requests left the origin: ${offOrigin.join(', ')}`);

const { heap0, heap1, cell, heaps, ua0, ua1 } = value;
const m = cell.memory;
console.log(`\n1. ${cell.cell.id}: ${cell.samples.length} samples in ${(cell.durationMs / 1000).toFixed(1)} s`);
console.log(
  `   tfjs tensors: ${m.tfjsTensorsBefore} before the model, ${m.tfjsTensorsAfter} after it was disposed; ${m.tfjsTensorsPerSampleLeak ?? 'n/a'} per pass during sampling; leak flagged: ${m.leak}`,
);
console.log(
  `   page JS heap (after gc): ${mb(heap0)} before, ${mb(heap1)} after (${heap1 >= heap0 ? '+' : ''}${mb(heap1 - heap0)})`,
);
const at = (i: number) => heaps[Math.min(heaps.length - 1, i)] ?? NaN;
console.log(`\n2. ${value.matrixCells} cells (${value.matrixOk} ok), a fresh worker each`);
console.log(
  `   page JS heap (after gc) after cell 1 / 25 / 50 / 75 / last: ${[0, 24, 49, 74, heaps.length - 1].map((i) => mb(at(i))).join(' / ')}`,
);
console.log(
  `   first half mean ${mb(heaps.slice(0, heaps.length >> 1).reduce((a, b) => a + b, 0) / (heaps.length >> 1))}, second half mean ${mb(heaps.slice(heaps.length >> 1).reduce((a, b) => a + b, 0) / (heaps.length - (heaps.length >> 1)))}`,
);
console.log(`   whole page (measureUserAgentSpecificMemory): ${mb(ua0)} before the matrix, ${mb(ua1)} after`);
