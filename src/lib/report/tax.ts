/**
 * The browser tax: how much slower a model runs in the browser than natively on the same machine. Each browser cell
 * on a CPU backend is paired with the native reference cell (runtime `ort-node`) doing the same work (model, batch,
 * threads, swept dims); the ratio is of medians of the model work per pass (upload + inference + readback: what the
 * runtime's run() costs on both sides; preprocess and postprocess are the app's own code) over steady samples,
 * with a bootstrap CI. GPU backends are not compared: the native reference runs on the CPU.
 */
import { ratioOfInvocations } from '../measure/compare.ts';
import { compareOutputs, type ParityData } from './parity.ts';
import { workKey } from '../plan/plan.ts';
import type { BrowserTax, CellResult, OkCellResult } from '../schema.ts';
import { mean, median } from '../measure/stats.ts';
import { steadyByInvocation } from '../measure/warmup-curve.ts';
import { modelWorkOf } from '../measure/model-work.ts';

/**
 * Whether a cell is one the tax applies to: a browser runtime on a CPU backend. litert:wasm runs the model's .tflite
 * conversion against the native reference's ONNX file: the same weights and inputs in another format, so the tax
 * compares the runtimes and the parity column says whether the two files compute the same.
 */
export function taxable(cell: OkCellResult['cell']): boolean {
  // The native reference runs the model as given: a variant cell does other work than it.
  const browser = cell.runtime === 'ort' || cell.runtime === 'tfjs' || cell.runtime === 'litert';
  return browser && (cell.backend === 'wasm' || cell.backend === 'cpu') && cell.variant === 'fp32';
}

/** The native reference cell doing the same work as `cell`, if one ran ok. */
export function nativeFor(cell: OkCellResult['cell'], cells: readonly OkCellResult[]): OkCellResult | null {
  return cells.find((c) => c.cell.runtime === 'ort-node' && workKey(c.cell) === workKey(cell)) ?? null;
}

export function browserTax(
  browser: OkCellResult,
  native: OkCellResult,
  parity?: { mine: readonly ParityData[]; native: readonly ParityData[] },
): BrowserTax {
  const a = steadyByInvocation(browser).map((xs) => xs.map(modelWorkOf));
  const b = steadyByInvocation(native).map((xs) => xs.map(modelWorkOf));
  // Both ran in the same run and set (same model and batch), invocation k of each in round k: paired by round.
  const r = ratioOfInvocations(a, b, true);
  // A level as the summaries give it: the mean of the invocations' medians (one invocation: its median).
  const level = (xs: readonly number[][]) => mean(xs.map((x) => median(x)));
  return {
    nativeCellId: native.cell.id,
    browserMs: level(a),
    nativeMs: level(b),
    ratio: r.ratio,
    ci95: r.ci95,
    method: r.method,
    pairs: r.pairs,
    inputsMatch: browser.inputDigest && native.inputDigest ? browser.inputDigest === native.inputDigest : null,
    parity: parity ? compareOutputs(parity.mine, parity.native, native.cell.id) : null,
  };
}

/** Sets `tax` on every taxable ok cell that has a native reference; warns where inputs or outputs disagree. */
export function applyTax(
  cells: readonly OkCellResult[],
  parityOf: (cellId: string) => readonly ParityData[] | undefined,
): void {
  for (const c of cells) {
    if (!taxable(c.cell)) continue;
    const native = nativeFor(c.cell, cells);
    if (!native) continue;
    const mine = parityOf(c.cell.id);
    const theirs = parityOf(native.cell.id);
    c.tax = browserTax(c, native, mine && theirs ? { mine, native: theirs } : undefined);
    if (c.tax.inputsMatch === false)
      c.warnings.push(
        `inputs differ from the native reference ${native.cell.id} (input digests differ): the browser tax compares different work`,
      );
    if (c.tax.parity && !c.tax.parity.withinTolerance)
      c.warnings.push(
        `outputs differ from the native reference ${native.cell.id}: ${c.tax.parity.mismatch ?? `max abs diff ${c.tax.parity.maxAbsDiff} > ${c.tax.parity.tolerance}`}`,
      );
  }
}

/** "4.52x (4.31-4.70)": the tax in a table cell. */
export function formatTax(t: BrowserTax): string {
  return `${t.ratio.toFixed(2)}x (${t.ci95[0].toFixed(2)}-${t.ci95[1].toFixed(2)})`;
}

export const TAX_HEADER = [
  'cell',
  'native reference',
  'browser ms',
  'native ms',
  'tax',
  '95% CI',
  'inputs',
  'outputs vs native',
];

/** What the tax means and what it doesn't, under every table of it. */
export const TAX_NOTE =
  'Browser tax: median model work per pass (upload + inference + readback, steady samples) of the browser cell over the native ' +
  'onnxruntime-node cell of the same model, batch, threads and dims on this machine (CPU execution provider), with a bootstrap 95% CI. ' +
  'With several invocations the CI is paired over them (the browser cell and its native reference started fresh side by side, round by round). ' +
  'litert cells run the .tflite conversion of the same model. ' +
  "Same machine and same input bytes; CPU only (GPU backends are not compared); preprocess and postprocess are left out (the app's own code, not the runtime).";

/** One row per browser cell with a tax; then one per model that has no native reference, with the reason. */
export function taxRows(
  cells: readonly CellResult[],
  skipped: readonly { modelId: string; reason: string }[],
  fmt: (ms: number) => string,
): string[][] {
  const rows = cells.flatMap((c) => {
    if (c.status !== 'ok' || !c.tax) return [];
    const t = c.tax;
    const outputs = t.parity
      ? t.parity.withinTolerance
        ? `within ${t.parity.tolerance} (max ${t.parity.maxAbsDiff?.toExponential(1)})`
        : `DIFFER: ${t.parity.mismatch ?? `max ${t.parity.maxAbsDiff}`}`
      : '–';
    return [
      [
        c.cell.id,
        t.nativeCellId,
        fmt(t.browserMs),
        fmt(t.nativeMs),
        `${t.ratio.toFixed(2)}x`,
        `${t.ci95[0].toFixed(2)}–${t.ci95[1].toFixed(2)}`,
        t.inputsMatch === null ? '–' : t.inputsMatch ? 'same bytes' : 'DIFFER',
        outputs,
      ],
    ];
  });
  return [...rows, ...skipped.map((s) => [s.modelId, 'none', '', '', '', '', '', s.reason])];
}
