/**
 * One cell's invocations as the run drives them: what the cell has so far (each invocation's result and facts,
 * the time spent, why it ended), one invocation's worker while it is live, and the merge into the cell's result.
 * The decisions (how many invocations, each one's time) are src/lib/measure/invocation-plan.ts; the merge
 * is src/lib/measure/invocation-merge.ts. Each invocation is a fresh worker: a fresh start of the runtime.
 */
import type { CellOutcome, WarmupDone } from '../lib/contracts/job.ts';
import type { ParityData } from '../lib/report/parity.ts';
import { invocationFacts, mergeInvocations } from '../lib/measure/invocation-merge.ts';
import { InvocationPlanner } from '../lib/measure/invocation-plan.ts';
import type { InvocationFacts } from '../lib/measure/invocations.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import { SamplingController } from '../lib/measure/sampling.ts';
import type { Cell, OkCellResult, SamplingSettings } from '../lib/schema.ts';
import { cellReason } from '../lib/schema/cell-result.ts';
import type { CellDriver } from './worker-bridge.ts';

/** A cell of the run and its invocations so far. */
export class CellInvocations {
  readonly runs: OkCellResult[] = [];
  readonly warnings: string[] = [];
  /** The first invocation's kept outputs: parity and the tax compare these. */
  parity: ParityData[] = [];
  /** Sampling time of the invocations so far (their own, not other cells'). */
  spentMs = 0;
  /** Set when the cell can take no more invocations: its first failed (this is the cell's result) or a later one did. */
  ended: CellOutcome | null = null;
  private stopped = false;
  /** Its result was recorded (the run closes a cell once). */
  closed = false;
  readonly planner: InvocationPlanner;

  constructor(
    readonly index: number,
    readonly cell: Cell,
    readonly model: ModelInfo,
    sampling: SamplingSettings,
  ) {
    this.planner = new InvocationPlanner(sampling);
  }

  /** What the planner weighs: each invocation's level, own CI and costs (read off its result). */
  get facts(): InvocationFacts[] {
    return this.runs.map(invocationFacts);
  }

  /** Whether the cell takes another invocation now. */
  wantsAnother(): boolean {
    return !this.ended && !this.stopped && this.planner.wantsAnother(this.facts, this.spentMs);
  }

  /** The next invocation's sampling settings (its share of the cell's time). */
  nextSettings(): SamplingSettings {
    return this.planner.settingsFor(this.facts, this.spentMs);
  }

  /** An invocation's end: an ok result joins the others; a failure ends the cell (the first) or its invocations. */
  record(outcome: CellOutcome): void {
    const r = outcome.result;
    if (r.status === 'ok') {
      if (!this.runs.length) this.parity = outcome.parity;
      this.runs.push(r);
      this.spentMs += r.sampling.samplingMs;
      return;
    }
    if (!this.runs.length) {
      this.ended = outcome;
      return;
    }
    // What the earlier invocations measured stays; the cell says why it has fewer than planned.
    this.stopped = true;
    this.warnings.push(
      `invocation ${this.runs.length + 1} did not complete (${cellReason(r)}): the cell's numbers come from the ${this.runs.length} before it`,
    );
  }

  /** The cell's result: its invocations merged, or how its first one ended. */
  outcome(): CellOutcome | null {
    if (!this.runs.length) return this.ended;
    const end = {
      stopReason: this.planner.stopReason(this.facts, this.spentMs),
      neededMs: this.planner.neededMs(this.facts, this.spentMs),
      warnings: this.warnings,
    };
    return { result: mergeInvocations(this.runs, end), parity: this.parity };
  }
}

/** One invocation that is loaded and warm, taking sample blocks. */
export interface LiveInvocation {
  of: CellInvocations;
  driver: CellDriver;
  controller: SamplingController;
  warm: WarmupDone;
  /** Marks taken when the invocation started: the page's visibility (after warm-up), other measurements (at load). */
  marks: { visible: number; overlap: number };
}

/** A live invocation from its driver after warm-up. */
export function liveInvocation(
  of: CellInvocations,
  driver: CellDriver,
  settings: SamplingSettings,
  warm: WarmupDone,
  marks: LiveInvocation['marks'],
): LiveInvocation {
  const controller = new SamplingController(settings, { passes: warm.ownPasses, totalMs: warm.totalMs });
  return { of, driver, controller, warm, marks };
}
