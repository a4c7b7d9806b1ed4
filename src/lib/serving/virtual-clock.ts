/**
 * Virtual time for the dispatcher (dispatch.ts): events run in time order (at one instant, timed events before
 * `soon` ones, each in the order made), and time jumps from one event to the next.
 *
 * The events wait in a binary heap. A sorted array took an insertion (a copy of everything after it) for each event,
 * and a point sets every arrival's timer up front: each `soon` went in near the front, behind up to a million
 * arrivals, so a 300,000-request point took minutes. The heap pops in the same order, since its key (time, then
 * timed before `soon`, then the order made) is the sorted array's, and takes log n per event.
 */
import type { DispatchClock } from './dispatch.ts';

interface TimedEvent {
  t: number;
  /** 0 for a timed event, 1 for a `soon` one: at one instant the timed ones run first. */
  late: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Does `a` run before `b`? */
function before(a: TimedEvent, b: TimedEvent): boolean {
  if (a.t !== b.t) return a.t < b.t;
  if (a.late !== b.late) return a.late < b.late;
  return a.seq < b.seq;
}

export class VirtualClock implements DispatchClock {
  private t = 0;
  private seq = 0;
  private readonly heap: TimedEvent[] = [];

  now(): number {
    return this.t;
  }

  at(ms: number, fn: () => void): { cancel(): void } {
    const e = this.push(Math.max(ms, this.t), 0, fn);
    return { cancel: () => (e.cancelled = true) };
  }

  soon(fn: () => void): void {
    this.push(this.t, 1, fn);
  }

  /** Runs every event, the ones they add included, until none is left. */
  run(): void {
    for (let e = this.pop(); e; e = this.pop()) {
      if (e.cancelled) continue;
      this.t = e.t;
      e.fn();
    }
  }

  private push(t: number, late: number, fn: () => void): TimedEvent {
    const e: TimedEvent = { t, late, seq: this.seq++, fn, cancelled: false };
    const { heap } = this;
    // Sift up: the new event rises past every parent that runs after it.
    let i = heap.length;
    heap.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = e;
    return e;
  }

  private pop(): TimedEvent | undefined {
    const { heap } = this;
    const first = heap[0];
    const last = heap.pop();
    if (!first || !last || first === last) return first;
    // Sift down: the last event drops from the root past every child that runs before it.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return first;
  }
}
