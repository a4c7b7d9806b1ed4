/**
 * Nightly: every zoo model, MobileNetV2 included, on every backend, LiteRT.js's too (minutes on a software GPU).
 *   npm run test:nightly
 */
import { describe, expect, it } from 'vitest';
import { runInBrowser } from '../../src/cli/driver.ts';
import { predictionTables } from '../../src/lib/report/predictions.ts';
import { okCells } from '../../src/lib/schema.ts';
import { distDir, readDistManifest, requireDist } from '../e2e/harness.ts';

describe('nightly: the whole zoo on every backend', () => {
  it('ends every cell ok or unsupported with a reason, and agrees across backends', async () => {
    requireDist();
    const { result, offOrigin } = await runInBrowser({
      distDir,
      softwareGpu: true,
      request: {
        models: readDistManifest().models.map((m) => m.id),
        targets: [
          'ort:wasm',
          'ort:webgl',
          'ort:webgpu',
          'ort:webnn',
          'tfjs:cpu',
          'tfjs:wasm',
          'tfjs:webgl',
          'tfjs:webgpu',
          'litert:wasm',
          'litert:webgpu',
        ],
        batches: [1],
        threads: [1, 2],
        sampling: { mode: 'fixed', samples: 3, warmup: 1, cellTimeoutMs: 600_000, gpuBusyPasses: 1 },
        skipMissingFormats: true,
      },
    });
    expect(result.cells.filter((c) => c.status !== 'ok' && c.status !== 'unsupported').map((c) => c.cell.id)).toEqual(
      [],
    );
    for (const c of result.cells)
      if (c.status === 'ok' && c.parity) expect(c.parity.withinTolerance, c.cell.id).toBe(true);
    // Every backend names the same top-1 class for each bundled photo (issue 17's done-when, on all backends).
    const tables = predictionTables(okCells(result.cells));
    expect(tables.map((t) => t.modelId).sort()).toEqual(['mobilenet-v2', 'ocr-cls', 'tiny-cnn']);
    for (const t of tables)
      for (const r of t.rows) expect(r.agree, `${t.modelId} ${r.image}: ${JSON.stringify(r.top1)}`).toBe(true);
    // LiteRT.js on every backend, for every model with a .tflite file (issue 28).
    const tflite = readDistManifest().models.filter((m) => m.formats.some((f) => f.format === 'tflite'));
    for (const m of tflite)
      for (const id of [`${m.id}/litert:wasm/b1/t1`, `${m.id}/litert:wasm/b1/t2`, `${m.id}/litert:webgpu/b1/t1`])
        expect(result.cells.find((c) => c.cell.id === id)?.status, id).toBe('ok');
    expect(offOrigin).toEqual([]);
  }, 1_800_000);
});
