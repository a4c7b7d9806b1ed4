/**
 * Model variants in the page: with no variant files given (as on the page, not the CLI), the page makes tiny-cnn's
 * int8 and fp16 files in its variant worker, the variant cells load them in their own workers, and each carries its
 * bytes (raw and gzip, smaller than fp32's) and its agreement with the fp32 cell (cosine, max abs diff, top-1 on the
 * bundled pictures). A tfjs cell of a variant is unsupported, with the reason. The CLI keeps the variant files it
 * made in its output folder, to be shipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, beforeAll } from 'vitest';
import { runInBrowser, type DriverResult } from '../../src/cli/driver.ts';
import { parseRunResult, type OkCellResult } from '../../src/lib/schema.ts';
import { distDir, projectRoot, requireDist } from './harness.ts';

describe('model variants made on the page', () => {
  let run: DriverResult;
  beforeAll(async () => {
    requireDist();
    run = await runInBrowser({
      distDir,
      request: {
        models: ['tiny-cnn'],
        targets: ['ort:wasm', 'tfjs:cpu'],
        variants: ['fp32', 'int8', 'fp16'],
        batches: [1],
        order: 'matrix',
        sampling: { mode: 'fixed', samples: 5, warmup: 2, cellTimeoutMs: 120_000 },
      },
    });
  }, 300_000);

  it('runs each variant cell with its bytes and its agreement with fp32', () => {
    const byId = new Map(run.result.cells.map((c) => [c.cell.id, c]));
    const fp32 = byId.get('tiny-cnn/ort:wasm@wasm/b1/t1') as OkCellResult;
    expect(fp32.status).toBe('ok');
    expect(fp32.agreement).toBeNull();
    expect(fp32.modelBytes!.compressed).toBeGreaterThan(0);
    for (const variant of ['int8', 'fp16'] as const) {
      const c = byId.get(`tiny-cnn/ort:wasm@wasm/b1/t1/${variant}`) as OkCellResult;
      expect(c.status, JSON.stringify(c)).toBe('ok');
      expect(c.cell.variant).toBe(variant);
      expect(c.modelBytes!.raw).toBeLessThan(fp32.modelBytes!.raw);
      expect(c.modelBytes!.compressed).toBeGreaterThan(0);
      const a = c.agreement!;
      expect(a.referenceCellId).toBe(fp32.cell.id);
      expect(a.outputs[0]!.cosine).toBeGreaterThan(0.99);
      expect(a.outputs[0]!.maxAbsDiff).toBeGreaterThan(0); // a different file: not the fp32 numbers exactly
      // Classifiers on pictures compare top-1 per picture; on synthesized inputs there is none to compare.
      const pictures = fp32.predictions?.length ?? 0;
      expect(a.top1).toEqual(pictures ? { agree: pictures, of: pictures } : null);
      expect(a.flagged).toBe(false);
    }
    const tfjs = byId.get('tiny-cnn/tfjs:cpu/b1/t1/int8')!;
    expect(tfjs.status).toBe('unsupported');
    expect(tfjs.status === 'unsupported' && tfjs.reason).toMatch(/made from ONNX files only/);
    expect(run.offOrigin).toEqual([]);
  });
});

describe('model variants from the CLI', () => {
  it('keeps each variant file it made in <out>/variants/, the bytes the variant cell loaded', () => {
    requireDist();
    const out = mkdtempSync(join(tmpdir(), 'lab-variant-out-'));
    try {
      const args = ['run', '--models', 'tiny-cnn', '--targets', 'ort:wasm', '--variants', 'int8'];
      const r = spawnSync(
        process.execPath,
        [join(projectRoot, 'bin', 'latency-lab.js'), ...args, '--samples', '5', '--warmup', '1', '--out', out],
        { encoding: 'utf8', cwd: projectRoot, timeout: 240_000, env: { ...process.env, CI: '1' } },
      );
      expect(r.status, r.stderr).toBe(0);
      const file = join(out, 'variants', 'tiny-cnn.int8.onnx');
      expect(existsSync(file), r.stdout).toBe(true);
      expect(r.stdout).toContain(`variant files: ${join(out, 'variants')}/`);
      const run = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
      const cell = run.cells[0] as OkCellResult;
      expect(cell.cell.variant).toBe('int8');
      expect(cell.status, JSON.stringify(cell)).toBe('ok');
      expect(statSync(file).size).toBe(cell.modelBytes!.raw);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
