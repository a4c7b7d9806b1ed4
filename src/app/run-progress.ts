/**
 * A run's progress as the page shows it: one entry per plan cell, fed by the runner's events. Sample events arrive
 * fast; the page redraws at most 4 times a second (`onFlush`) so its own work disturbs the measurement (on the cores
 * the workers share) as little as possible.
 */
import type { CellEvent } from '../lib/contracts/job.ts';
import type { CellResult, Plan } from '../lib/schema.ts';

export interface CellProgress {
  id: string;
  phase: string;
  samples: number;
  max: number;
  status: CellResult['status'] | 'waiting' | 'running';
  /** performance.now() when the cell started in this session, and how long it took once done (for the ETA). */
  startedAt: number | null;
  ms: number | null;
}

export interface Progress {
  cellCount: number;
  cellsDone: number;
  startedAt: number;
  cells: CellProgress[];
  /** Index of the cell that reported last (interleaved runs have several live cells). */
  current: number;
}

/** The sampling cell's totals, for the live chart. */
export interface LiveTotals {
  id: string;
  totals: number[];
}

const FLUSH_MS = 250;
/** The live chart shows this many of the latest totals. */
const LIVE_KEEP = 300;

export class ProgressTracker {
  private readonly cells: CellProgress[];
  private progress: Progress;
  private liveTotals: number[] = [];
  private liveId = '';
  private dirty = false;
  private readonly timer: ReturnType<typeof setInterval>;

  /** `done`: the cells that finished before (a resume); `onFlush` gets each redraw's copies. */
  constructor(
    plan: Plan,
    done: readonly CellResult[],
    private readonly onFlush: (progress: Progress, live: LiveTotals) => void,
  ) {
    const max = plan.sampling.mode === 'fixed' ? plan.sampling.samples : plan.sampling.maxSamples;
    this.cells = plan.cells.map((c) => {
      const before = done.find((x) => x.cell.id === c.id);
      return {
        id: c.id,
        phase: before ? 'done earlier' : 'waiting',
        samples: before?.status === 'ok' ? before.samples.length : 0,
        max,
        status: before?.status ?? 'waiting',
        startedAt: null,
        ms: null,
      };
    });
    this.progress = {
      cellCount: plan.cells.length,
      cellsDone: done.length,
      startedAt: performance.now(),
      cells: this.copy(),
      current: 0,
    };
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.flush(true);
  }

  cellStarted(i: number): void {
    const c = this.cells[i]!;
    c.status = 'running';
    c.phase = 'starting';
    c.startedAt = performance.now();
    this.progress.current = i;
    this.dirty = true;
  }

  cellEvent(i: number, e: CellEvent): void {
    const c = this.cells[i]!;
    if (e.type === 'phase') c.phase = e.phase;
    else {
      c.samples = e.from + e.samples.length;
      if (this.liveId !== c.id) {
        this.liveId = c.id;
        this.liveTotals = [];
      }
      for (const s of e.samples) this.liveTotals.push(s.total);
    }
    this.progress.current = i;
    this.dirty = true;
  }

  /** A cell finished: shown at once (not at the next redraw), with how many cells are done now. */
  cellDone(i: number, r: CellResult, cellsDone: number): void {
    const c = this.cells[i]!;
    c.status = r.status;
    c.phase = r.status;
    c.ms = c.startedAt === null ? null : performance.now() - c.startedAt;
    this.progress.cellsDone = cellsDone;
    this.flush(true);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private flush(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    this.progress = { ...this.progress, cells: this.copy() };
    this.onFlush(this.progress, { id: this.liveId, totals: this.liveTotals.slice(-LIVE_KEEP) });
  }

  private copy(): CellProgress[] {
    return this.cells.map((c) => ({ ...c }));
  }
}
