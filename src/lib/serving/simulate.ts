/**
 * Serving in virtual time: arrivals, the dynamic batcher and a pool of workers whose service time per batch is
 * given. Deterministic: the batcher's tests run through it, and it predicts what the real-time runner measures.
 */
import { DynamicBatcher, type BatcherConfig } from './batcher.ts';

export interface RequestRecord {
  id: number;
  arrivalMs: number;
  /** arrival -> ready: waiting for the batch to fill (at most maxWait). */
  readyMs: number;
  /** ready -> start: waiting for a free worker. */
  startMs: number;
  endMs: number;
  batchSize: number;
  worker: number;
}

export interface BatchRecord {
  size: number;
  why: 'full' | 'max-wait';
  worker: number;
  startMs: number;
  endMs: number;
}

export interface ServeOutcome {
  records: RequestRecord[];
  dropped: number[];
  batches: BatchRecord[];
}

/** Service time of the k-th batch, of `size` requests, on worker `worker`. */
export type ServiceTime = (size: number, worker: number, k: number) => number;

export function simulate(
  arrivals: readonly number[],
  config: BatcherConfig,
  workers: number,
  service: ServiceTime,
): ServeOutcome {
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new RangeError(`workers must be in 1..64, got ${workers}`);
  const batcher = new DynamicBatcher(config);
  const freeAt = new Array<number>(workers).fill(-Infinity);
  const out: ServeOutcome = { records: [], dropped: [], batches: [] };
  let next = 0;
  let now = 0;
  for (;;) {
    while (next < arrivals.length && arrivals[next]! <= now) {
      batcher.arrive({ id: next, arrivalMs: arrivals[next]! });
      next++;
    }
    for (let w = 0; w < workers; w++) {
      if (freeAt[w]! > now) continue;
      const batch = batcher.take(now);
      if (!batch) break;
      const end = now + service(batch.requests.length, w, out.batches.length);
      freeAt[w] = end;
      out.batches.push({ size: batch.requests.length, why: batch.why, worker: w, startMs: now, endMs: end });
      // A request that joined after the batch was due was ready on arrival.
      for (const r of batch.requests)
        out.records.push({
          id: r.id,
          arrivalMs: r.arrivalMs,
          readyMs: Math.max(batch.readyMs, r.arrivalMs),
          startMs: now,
          endMs: end,
          batchSize: batch.requests.length,
          worker: w,
        });
    }
    const anyFree = freeAt.some((t) => t <= now);
    const events = [
      arrivals[next] ?? Infinity,
      anyFree ? (batcher.nextDeadline() ?? Infinity) : Infinity,
      ...(batcher.waiting ? freeAt.filter((t) => t > now) : []),
    ];
    const t = Math.min(...events);
    if (!Number.isFinite(t)) break;
    now = Math.max(now, t);
  }
  out.dropped = batcher.dropped.map((r) => r.id);
  out.records.sort((a, b) => a.id - b.id);
  return out;
}
