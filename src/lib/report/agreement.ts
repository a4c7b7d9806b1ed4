/**
 * Agreement of a variant cell (fp16, int8) with the fp32 cell of the same model, target, build, batch, threads, dims
 * and inputs: per output the largest absolute difference and the cosine of the two value vectors, and for
 * classifiers on pictures whether each picture's top-1 class stayed the same. A variant is flagged below cosine
 * 0.99 or on a changed top-1. Pure: the page computes it from the outputs it kept (parity's prefixes).
 */
import { okCells, type Agreement, type Cell, type CellResult, type OkCellResult } from '../schema.ts';
import type { ParityData } from './parity.ts';

export const MIN_COSINE = 0.99;

/** The fp32 cell a variant cell is compared with: every setting the same, the variant fp32. */
export function sameWorkOtherVariant(a: Cell, b: Cell): boolean {
  return (
    a.modelId === b.modelId &&
    a.runtime === b.runtime &&
    a.backend === b.backend &&
    a.build === b.build &&
    a.batch === b.batch &&
    a.threads === b.threads &&
    a.inputSeed === b.inputSeed &&
    JSON.stringify(a.dims) === JSON.stringify(b.dims) &&
    JSON.stringify(a.inputOverrides) === JSON.stringify(b.inputOverrides)
  );
}

function compareOne(a: ParityData, b: ParityData): Agreement['outputs'][number] {
  const base = { name: a.name };
  if (a.shape.join('x') !== b.shape.join('x'))
    return { ...base, maxAbsDiff: null, cosine: null, mismatch: `shape [${a.shape}] vs [${b.shape}] in fp32` };
  let max = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.values.length; i++) {
    const x = a.values[i]!;
    const y = b.values[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y))
      return { ...base, maxAbsDiff: null, cosine: null, mismatch: 'NaN or infinite values in the outputs' };
    max = Math.max(max, Math.abs(x - y));
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  // Two all-zero outputs agree; one all-zero output against another has no direction to compare: cosine 0.
  const cosine = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
  return { ...base, maxAbsDiff: max, cosine: Math.min(1, cosine), mismatch: null };
}

/** Per picture, whether the top-1 class is the same as in the fp32 cell (null when neither is a classifier). */
function top1Agreement(mine: OkCellResult, ref: OkCellResult): Agreement['top1'] {
  if (!mine.predictions?.length || !ref.predictions?.length) return null;
  let agree = 0;
  let of = 0;
  for (const p of mine.predictions) {
    const theirs = ref.predictions.find((q) => q.image === p.image);
    if (!theirs?.top[0] || !p.top[0]) continue;
    of++;
    if (theirs.top[0].index === p.top[0].index) agree++;
  }
  return { agree, of };
}

export function computeAgreement(
  mine: readonly ParityData[],
  theirs: readonly ParityData[],
  refId: string,
  top1: Agreement['top1'] = null,
): Agreement {
  const outputs =
    mine.length === theirs.length
      ? mine.map((m, i) => compareOne(m, theirs[i]!))
      : [{ name: '*', maxAbsDiff: null, cosine: null, mismatch: `${mine.length} outputs vs ${theirs.length} in fp32` }];
  const reasons: string[] = [];
  for (const o of outputs) {
    if (o.mismatch) reasons.push(`${o.name}: ${o.mismatch}`);
    else if (o.cosine! < MIN_COSINE) reasons.push(`${o.name}: cosine ${o.cosine!.toFixed(4)} < ${MIN_COSINE}`);
  }
  if (top1 && top1.agree < top1.of) reasons.push(`top-1 changed on ${top1.of - top1.agree} of ${top1.of} pictures`);
  return {
    referenceCellId: refId,
    outputs,
    top1,
    minCosine: MIN_COSINE,
    flagged: reasons.length > 0,
    reason: reasons.length ? reasons.join('; ') : null,
  };
}

/** Sets `agreement` on every ok variant cell whose fp32 cell ran ok, with a warning when it is flagged. */
export function applyAgreement(
  cells: readonly CellResult[],
  outputsOf: (cellId: string) => readonly ParityData[] | undefined,
): void {
  const ok = okCells(cells);
  for (const r of ok) {
    if (r.cell.variant === 'fp32') continue;
    const ref = ok.find((c) => c.cell.variant === 'fp32' && sameWorkOtherVariant(c.cell, r.cell));
    const mine = outputsOf(r.cell.id);
    const theirs = ref && outputsOf(ref.cell.id);
    if (!ref || !mine || !theirs) continue;
    r.agreement = computeAgreement(mine, theirs, ref.cell.id, top1Agreement(r, ref));
    if (r.agreement.flagged) r.warnings.push(`${r.cell.variant} differs from ${ref.cell.id}: ${r.agreement.reason}`);
  }
}
