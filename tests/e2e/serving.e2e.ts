/**
 * The serving simulator end to end on a zoo model in headless Chromium (through the CLI): an offered-load sweep
 * with and without batching, capacity under a p99 budget, reports; bad settings refused before a browser starts;
 * a short monitor run with windows and memory readings.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunResult } from '../../src/lib/schema.ts';
import { labCli, openLab, requireDist } from './harness.ts';

const cli = (...args: string[]) => labCli(args);
const tmp = mkdtempSync(join(tmpdir(), 'lab-serve-'));

describe('latency-lab serve', () => {
  it('sweeps offered load with and without batching, finds capacity under a p99 budget, and writes reports', () => {
    requireDist();
    const out = join(tmp, 'sweep');
    const r = cli(
      'serve',
      '--model',
      'tiny-cnn',
      '--target',
      'ort:wasm',
      '--rates',
      '100,600',
      '--max-batch',
      '1,8',
      '--max-wait',
      '2',
      '--duration',
      '1.5',
      '--budget',
      '100',
      '--probes',
      '2',
      '--out',
      out,
      '--quiet',
    );
    expect(r.code, r.err).toBe(0);
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    const s = result.serving!;
    expect(s.points).toHaveLength(4);
    for (const p of s.points) {
      // Nothing is lost without a queue limit: every offered request completed.
      expect(p.completed + p.dropped).toBe(p.offered);
      expect(p.dropped).toBe(0);
      expect(p.offered).toBeGreaterThan(p.rate * 1.5 * 0.7);
      expect(p.latency.p99).toBeGreaterThanOrEqual(p.latency.p50);
      for (let i = 0; i < p.requests.arrival.length; i++) {
        expect(p.requests.ready[i]! - p.requests.arrival[i]!).toBeLessThanOrEqual(p.batcher.maxWaitMs + 1e-6);
        expect(p.requests.start[i]!).toBeGreaterThanOrEqual(p.requests.ready[i]! - 1e-6);
        expect(p.requests.end[i]!).toBeGreaterThan(p.requests.start[i]!);
        expect(p.requests.batch[i]!).toBeLessThanOrEqual(p.batcher.maxBatch);
      }
    }
    const single = s.points.filter((p) => p.batcher.maxBatch === 1);
    const batched = s.points.filter((p) => p.batcher.maxBatch === 8);
    // The simulator is the same dispatcher in virtual time: fed each point's service times as the page saw them, it
    // predicts the point's p50 within 5% + 3 ms, its p99 within the measured p99's 95% CI widened by 10% + 3 ms + how
    // late the page's arrival timers fired (the harness's own delay, which the simulator has none of), and its
    // throughput within 5%.
    for (const p of s.points) {
      const sim = p.predicted!;
      const where = `at ${p.rate}/${p.batcher.maxBatch}`;
      expect(sim, where).not.toBeNull();
      expect(Math.abs(p.latency.p50 - sim.p50), `p50 ${where}`).toBeLessThanOrEqual(0.05 * sim.p50 + 3);
      // A 1.5 s point's p99 is its 2nd or 3rd slowest request, known only within its own 95% CI (order statistics):
      // one late reply moves it by the whole delay. The prediction must fall inside that CI, widened by the allowance.
      const allow = 0.1 * sim.p99 + 3 + (p.schedulerLateP99 ?? 0);
      const [lo, hi] = p.p99CI ?? [p.latency.p99, p.latency.p99];
      const p99Where = `p99 ${where}: measured ${p.latency.p99} (CI ${lo}-${hi}), predicted ${sim.p99}`;
      expect(sim.p99, p99Where).toBeGreaterThanOrEqual(lo - allow);
      expect(sim.p99, p99Where).toBeLessThanOrEqual(hi + allow);
      expect(Math.abs(p.achievedRps / sim.achievedRps - 1)).toBeLessThanOrEqual(0.05);
    }
    expect(single.every((p) => p.meanBatch === 1)).toBe(true);
    // At 600 req/s batches form: more than one request per inference on average.
    expect(batched.find((p) => p.rate === 600)!.meanBatch).toBeGreaterThan(1);
    expect(s.serviceByBatch.find((b) => b.batch === 1)!.medianMs).toBeGreaterThan(0);
    expect(s.capacity).toHaveLength(2);
    for (const c of s.capacity) {
      expect(c.budgetMs).toBe(100);
      expect(c.probes.length).toBeGreaterThanOrEqual(2);
      // A capacity is only bracketed by rates that were run: a passing probe at it, a failing one above it.
      if (c.bound === 'bracketed') {
        expect(c.probes.some((p) => p.rate === c.bracket![0] && p.pass)).toBe(true);
        expect(c.probes.some((p) => p.rate === c.bracket![1] && !p.pass)).toBe(true);
      }
    }
    expect(r.out).toMatch(/no batching, 1 worker\s+100/);
    expect(r.out).toMatch(
      /capacity at p99 <= 100 ms: (at least [\d.]+ req\/s \(no failing rate found|[\d.]+ req\/s \(between [\d.]+, which passed, and [\d.]+, which failed|none)/,
    );
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<svg[^>]*aria-label="Latency against offered load/);
    expect(readFileSync(join(out, 'serving.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(readFileSync(join(out, 'requests.csv'), 'utf8').split('\n').length).toBeGreaterThan(500);
  }, 300_000);

  it('replays a recorded trace of arrivals instead of Poisson ones', () => {
    const file = join(tmp, 'trace.json');
    // A quiet start, then a burst of 40 requests 0.5 ms apart: the batcher should batch the burst.
    writeFileSync(file, JSON.stringify([0, 50, 100, 150, ...Array.from({ length: 40 }, (_, i) => 200 + i * 0.5)]));
    const out = join(tmp, 'trace');
    const r = cli(
      'serve',
      '--model',
      'tiny-cnn',
      '--trace',
      file,
      '--max-batch',
      '1,8',
      '--max-wait',
      '2',
      '--out',
      out,
      '--quiet',
    );
    expect(r.code, r.err).toBe(0);
    const s = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).serving!;
    expect(s.points).toHaveLength(2);
    for (const p of s.points) expect(p.offered).toBe(44);
    expect(s.points.find((p) => p.batcher.maxBatch === 8)!.meanBatch).toBeGreaterThan(1.5);
    expect(cli('serve', '--trace', join(tmp, 'missing.json')).err).toMatch(/--trace: '.*missing\.json' does not exist/);
  }, 120_000);

  it('refuses rates, batch sizes, waits or pool sizes out of range, naming the range (exit 2)', () => {
    expect(cli('serve', '--rates', '0').err).toMatch(/rates must be > 0 requests\/s/);
    const b = cli('serve', '--max-batch', '0');
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/maxBatch must be in 1\.\.1024/);
    expect(cli('serve', '--max-wait=-5').err).toMatch(/maxWaitMs must be in 0\.\.10000/);
    expect(cli('serve', '--workers', '99').err).toMatch(/workers must be in 1\.\.16/);
    expect(cli('serve', '--duration', '0.01').err).toMatch(/durationS must be in 0\.2\.\.600/);
  });
});

describe('latency-lab monitor', () => {
  it('runs at a steady cadence with windows, drift checks and memory readings', () => {
    const out = join(tmp, 'monitor');
    const r = cli(
      'monitor',
      '--model',
      'tiny-cnn',
      '--target',
      'ort:wasm',
      '--cadence',
      '50',
      '--minutes',
      '0.1',
      '--window',
      '2',
      '--out',
      out,
      '--quiet',
    );
    // 1 means a window was flagged (drift or throttling on a busy machine): still a complete report.
    expect([0, 1]).toContain(r.code);
    const m = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).serving!.monitor!;
    expect(m.samples.ms.length).toBeGreaterThan(80);
    expect(m.samples.ms.length).toBeLessThan(130);
    expect(m.windows.length).toBeGreaterThanOrEqual(2);
    // 6 s in 2 s windows: the second window is the baseline (the first carries warm-up).
    expect(m.windows[1]!.ratio).toBe(1);
    expect(m.windows.every((w) => w.jsHeapBytes !== null)).toBe(true);
    expect(r.code === 1).toBe(m.flags.length > 0);
    expect(r.out).toMatch(/Monitor: \d+ inferences/);
  }, 120_000);
});

describe('the page: serving runs', () => {
  it('a load sweep shows the simulator beside each point, is kept in the history, and is back after a reload', async () => {
    requireDist();
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.getByTestId('serve-run').waitFor();
      await page.getByTestId('serve-rates').fill('100');
      await page.getByTestId('serve-duration').fill('1');
      await page.getByTestId('serve-max-batch').fill('1');
      await page.getByTestId('serve-run').click();
      await page.getByTestId('serve-table').waitFor({ timeout: 120_000 });
      const table = (await page.getByTestId('serve-table').textContent())!;
      // The measured point and, beside it, what the same dispatcher predicts in virtual time from its service times.
      expect(table).toMatch(/p50 ms.*sim p50\/p99/);
      expect(table).toMatch(/no batching, 1 worker\s+100\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+ \/ [\d.]+/);
      const kept = page.getByTestId('history-serving');
      await kept.waitFor();
      expect(await kept.textContent()).toMatch(/serving · tiny-cnn on\s+ort:wasm · 1 load point/);
      await page.reload();
      await page.getByTestId('serve-table').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('serve-table').textContent()).toBe(table);
    } finally {
      await lab.close();
    }
  }, 180_000);
});
