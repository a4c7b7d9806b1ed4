import { describe, expect, it } from 'vitest';
import { BatcherConfig } from '../../src/lib/schema/serving.ts';
import { predictPoint } from '../../src/lib/serving/predict.ts';
import type { RequestRecord } from '../../src/lib/serving/dispatch.ts';
import { extent } from '../../src/lib/measure/stats.ts';
import { lineChartSvg } from '../../src/lib/report/svg-chart.ts';

// Spreading this many values into one Math.min call overflows Node 20's stack (it already does at 200,000).
const LARGE = 300_000;

describe('large points', () => {
  it('predicts a point of 300,000 requests (a trace may hold a million)', () => {
    // One request every 2 ms against a measured 1 ms service: no queue, so every latency is the service time and
    // the throughput is the arrival rate.
    const arrivals = Array.from({ length: LARGE }, (_, i) => i * 2);
    const measured: RequestRecord[] = [
      { id: 0, arrivalMs: 0, readyMs: 0, startMs: 0, endMs: 1, batchSize: 1, worker: 0, inferenceMs: 1 },
    ];
    const p = predictPoint(arrivals, BatcherConfig.parse({ maxBatch: 1, maxWaitMs: 0 }), 1, measured)!;
    expect(p.p50).toBe(1);
    expect(p.p99).toBe(1);
    // 300,000 requests from the first arrival (0 ms) to the last one's end (599,999 ms).
    expect(p.achievedRps).toBeCloseTo((LARGE / 599_999) * 1000, 9);
  });
  it('charts 300,000 points (a day of 0.5 s monitor windows is 172,800 a series)', () => {
    const points = Array.from({ length: LARGE }, (_, i) => ({ x: i / 2, y: 1 + (i % 7) }));
    const svg = lineChartSvg([{ label: 'p50 per window', points }], 'monitor', 'time, s', 'ms');
    // Every point drawn, the last window (149,999.5 s) among them.
    expect(svg.match(/<circle /g)).toHaveLength(LARGE);
    expect(svg).toContain('p50 per window: 149999.5 -&gt;');
  });
  it('extent: smallest and largest by a loop, the empty case as Math.min/Math.max give it', () => {
    expect(extent([3, -1, 7, 2])).toEqual([-1, 7]);
    expect(extent([])).toEqual([Math.min(), Math.max()]);
    const many = Array.from({ length: LARGE }, (_, i) => (i * 7919) % LARGE);
    expect(extent(many)).toEqual([0, LARGE - 1]);
  });
});
