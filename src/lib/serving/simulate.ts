/**
 * Serving in virtual time: the one dispatcher (dispatch.ts) on a virtual clock, with each batch's service time
 * given. Deterministic: the batcher's tests run through it, and fed the service times a real run measured it
 * predicts that run's latency and throughput (the page shows the prediction beside each measured point).
 */
import type { BatcherConfig } from '../schema/serving.ts';
import { dispatch, type DispatchOutcome } from './dispatch.ts';
import { VirtualClock } from './virtual-clock.ts';

export type ServeOutcome = Omit<DispatchOutcome, 'failed' | 'lateness'>;

/** Service time of the k-th batch, of `size` requests, on worker `worker`. */
export type ServiceTime = (size: number, worker: number, k: number) => number;

export function simulate(
  arrivals: readonly number[],
  config: BatcherConfig,
  workers: number,
  service: ServiceTime,
): ServeOutcome {
  const clock = new VirtualClock();
  let outcome: DispatchOutcome | null = null;
  dispatch(
    arrivals,
    config,
    workers,
    clock,
    (size, worker, k, done) => {
      const ms = service(size, worker, k);
      clock.at(clock.now() + ms, () => done({ ok: true, ms }));
    },
    { onDone: (o) => (outcome = o) },
  );
  clock.run();
  if (!outcome) throw new Error('the simulation ended with requests still in the system');
  const { records, dropped, batches } = outcome as DispatchOutcome;
  return { records, dropped, batches };
}
