/**
 * The verdict in words and table rows, one wording for the CLI, report.md, report.html and the page.
 * A ratio is never said without its CI; a tie is said as a tie, and the pick is still named (by median).
 */
import { describeMethod } from '../measure/compare.ts';
import { fmtBytes, fmtMs } from './format.ts';
import type { FirstResultOutcome, ModelVerdict, VerdictCandidate } from './verdict.ts';

const ci = (c: readonly [number, number]) => `${c[0].toFixed(3)}–${c[1].toFixed(3)}`;
const msCI = (c: VerdictCandidate) =>
  `median ${fmtMs(c.medianMs)} ms${c.ci95 ? ` (95% CI ${fmtMs(c.ci95[0])}–${fmtMs(c.ci95[1])})` : ''}`;

/** "tiny-cnn b1", "text-encoder b1 seq=16" (with the device in front for runs of several devices). */
export function verdictTitle(v: ModelVerdict): string {
  const dims = Object.entries(v.dims ?? {}).map(([k, n]) => ` ${k}=${n}`);
  return `${v.device ? `${v.device} · ` : ''}${v.modelId} b${v.batch}${dims.join('')}`;
}

/** What to ship: the pick and its median with CI (or why there is none). */
export function verdictPick(v: ModelVerdict): string {
  if (!v.pick)
    return `nothing to ship: no configuration ran ok and met ${v.budgets.length ? 'the budget and ' : ''}the output checks (${v.excluded.length} excluded)`;
  return `ship ${v.pick.label}: ${msCI(v.pick)}`;
}

/** How sure the run is of the pick: the runner-up against it, with the ratio's CI; a tie said as a tie. */
export function verdictAgainst(v: ModelVerdict): string | null {
  const cmp = v.comparison;
  if (!v.pick) return null;
  if (!cmp || !v.runnerUp) return 'the only configuration that qualifies, so nothing to compare it with';
  const how = `ratio ${cmp.ratio.toFixed(3)}, 95% CI ${ci(cmp.ci95)}, ${describeMethod(cmp)}`;
  if (cmp.verdict === 'slower') return `the runner-up ${v.runnerUp.label} is ${cmp.ratio.toFixed(2)}x slower (${how})`;
  const others = v.tiedWith.length > 1 ? ` (and ${v.tiedWith.length - 1} more)` : '';
  return `no clear winner between ${v.pick.label} and ${v.runnerUp.label}${others} (${how}; within ±${(cmp.threshold * 100).toFixed(0)}% or too uncertain): the pick is the lower median`;
}

/** Whether the pick is tied with the runner-up (no clear winner). */
export const isTie = (v: ModelVerdict) => v.comparison !== null && v.comparison.verdict !== 'slower';

/** The headline in one line: a tie first says it is one, then names the pick. */
export function verdictHeadline(v: ModelVerdict): string {
  const against = verdictAgainst(v);
  if (!against) return verdictPick(v);
  return isTie(v) ? `${against}: ${verdictPick(v)}` : `${verdictPick(v)}; ${against}`;
}

function firstResultLine(f: FirstResultOutcome): string {
  const where =
    f.profile === 'lab'
      ? 'cold start in this run (loopback, caches as they were)'
      : `first visit on ${f.profile} (emulated)`;
  if (f.pickMs === null) return `${where}: not measured for the pick`;
  const q = f.quickest;
  if (!q || f.paysBackAfter === null)
    return `${where}: first result ${fmtMs(f.pickMs)} ms, the quickest of the candidates`;
  const late = `${fmtMs(f.pickMs - q.ms)} ms later than ${q.id} (${fmtMs(q.ms)} ms)`;
  if (f.paysBackAfter === Infinity)
    return `${where}: first result ${fmtMs(f.pickMs)} ms, ${late}, and not faster per pass: ${q.id} wins once download and start count`;
  return `${where}: first result ${fmtMs(f.pickMs)} ms, ${late}; the pick makes that up after ${f.paysBackAfter} inferences (${q.id} wins for fewer)`;
}

/** Lines under the headline: first results, the Pareto set, what was excluded and why. */
export function verdictDetails(v: ModelVerdict): string[] {
  const out = v.firstResult.map(firstResultLine);
  if (v.pick)
    out.push(
      `fewest bytes for the latency (Pareto set, raw model + runtime wasm): ${v.pareto.length ? v.pareto.join(', ') : 'none with known bytes'}` +
        (v.bytesUnknown.length ? `; bytes unknown: ${v.bytesUnknown.join(', ')}` : ''),
    );
  if (v.budgets.length) out.push(`budgets: ${v.budgets.join('; ')}`);
  for (const e of v.excluded) out.push(`excluded ${e.id}: ${e.why}`);
  return out;
}

/** The verdicts as terminal lines (CLI) or list items. */
export function verdictLines(vs: readonly ModelVerdict[]): string[] {
  if (!vs.length) return [];
  const out = ['', 'what to ship (steady state; see docs/verdict.md for what this does and does not say):'];
  for (const v of vs) {
    out.push(`  ${verdictTitle(v)}: ${verdictPick(v)}`);
    const against = verdictAgainst(v);
    if (against) out.push(`    ${against}`);
    out.push(...verdictDetails(v).map((l) => `    ${l}`));
  }
  return out;
}

export const CANDIDATE_HEADER = ['configuration', 'cell', 'median ms', '95% CI', 'model', 'wasm', 'bytes', 'Pareto'];

const bytes = (n: number | null) => (n === null ? 'unknown' : fmtBytes(n));

/** One row per candidate, fastest first. */
export function candidateRows(v: ModelVerdict): string[][] {
  return v.candidates.map((c) => [
    c.label,
    c.id,
    fmtMs(c.medianMs),
    c.ci95 ? `${fmtMs(c.ci95[0])}–${fmtMs(c.ci95[1])}` : '',
    bytes(c.bytes.model) + (c.bytes.modelFrom === 'manifest' ? ' (manifest)' : ''),
    bytes(c.bytes.wasm),
    bytes(c.bytes.total),
    v.pareto.includes(c.id) ? 'yes' : '',
  ]);
}

export const VERDICT_NOTE =
  'The pick is the lowest steady median among cells that ran ok, met every budget that names them, agree with the reference (parity within tolerance; fp16/int8 variants not flagged against fp32) and ran on a real (not software) GPU, alone (not while another measurement of the lab ran). Bytes are raw (before HTTP compression): the model file(s) and the runtime wasm, not the JS. Cold starts are one measurement each, with no CI.';
