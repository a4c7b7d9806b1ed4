/**
 * Every zoo model on every backend of the foundation (ORT wasm, tfjs cpu, tfjs wasm), through the same path as
 * the CLI: production build, isolation headers, headless Chromium, window.latencyLab.run().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInBrowser, type DriverResult } from '../../src/cli/driver.ts';
import { resolveShape } from '../../src/lib/models/inputs.ts';
import { parseRunResult, type OkCellResult } from '../../src/lib/schema.ts';
import { distDir, readDistManifest, requireDist } from './harness.ts';

/**
 * Models not run on tfjs:cpu here: MobileNetV2 on tfjs's plain-JS kernels took 73 of this file's 95 s. The nightly
 * suite runs it (tests/nightly/zoo-gpu.e2e.ts: every model on every backend).
 */
const NO_TFJS_CPU = new Set(['mobilenet-v2']);

describe('zoo on ort:wasm, tfjs:cpu, tfjs:wasm', () => {
  let run: DriverResult;
  const manifest = readDistManifest();
  const events: string[] = [];

  beforeAll(async () => {
    requireDist();
    const ids = manifest.models.map((m) => m.id);
    const plans = [
      { models: ids.filter((id) => !NO_TFJS_CPU.has(id)), targets: ['ort:wasm', 'tfjs:cpu', 'tfjs:wasm'] },
      { models: ids.filter((id) => NO_TFJS_CPU.has(id)), targets: ['ort:wasm', 'tfjs:wasm'] },
    ].filter((p) => p.models.length);
    const runs: DriverResult[] = [];
    for (const plan of plans)
      runs.push(
        await runInBrowser({
          distDir,
          request: {
            ...plan,
            batches: [1, 2],
            sampling: { mode: 'fixed', samples: 5, warmup: 1, cellTimeoutMs: 240_000 },
            skipMissingFormats: true,
          },
          onCellEvent: (_i, e) => {
            if (e.type === 'samples') for (const _ of e.samples) events.push('sample');
            else events.push(e.type);
          },
        }),
      );
    run = {
      ...runs[0]!,
      offOrigin: runs.flatMap((r) => r.offOrigin),
      result: { ...runs[0]!.result, cells: runs.flatMap((r) => r.result.cells) },
    };
  }, 600_000);
  afterAll(() => undefined);

  it('gives a schema-valid result with every cell ok', () => {
    expect(() => parseRunResult(JSON.parse(JSON.stringify(run.result)))).not.toThrow();
    const notOk = run.result.cells
      .filter((c) => c.status !== 'ok')
      .map((c) => `${c.cell.id}: ${JSON.stringify(c)}`.slice(0, 300));
    expect(notOk).toEqual([]);
    const ids = run.result.cells.map((c) => c.cell.id);
    for (const m of manifest.models) {
      expect(ids).toContain(`${m.id}/ort:wasm@wasm/b1/t1`);
      if (m.formats.some((f) => f.format === 'tfjs-layers')) {
        if (!NO_TFJS_CPU.has(m.id)) expect(ids).toContain(`${m.id}/tfjs:cpu/b2/t1`);
        expect(ids).toContain(`${m.id}/tfjs:wasm/b2/t1`);
      }
    }
  });

  it('streams samples to the page as they come', () => {
    expect(events.filter((e) => e === 'sample').length).toBe(run.result.cells.length * 5);
  });

  it('times every stage in the worker: positive inference and totals, folded stages named', () => {
    for (const c of run.result.cells as OkCellResult[]) {
      expect(c.samples).toHaveLength(5);
      for (const s of c.samples) {
        expect(s.inference).toBeGreaterThan(0);
        expect(s.total).toBeGreaterThanOrEqual(s.inference!);
        const parts = [s.preprocess, s.upload, s.inference, s.readback, s.postprocess].reduce<number>(
          (a, v) => a + (v ?? 0),
          0,
        );
        expect(s.total).toBeCloseTo(parts, 9);
      }
      for (const stage of ['upload', 'readback'] as const) {
        if (c.summary[stage] === null)
          expect(c.stageNotes.find((n) => n.stage === stage)?.includedIn).toBe('inference');
      }
      expect(c.coldStart.sessionCreateMs).toBeGreaterThan(0);
      expect(c.coldStart.firstInferenceMs).toBeGreaterThan(0);
      expect(c.coldStart.fetchedBytes).toBeGreaterThan(0);
      expect(c.timerResolutionMs).toBeGreaterThan(0);
    }
  });

  it('proves the backend that ran and runs cross-origin isolated', () => {
    expect(run.result.environment.crossOriginIsolated).toBe(true);
    expect(run.result.environment.timerResolutionMs).toBeLessThanOrEqual(0.02);
    for (const c of run.result.cells as OkCellResult[]) {
      expect(c.proof.backendInUse).toBe(c.cell.backend);
      expect(c.proof.runtime).toBe(c.cell.runtime);
      expect(c.proof.threads).toBe(1);
    }
  });

  it('returns outputs of the shape the manifest declares', () => {
    for (const c of run.result.cells as OkCellResult[]) {
      const model = manifest.models.find((m) => m.id === c.cell.modelId)!;
      const expected = model.outputs.map((o) =>
        resolveShape(o, model.batchDim, c.cell.batch, undefined, model.dimDefaults),
      );
      expect(c.outputs.map((o) => o.shape)).toEqual(expected);
      expect(c.outputs[0]!.nonFinite).toBe(0);
      expect(c.outputs[0]!.max!).toBeGreaterThan(c.outputs[0]!.min!); // not a constant or empty output
    }
  });

  it('agrees across runtimes within 1e-4 on the same inputs', () => {
    const compared = (run.result.cells as OkCellResult[]).filter((c) => c.parity);
    // every tfjs cell of a two-format model is compared with the ORT wasm reference
    expect(compared.length).toBe(run.result.cells.filter((c) => c.cell.runtime === 'tfjs').length);
    for (const c of compared) {
      expect(c.parity!.referenceCellId).toBe(`${c.cell.modelId}/ort:wasm@wasm/b${c.cell.batch}/t1`);
      expect(c.parity!.comparedValues).toBeGreaterThan(0);
      expect(c.parity!.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      expect(c.parity!.withinTolerance).toBe(true);
    }
  });

  it('sent no request outside the page origin', () => {
    expect(run.offOrigin).toEqual([]);
  });
});
