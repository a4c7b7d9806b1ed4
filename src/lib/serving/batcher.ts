/**
 * The dynamic batcher as a pure state machine: requests queue up; a batch closes when it holds `maxBatch`
 * requests or its oldest request has waited `maxWaitMs`, whichever comes first; a closed batch goes to the first
 * free worker. Order is kept (FIFO). A queue limit drops requests by the stated policy, and every drop is counted.
 * Time is passed in, never read: the same code runs under real timers (the page) and in virtual time (tests).
 */
import type { BatcherConfig } from '../schema/serving.ts';

export interface Request {
  id: number;
  arrivalMs: number;
}

export interface Batch {
  requests: Request[];
  /**
   * When the batch could first have gone: its maxBatch-th request arrived (full), or its oldest request had
   * waited maxWaitMs. arrival -> ready is batch formation; ready -> start is queueing for a worker.
   */
  readyMs: number;
  why: 'full' | 'max-wait';
}

/**
 * Batches form when a worker asks for work (`take`), as serving systems do: up to maxBatch requests in arrival
 * order, once there are maxBatch of them or the oldest has waited maxWaitMs.
 */
export class DynamicBatcher {
  private readonly queue: Request[] = [];
  readonly dropped: Request[] = [];

  constructor(readonly config: BatcherConfig) {}

  get waiting(): number {
    return this.queue.length;
  }

  /** A request arrives; past the queue limit the drop policy picks who is dropped (and counted). */
  arrive(req: Request): void {
    if (this.config.queueLimit !== null && this.queue.length >= this.config.queueLimit) {
      if (this.config.dropPolicy === 'reject-new') {
        this.dropped.push(req);
        return;
      }
      this.dropped.push(this.queue.shift()!);
    }
    // Kept in arrival order: two arrival timers a few microseconds apart can fire in either order, and a later
    // request at the head would set the deadline and let the earlier one wait past max wait.
    let at = this.queue.length;
    while (at > 0 && this.queue[at - 1]!.arrivalMs > req.arrivalMs) at--;
    this.queue.splice(at, 0, req);
  }

  /** A worker is free at `now`: the batch it should run, or null when none is due yet. */
  take(now: number): Batch | null {
    const { maxBatch, maxWaitMs } = this.config;
    if (this.queue.length >= maxBatch) {
      const requests = this.queue.splice(0, maxBatch);
      // Ready when it filled up, or when its oldest request reached max wait, whichever came first.
      return {
        requests,
        readyMs: Math.min(now, requests[maxBatch - 1]!.arrivalMs, requests[0]!.arrivalMs + maxWaitMs),
        why: 'full',
      };
    }
    // Compared as the deadline is computed (arrival + wait), so float rounding cannot leave it due yet not taken.
    if (this.queue.length && now >= this.queue[0]!.arrivalMs + maxWaitMs) {
      const requests = this.queue.splice(0, maxBatch);
      return { requests, readyMs: Math.min(now, requests[0]!.arrivalMs + maxWaitMs), why: 'max-wait' };
    }
    return null;
  }

  /** When the oldest waiting request reaches maxWait (a free worker should ask again then), or null. */
  nextDeadline(): number | null {
    return this.queue.length ? this.queue[0]!.arrivalMs + this.config.maxWaitMs : null;
  }
}
