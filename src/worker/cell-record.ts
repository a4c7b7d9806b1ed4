/**
 * What a cell has measured so far, shared by its parts (load, sample, finish): when it started, its cold start and
 * its samples. A step that ends the cell ends it here, so the result keeps everything measured before the end.
 */
import type { CellOutcome } from '../lib/contracts/job.ts';
import { errorMessage } from '../lib/errors.ts';
import { failedCell, type Cell, type ColdStart, type FailedCellResult, type Sample } from '../lib/schema.ts';

/** A step that ended the cell: its outcome (unsupported or failed), with what was measured so far. */
export type Ended = { ok: false; outcome: CellOutcome };

export class CellRecord {
  readonly startedAt = new Date().toISOString();
  private readonly t0 = performance.now();
  /** Filled in as the cold start goes (load), then warm-up's count and time (sample). */
  readonly cold: Partial<ColdStart> = {};
  readonly samples: Sample[] = [];

  /** `hint`: what to add to a failure inside the runtime (the inputs that ran on random settings, if any). */
  constructor(
    private readonly cell: Cell,
    private readonly hint: () => string = () => '',
  ) {}

  common() {
    return { cell: this.cell, startedAt: this.startedAt, durationMs: performance.now() - this.t0 };
  }

  failed(phase: FailedCellResult['phase'], e: unknown): Ended {
    const coldStart = Object.keys(this.cold).length ? this.cold : null;
    // A failure inside the runtime (first pass or later) names the inputs that ran on random settings, if any.
    const inRuntime = phase === 'warmup' || phase === 'sampling';
    const result = failedCell(this.cell, phase, errorMessage(e) + (inRuntime ? this.hint() : ''), {
      ...this.common(),
      coldStart,
      samples: this.samples,
    });
    return { ok: false, outcome: { result, parity: [] } };
  }

  unsupported(reason: string): Ended {
    return { ok: false, outcome: { result: { status: 'unsupported', ...this.common(), reason }, parity: [] } };
  }
}
