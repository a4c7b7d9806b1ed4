/**
 * First visits (`latency-lab run --first-visit 4g`): fresh browsers under Chromium's network emulation, bytes counted
 * by the server as it sent them (compressed), a returning visit served from the HTTP cache; and the page's own cold
 * start telling what a cell fetched and its first result on this connection.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesPredictMs, NETWORK_PROFILES, totalSent } from '../../src/lib/schema/first-visit.ts';
import { networkCosts } from '../../src/lib/report/first-visit-report.ts';
import { okCells, parseRunResult } from '../../src/lib/schema.ts';
import { labCli, openLab, requireDist } from './harness.ts';

const cli = (args: string[]) => labCli(args, { timeoutMs: 400_000 });

const tmp = mkdtempSync(join(tmpdir(), 'lab-first-visit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('latency-lab run --first-visit', () => {
  it('measures first and returning visits, unthrottled and on 4g, with bytes as sent and the time the network added', () => {
    requireDist();
    const out = join(tmp, 'run');
    const r = cli([
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm,tfjs:wasm',
      '--mode',
      'fixed',
      '--samples',
      '10',
      '--warmup',
      '2',
      '--first-visit',
      '4g',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const run = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    const fv = run.firstVisits!;
    expect(fv.emulated).toBe(true);
    expect(fv.profiles.map((p) => p.name)).toEqual(['none', '4g']);
    const cells = okCells(run.cells).map((c) => c.cell.id);
    expect(cells.length).toBe(2);
    for (const cellId of cells) {
      const visits = fv.visits.filter((v) => v.cellId === cellId);
      expect(
        visits.map((v) => `${v.profile}/${v.visit}/${v.status}`),
        cellId,
      ).toEqual(['none/first/ok', 'none/returning/ok', '4g/first/ok', '4g/returning/ok']);
      for (const v of visits) {
        const p = v.parts!;
        // The first result is the sum of its parts, each measured.
        expect(v.firstResultMs!).toBeCloseTo(
          p.workerBootMs + p.runtimeInitMs + p.modelFetchMs + p.sessionCreateMs + p.firstInferenceMs,
          6,
        );
        expect(v.pageLoadMs!).toBeGreaterThan(0);
        expect(v.pageBytes.requests).toBeGreaterThan(0);
      }
      const first = visits.find((v) => v.profile === '4g' && v.visit === 'first')!;
      const returning = visits.find((v) => v.profile === '4g' && v.visit === 'returning')!;
      // The runtime's wasm went compressed (br) and the model as it is; the returning visit took both from the cache
      // (the hashed wasm and scripts without asking; the model after a 304).
      expect(first.bytes.wasm.requests, cellId).toBe(1);
      expect(first.bytes.wasm.sentBytes).toBeLessThan(first.bytes.wasm.bytes * 0.6);
      expect(first.bytes.model.sentBytes).toBe(first.bytes.model.bytes);
      expect(first.bytes.model.bytes).toBeGreaterThan(0);
      expect(totalSent(returning.bytes)).toBe(0);
      expect(returning.firstResultMs!).toBeLessThan(first.firstResultMs!);
    }
    // On 4g the first visit takes at least what its bytes take at 4g's throughput (emulation can't be faster), and
    // not much more than the bytes plus one round trip per request (slack for a busy machine).
    const costs = networkCosts(fv);
    expect(costs.length).toBe(2);
    for (const c of costs) {
      expect(c.predictedMs).toBeCloseTo(bytesPredictMs(c.sentBytes, '4g')!, 6);
      expect(c.addedMs, c.cellId).toBeGreaterThan(0.8 * c.predictedMs);
      expect(c.addedMs, c.cellId).toBeLessThan(c.predictedMs + c.requests * NETWORK_PROFILES['4g'].latencyMs + 3000);
    }
    expect(r.out).toMatch(/first visit \(network EMULATED by Chromium/);
    expect(r.out).toMatch(/on 4g: first result [\d.]+ s, [\d.]+ s more than unthrottled/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/## First visit: network emulated by Chromium/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(
      /<h2>First visit: network emulated by Chromium<\/h2>/,
    );
  }, 420_000);

  it('refuses unknown profiles, a CPU slowdown without first visits, and first visits on remote browsers (exit 2)', () => {
    const bad = cli(['run', '--models', 'tiny-cnn', '--targets', 'ort:wasm', '--first-visit', '5g']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown network profile '5g'.*4g/);
    const cpu = cli(['run', '--models', 'tiny-cnn', '--targets', 'ort:wasm', '--cpu-slowdown', '4']);
    expect(cpu.code).toBe(2);
    expect(cpu.err).toMatch(/--cpu-slowdown applies to first visits/);
    const remote = cli([
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm',
      '--first-visit',
      '4g',
      '--connect',
      'ws://127.0.0.1:1/x',
    ]);
    expect(remote.code).toBe(2);
    expect(remote.err).toMatch(/--first-visit launches fresh local browsers/);
  });
});

describe('the page: what a cell fetched, and its first result on this connection', () => {
  it('a run in a fresh page reports a first visit: bytes over the network, nothing cached, and the first result', async () => {
    requireDist();
    const lab = await openLab();
    try {
      const request = {
        models: ['tiny-cnn'],
        targets: ['ort:wasm'],
        batches: [1],
        sampling: { mode: 'fixed', samples: 5, warmup: 1 },
      };
      // Plain JS text (see src/cli/driver.ts for why).
      const run: unknown = await lab.page.evaluate(`window.latencyLab.run(${JSON.stringify(request)})`);
      const c = okCells(parseRunResult(run).cells)[0]!;
      const n = c.coldStart.network!;
      expect(n.requests).toBeGreaterThan(0);
      expect(n.fromCache).toBe(0);
      // The worker fetched at least the runtime's wasm and the model's bytes.
      expect(n.bytes).toBeGreaterThanOrEqual((c.coldStart.runtimeWasm?.bytes ?? 0) + c.coldStart.fetchedBytes);
      expect(c.coldStart.workerBootMs!).toBeGreaterThan(0);
      const cs = c.coldStart;
      expect(cs.firstResultMs!).toBeCloseTo(
        cs.workerBootMs! + cs.runtimeInitMs + cs.fetchMs + cs.sessionCreateMs + cs.firstInferenceMs,
        6,
      );
    } finally {
      await lab.close();
    }
  }, 120_000);
});
