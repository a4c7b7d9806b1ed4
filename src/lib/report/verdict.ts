/**
 * The verdict, "what to ship": per model, batch size (and swept dims) of one run (one device), the fastest configuration at steady
 * state that meets the budgets and whose outputs can be trusted, with its CI against the runner-up; what choosing it
 * costs on a first visit; and the configurations no other beats on both steady latency and bytes (the Pareto set).
 * Pure: the CLI, the reports and the page all read these objects. Words are in verdict-words.ts.
 *
 * Batch size is not chosen here: it is the app's given (a bigger batch does more work per pass), so a model run with
 * several batch sizes gets one verdict per size.
 */
import { budgetVerdict, formatBudget, matches, type BudgetRule } from '../plan/budget.ts';
import { compareCells, comparisonGroup, DEFAULT_THRESHOLD, pairedInRun, type Comparison } from '../measure/compare.ts';
import { measuredWhile } from '../measure/validity.ts';
import { type Cell, type OkCellResult, type RunResult } from '../schema.ts';
import type { FirstVisits } from '../schema/first-visit.ts';
import { findFormat, type Manifest } from '../models/manifest.ts';

export interface VerdictCandidate {
  id: string;
  result: OkCellResult;
  /** "ort:wasm (onnxruntime-web/wasm) · 2 threads · b1 · fp32": what ran, from the proof. */
  label: string;
  medianMs: number;
  ci95: [number, number] | null;
  /** Raw bytes an app downloads for it: the model file(s), the runtime's wasm (JS not counted). */
  bytes: { model: number | null; wasm: number | null; total: number | null; modelFrom: 'result' | 'manifest' | null };
}

export interface Excluded {
  id: string;
  why: string;
}

/** The time to first result (download, runtime start, session, first inference) under one network. */
export interface FirstResultOutcome {
  /** A network profile of `--first-visit`, or 'lab' for the cells' own cold starts on this machine (loopback). */
  profile: string;
  emulated: boolean;
  pickMs: number | null;
  /** The candidate with the quickest first result. */
  quickest: { id: string; ms: number } | null;
  /**
   * How many inferences the steady pick needs to make up its slower first result against `quickest` (null when the
   * pick is the quickest, or unknown); Infinity when it never does (no faster at steady state).
   */
  paysBackAfter: number | null;
}

export interface ModelVerdict {
  device: string | null;
  modelId: string;
  batch: number;
  /** The swept dims of its cells (seq=16 ...): one verdict per value, since each is other work. */
  dims?: Readonly<Record<string, number>>;
  /** Eligible cells, fastest median first. */
  candidates: VerdictCandidate[];
  pick: VerdictCandidate | null;
  runnerUp: VerdictCandidate | null;
  /** The runner-up against the pick (ratio runner-up / pick, total per pass); null with fewer than two candidates. */
  comparison: Comparison | null;
  /** Candidates the pick can't be told apart from at the threshold (their CI against it overlaps 1 ± threshold). */
  tiedWith: string[];
  excluded: Excluded[];
  /** Candidates no other beats on both median and total bytes, fewest bytes first. */
  pareto: string[];
  /** Candidates whose bytes are unknown (left out of the Pareto set). */
  bytesUnknown: string[];
  firstResult: FirstResultOutcome[];
  budgets: string[];
}

/** What a verdict reads of a run: its cells, and its device and first visits when it has them (the page's live run). */
export type VerdictRun = Pick<RunResult, 'cells'> & Partial<Pick<RunResult, 'device' | 'firstVisits'>>;

export interface VerdictOptions {
  rules?: readonly BudgetRule[];
  threshold?: number;
  /** The model file size the manifest knows, for cells whose result has no modelBytes. */
  manifestBytes?: (cell: Cell) => number | null;
}

/** The manifest's size of the file(s) a cell loads: its format's entry and weights; only for the model as given. */
export function manifestBytes(manifest: Manifest | null | undefined): (cell: Cell) => number | null {
  return (cell) => {
    const model = manifest?.models.find((m) => m.id === cell.modelId);
    const format = model && cell.format && cell.variant === 'fp32' ? findFormat(model, cell.format) : undefined;
    return format ? format.entry.bytes + format.weights.reduce((a, w) => a + w.bytes, 0) : null;
  };
}

/** What ran, in words: runtime:backend, the import (ORT build), threads and SIMD from the proof, batch, variant. */
export function configLabel(r: OkCellResult): string {
  const c = r.cell;
  const entry = r.proof.details['entry'];
  const target = `${c.runtime}:${r.proof.backendInUse}${typeof entry === 'string' ? ` (${entry})` : ''}`;
  const threads = `${r.proof.threads} thread${r.proof.threads === 1 ? '' : 's'}`;
  const dims = Object.entries(c.dims).map(([k, v]) => `${k}=${v}`);
  return [target, threads, `b${c.batch}`, c.variant, ...dims].join(' · ');
}

/** Why a cell can't be the pick, or null when it can. */
function whyNot(r: OkCellResult, rules: readonly BudgetRule[]): string | null {
  if (r.validity.softwareGpu) return 'software GPU: its times check correctness, not GPU speed';
  // Its times carry another measurement's load (src/app/overlap.ts): a pick from them could be the other's doing.
  if (r.validity.overlapped?.length) return `${measuredWhile(r.validity.overlapped)}: run it again alone to judge it`;
  if (r.parity && !r.parity.withinTolerance)
    return `outputs differ from ${r.parity.referenceCellId} (${r.parity.mismatch ?? `max |diff| ${r.parity.maxAbsDiff}`}, tolerance ${r.parity.tolerance})`;
  if (r.cell.variant !== 'fp32') {
    if (!r.agreement) return `${r.cell.variant} variant: its agreement with the fp32 model was not measured`;
    if (r.agreement.flagged)
      return `${r.cell.variant} variant disagrees with fp32: ${r.agreement.reason ?? `min cosine below ${r.agreement.minCosine}`}`;
  }
  for (const rule of rules) {
    if (!matches(rule, r.cell)) continue;
    const v = budgetVerdict(rule, r);
    if (!v) return `budget ${formatBudget(rule)} can't be judged (no separate ${rule.stage} stage)`;
    if (!v.pass) return `budget ${formatBudget(rule)} breached (${v.value.toPrecision(3)} ms)`;
  }
  return null;
}

function candidate(r: OkCellResult, sizeOf: (cell: Cell) => number | null): VerdictCandidate {
  const fromResult = r.modelBytes?.raw ?? null;
  const fromManifest = fromResult === null ? sizeOf(r.cell) : null;
  const model = fromResult ?? fromManifest;
  const wasm = r.coldStart.runtimeWasm?.bytes ?? (r.proof.details['wasmFile'] ? null : 0);
  return {
    id: r.cell.id,
    result: r,
    label: configLabel(r),
    medianMs: r.summary.total.median,
    ci95: r.summary.total.medianCI95,
    bytes: {
      model,
      wasm,
      total: model === null || wasm === null ? null : model + wasm,
      modelFrom: fromResult !== null ? 'result' : fromManifest !== null ? 'manifest' : null,
    },
  };
}

/** Candidates no other beats on both median and bytes (ties on both keep both), fewest bytes first. */
export function paretoSet(cands: readonly VerdictCandidate[]): string[] {
  const known = cands.filter((c) => c.bytes.total !== null);
  const beats = (a: VerdictCandidate, b: VerdictCandidate) =>
    a.medianMs <= b.medianMs &&
    a.bytes.total! <= b.bytes.total! &&
    (a.medianMs < b.medianMs || a.bytes.total! < b.bytes.total!);
  return known
    .filter((c) => !known.some((o) => o !== c && beats(o, c)))
    .sort((a, b) => a.bytes.total! - b.bytes.total! || a.medianMs - b.medianMs)
    .map((c) => c.id);
}

/**
 * First result of the pick against the quickest candidate, and after how many steady inferences the pick's lower
 * per-pass time makes up the difference.
 */
export function firstResultOutcome(
  profile: string,
  emulated: boolean,
  cands: readonly VerdictCandidate[],
  firstMs: (c: VerdictCandidate) => number | null,
): FirstResultOutcome {
  const pick = cands[0];
  const timed = cands
    .map((c) => ({ c, ms: firstMs(c) }))
    .filter((x): x is { c: VerdictCandidate; ms: number } => x.ms !== null);
  const quick = timed.reduce<(typeof timed)[number] | null>((a, b) => (a === null || b.ms < a.ms ? b : a), null);
  const pickMs = pick ? firstMs(pick) : null;
  let paysBackAfter: number | null = null;
  if (pick && quick && pickMs !== null && quick.c !== pick && quick.ms < pickMs) {
    const perPass = quick.c.medianMs - pick.medianMs;
    paysBackAfter = perPass > 0 ? Math.ceil((pickMs - quick.ms) / perPass) : Infinity;
  }
  return { profile, emulated, pickMs, quickest: quick ? { id: quick.c.id, ms: quick.ms } : null, paysBackAfter };
}

function firstResults(cands: readonly VerdictCandidate[], fv: FirstVisits | null): FirstResultOutcome[] {
  const out = [firstResultOutcome('lab', false, cands, (c) => c.result.coldStart.firstResultMs)];
  for (const p of fv?.profiles ?? []) {
    const ms = (c: VerdictCandidate) =>
      fv!.visits.find((v) => v.cellId === c.id && v.profile === p.name && v.visit === 'first' && v.status === 'ok')
        ?.firstResultMs ?? null;
    if (cands.some((c) => ms(c) !== null)) out.push(firstResultOutcome(p.name, true, cands, ms));
  }
  return out;
}

/** One verdict per model, batch size and swept dims of a run (comparisonGroup). */
export function runVerdicts(run: VerdictRun, options: VerdictOptions = {}): ModelVerdict[] {
  const rules = options.rules ?? [];
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const sizeOf = options.manifestBytes ?? (() => null);
  const groups = new Map<string, typeof run.cells>();
  for (const c of run.cells) {
    // Native reference and calibration cells are yardsticks, not something an app ships.
    if (c.cell.runtime === 'ort-node' || c.cell.runtime === 'calib') continue;
    const key = comparisonGroup(c.cell);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((cells) => {
    const excluded: Excluded[] = [];
    const eligible: OkCellResult[] = [];
    for (const c of cells) {
      if (c.status !== 'ok') {
        excluded.push({
          id: c.cell.id,
          why: c.status === 'failed' ? `failed: ${c.error}` : `${c.status}: ${c.reason}`,
        });
        continue;
      }
      const why = whyNot(c, rules);
      if (why) excluded.push({ id: c.cell.id, why });
      else eligible.push(c);
    }
    const candidates = eligible
      .map((c) => candidate(c, sizeOf))
      .sort((a, b) => a.medianMs - b.medianMs || a.id.localeCompare(b.id));
    const [pick = null, runnerUp = null] = candidates;
    // Same run, same comparison group: their invocations ran in shared rounds, so the CI pairs them by round.
    const against = (c: VerdictCandidate) =>
      compareCells(c.result, pick!.result, { threshold, paired: pairedInRun(c.result, pick!.result) });
    const vsPick = candidates.slice(1).map((c) => ({ c, cmp: against(c) }));
    return {
      device: run.device ?? null,
      modelId: cells[0]!.cell.modelId,
      batch: cells[0]!.cell.batch,
      dims: cells[0]!.cell.dims,
      candidates,
      pick,
      runnerUp,
      comparison: vsPick[0]?.cmp ?? null,
      tiedWith: vsPick.filter((x) => x.cmp.verdict !== 'slower').map((x) => x.c.id),
      excluded,
      pareto: paretoSet(candidates),
      bytesUnknown: candidates.filter((c) => c.bytes.total === null).map((c) => c.id),
      firstResult: pick ? firstResults(candidates, run.firstVisits ?? null) : [],
      budgets: rules.filter((r) => cells.some((c) => matches(r, c.cell))).map(formatBudget),
    };
  });
}

/** Every run's verdicts (one run per device). */
export function verdicts(runs: readonly VerdictRun[], options: VerdictOptions = {}): ModelVerdict[] {
  return runs.flatMap((r) => runVerdicts(r, options));
}
