/**
 * Output parity: each ok cell's outputs against a reference cell of the same model, batch and inputs on a CPU
 * backend. Pure: the page keeps the output prefixes in memory and calls this once the cells are done.
 */
import { okCells, type Cell, type CellResult, type OkCellResult, type Parity } from '../schema.ts';
import { CPU_TARGETS } from '../plan/target-parse.ts';

/** Outputs of the last sample, cut to a prefix, for parity against other cells (page side). */
export interface ParityData {
  name: string;
  shape: number[];
  values: Float32Array;
}

export const PARITY_TOLERANCE = 1e-4;

function sameInputs(a: Cell, b: Cell): boolean {
  return (
    a.modelId === b.modelId &&
    // A variant's outputs are compared with the same variant's; with fp32 in agreement.ts.
    a.variant === b.variant &&
    a.batch === b.batch &&
    a.inputSeed === b.inputSeed &&
    JSON.stringify(a.inputOverrides) === JSON.stringify(b.inputOverrides)
  );
}

/** The preferred reference among `candidates` for `cell`: the first CPU target, in CPU_TARGETS order, that ran ok. */
export function pickReference(cell: Cell, candidates: readonly OkCellResult[]): OkCellResult | null {
  for (const t of CPU_TARGETS) {
    const ref = candidates.find(
      (c) => c.cell.runtime === t.runtime && c.cell.backend === t.backend && sameInputs(c.cell, cell),
    );
    if (ref) return ref;
  }
  return null;
}

export function compareOutputs(
  a: readonly ParityData[],
  b: readonly ParityData[],
  referenceCellId: string,
  tolerance = PARITY_TOLERANCE,
): Parity {
  const base = { referenceCellId, tolerance };
  if (a.length !== b.length) {
    return {
      ...base,
      maxAbsDiff: null,
      comparedValues: 0,
      withinTolerance: false,
      mismatch: `${a.length} outputs vs ${b.length} in the reference`,
    };
  }
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.shape.join('x') !== y.shape.join('x')) {
      return {
        ...base,
        maxAbsDiff: null,
        comparedValues: 0,
        withinTolerance: false,
        mismatch: `output ${i} has shape [${x.shape}] vs [${y.shape}] in the reference`,
      };
    }
    for (let j = 0; j < x.values.length; j++) {
      const d = Math.abs(x.values[j]! - y.values[j]!);
      if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
      n++;
    }
  }
  if (!Number.isFinite(max)) {
    return {
      ...base,
      maxAbsDiff: null,
      comparedValues: n,
      withinTolerance: false,
      mismatch: 'NaN or infinite values in the outputs',
    };
  }
  return { ...base, maxAbsDiff: max, comparedValues: n, withinTolerance: max <= tolerance, mismatch: null };
}

/**
 * Sets `parity` on every ok cell that has a reference (the reference itself keeps null: it is what the others are
 * compared with), with a warning where outputs differ. `outputsOf`: a cell's kept output prefixes. The ok cells.
 */
export function checkParity(
  cells: readonly CellResult[],
  outputsOf: (cellId: string) => readonly ParityData[] | undefined,
): OkCellResult[] {
  const ok = okCells(cells);
  for (const r of ok) {
    const ref = pickReference(r.cell, ok);
    const mine = outputsOf(r.cell.id);
    const theirs = ref && outputsOf(ref.cell.id);
    if (!ref || ref.cell.id === r.cell.id || !mine || !theirs) continue;
    r.parity = compareOutputs(mine, theirs, ref.cell.id);
    if (!r.parity.withinTolerance) {
      r.warnings.push(
        `outputs differ from ${ref.cell.id}: ${r.parity.mismatch ?? `max abs diff ${r.parity.maxAbsDiff} > ${r.parity.tolerance}`}`,
      );
    }
  }
  return ok;
}
