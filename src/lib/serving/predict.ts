/**
 * What the dispatcher predicts in virtual time for a point measured in real time, fed that point's own service
 * times as the dispatcher saw them (a batch's start to its result back on the page: the worker's pass and the
 * round trip to it): each batch size replays the times measured for it, in order (cycling), so the prediction
 * carries the real spread; a size the real run never formed takes the nearest measured size's time per request.
 * What the prediction leaves out is the rest of the harness: arrival timers firing late, the page's own work.
 */
import type { BatcherConfig } from '../schema/serving.ts';
import type { RequestRecord } from './dispatch.ts';
import { simulate } from './simulate.ts';
import { extent, quantile, sortSamples } from '../measure/stats.ts';

/** A serving point's latencies as the simulator predicts them from measured service times (not a class label). */
export interface LatencyPrediction {
  p50: number;
  p99: number;
  achievedRps: number;
}

/** Each batch's service time once (a batch's requests share its worker and start), by batch size, in start order. */
function serviceBySize(records: readonly RequestRecord[]): Map<number, number[]> {
  const seen = new Set<string>();
  const out = new Map<number, number[]>();
  for (const r of [...records].sort((a, b) => a.startMs - b.startMs)) {
    const key = `${r.worker}:${r.startMs}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const xs = out.get(r.batchSize) ?? [];
    xs.push(r.endMs - r.startMs);
    out.set(r.batchSize, xs);
  }
  return out;
}

export function predictPoint(
  arrivals: readonly number[],
  batcher: BatcherConfig,
  workers: number,
  measured: readonly RequestRecord[],
): LatencyPrediction | null {
  const bySize = serviceBySize(measured);
  if (!bySize.size || !arrivals.length) return null;
  const sizes = [...bySize.keys()];
  const next = new Map<number, number>();
  const service = (size: number) => {
    const xs = bySize.get(size);
    if (xs) {
      const i = next.get(size) ?? 0;
      next.set(size, i + 1);
      return xs[i % xs.length]!;
    }
    const near = sizes.reduce((a, b) => (Math.abs(b - size) < Math.abs(a - size) ? b : a));
    return (quantile(sortSamples(bySize.get(near)!), 0.5) / near) * size;
  };
  const { records } = simulate(arrivals, batcher, workers, service);
  if (!records.length) return null;
  const latency = sortSamples(records.map((r) => r.endMs - r.arrivalMs));
  const [first] = extent(records.map((r) => r.arrivalMs));
  const [, last] = extent(records.map((r) => r.endMs));
  return {
    p50: quantile(latency, 0.5),
    p99: quantile(latency, 0.99),
    achievedRps: records.length > 1 ? (records.length / (last - first)) * 1000 : 0,
  };
}
