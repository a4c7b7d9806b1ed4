/**
 * The one serving dispatcher: open-loop arrivals into the dynamic batcher, each batch to the first free worker of a
 * pool, and a free worker waiting at most until the oldest request's max-wait deadline. The clock and the service
 * are injected: the page runs it on performance.now() with cell workers (src/app/serving.ts), the simulator on a
 * virtual clock with given service times (simulate.ts). Same code, so what the simulator predicts from measured
 * service times is what the runner would measure if service were the only cost.
 */
import { DynamicBatcher, type Batch } from './batcher.ts';
import type { BatcherConfig } from '../schema/serving.ts';

export interface DispatchClock {
  /** ms since the point started. */
  now(): number;
  /** Runs fn at time `ms` (at once if that has passed). */
  at(ms: number, fn: () => void): { cancel(): void };
  /** Runs fn once this instant's other events are handled (requests that arrive together batch together). */
  soon(fn: () => void): void;
}

export type ServiceDone = { ok: true; ms: number } | { ok: false; error: string };
/** Starts the k-th batch, of `size` requests, on worker `worker`; `done` is called when it ends. */
export type StartService = (size: number, worker: number, k: number, done: (result: ServiceDone) => void) => void;

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
  /** The batch's own service time, as the worker measured it. */
  inferenceMs: number;
}

export interface BatchRecord {
  size: number;
  why: 'full' | 'max-wait';
  worker: number;
  startMs: number;
  endMs: number;
}

export interface DispatchOutcome {
  records: RequestRecord[];
  /** Ids of requests the batcher's queue refused. */
  dropped: number[];
  batches: BatchRecord[];
  /** A batch whose service failed: its requests count as failed, never silently missing from the totals. */
  failed: { requests: number; errors: string[] };
  /** How late each arrival was handled against its schedule (the page's timers; 0 in virtual time). */
  lateness: number[];
}

/** The part of an AbortSignal the dispatcher uses (src/lib has no DOM types). */
export interface AbortLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
}

export interface DispatchOptions {
  signal?: AbortLike;
  onDone(outcome: DispatchOutcome): void;
}

export function dispatch(
  arrivals: readonly number[],
  config: BatcherConfig,
  workers: number,
  clock: DispatchClock,
  start: StartService,
  options: DispatchOptions,
): void {
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new RangeError(`workers must be in 1..64, got ${workers}`);
  new Dispatcher(arrivals, config, workers, clock, start, options).begin();
}

/** One load point's dispatch: arrivals, batches to free workers, deadlines, and the outcome once all is done. */
class Dispatcher {
  private readonly batcher: DynamicBatcher;
  private readonly busy: boolean[];
  private readonly out: DispatchOutcome = {
    records: [],
    dropped: [],
    batches: [],
    failed: { requests: 0, errors: [] },
    lateness: [],
  };
  private arrived = 0;
  private inFlight = 0;
  private finished = false;
  private deadline: { cancel(): void } | null = null;
  private arrivalTimers: { cancel(): void }[] = [];

  constructor(
    private readonly arrivals: readonly number[],
    config: BatcherConfig,
    private readonly workers: number,
    private readonly clock: DispatchClock,
    private readonly start: StartService,
    private readonly options: DispatchOptions,
  ) {
    this.batcher = new DynamicBatcher(config);
    this.busy = new Array<boolean>(workers).fill(false);
  }

  /** Every arrival's timer set up front (open loop: a late timer doesn't move later arrivals). */
  begin(): void {
    const { clock, options } = this;
    this.arrivalTimers = this.arrivals.map((a, i) => clock.at(a, () => this.arrive(i, a)));
    options.signal?.addEventListener(
      'abort',
      () => {
        this.arrivalTimers.forEach((t) => t.cancel());
        this.finishIfDone();
      },
      { once: true },
    );
    this.finishIfDone();
  }

  private arrive(i: number, a: number): void {
    if (this.options.signal?.aborted) return;
    const now = this.clock.now();
    this.out.lateness.push(now - a);
    // A timer may fire a little early: the request is then in the system from `now`, not later.
    this.batcher.arrive({ id: i, arrivalMs: Math.min(a, now) });
    this.arrived++;
    this.clock.soon(this.dispatchNow);
    this.finishIfDone();
  }

  /** Every free worker takes a batch that is due; a free worker then waits for the oldest request's deadline. */
  private readonly dispatchNow = (): void => {
    const { busy, batcher, clock } = this;
    for (let w = 0; w < this.workers; w++) if (!busy[w] && !this.run(w)) break;
    this.deadline?.cancel();
    this.deadline = null;
    const due = batcher.nextDeadline();
    if (due !== null && busy.some((b) => !b)) this.deadline = clock.at(due, this.dispatchNow);
  };

  /** Worker `w` takes the batch due now, if any. */
  private run(w: number): boolean {
    const now = this.clock.now();
    const batch = this.batcher.take(now);
    if (!batch) return false;
    this.busy[w] = true;
    this.inFlight++;
    const size = batch.requests.length;
    const k = this.out.batches.length;
    const record: BatchRecord = { size, why: batch.why, worker: w, startMs: now, endMs: now };
    this.out.batches.push(record);
    this.start(size, w, k, (result) => this.batchDone(batch, record, result));
    return true;
  }

  private batchDone(batch: Batch, record: BatchRecord, result: ServiceDone): void {
    const end = this.clock.now();
    const { worker: w, startMs, size } = record;
    record.endMs = end;
    this.busy[w] = false;
    this.inFlight--;
    if (result.ok) {
      // A request that joined after the batch was due was ready on arrival.
      for (const r of batch.requests)
        this.out.records.push({
          id: r.id,
          arrivalMs: r.arrivalMs,
          readyMs: Math.max(batch.readyMs, r.arrivalMs),
          startMs,
          endMs: end,
          batchSize: size,
          worker: w,
          inferenceMs: result.ms,
        });
    } else {
      this.out.failed.requests += size;
      if (this.out.failed.errors.length < 5) this.out.failed.errors.push(result.error);
    }
    this.clock.soon(this.dispatchNow);
    this.finishIfDone();
  }

  private finishIfDone(): void {
    const { arrived, arrivals, options, batcher, inFlight } = this;
    if (this.finished || !(arrived === arrivals.length || options.signal?.aborted) || batcher.waiting || inFlight)
      return;
    this.finished = true;
    this.arrivalTimers.forEach((t) => t.cancel());
    this.deadline?.cancel();
    this.out.dropped = batcher.dropped.map((r) => r.id);
    this.out.records.sort((a, b) => a.id - b.id);
    options.onDone(this.out);
  }
}
