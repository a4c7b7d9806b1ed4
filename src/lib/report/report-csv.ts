/**
 * The result file as CSV: one row per cell (summary.csv) and one per sample (samples.csv); fields quoted as RFC 4180
 * says, and a leading = + - @ defused so a spreadsheet never runs a cell as a formula.
 */
import { throughput } from './format.ts';
import { cellReason, type CellResult, type OkCellResult, type RunResult } from '../schema.ts';
import { relativeHalfWidth } from '../measure/stats.ts';
import { validityFlags } from '../measure/validity.ts';
import { STAGES } from '../stages.ts';

export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number | boolean | null | undefined)[])[],
): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export const multi = (runs: readonly RunResult[]) => runs.length > 1 || runs.some((r) => r.device !== null);

type Value = string | number | boolean | null;

/** A cell's identity columns, on every row (failed cells too). */
const ID_COLUMNS: [string, (run: RunResult, c: CellResult) => Value][] = [
  ['device', (run) => run.device ?? ''],
  ['cell', (_, c) => c.cell.id],
  ['model', (_, c) => c.cell.modelId],
  ['runtime', (_, c) => c.cell.runtime],
  ['backend', (_, c) => c.cell.backend],
  ['batch', (_, c) => c.cell.batch],
  ['threads', (_, c) => c.cell.threads],
  ['status', (_, c) => c.status],
  ['variant', (_, c) => c.cell.variant],
];

const numbers = (xs: readonly (number | null)[] | undefined) => (xs ?? []).filter((x): x is number => x !== null);
const minOf = (xs: readonly (number | null)[] | undefined) => (numbers(xs).length ? Math.min(...numbers(xs)) : null);
const maxOf = (xs: readonly (number | null)[] | undefined) => (numbers(xs).length ? Math.max(...numbers(xs)) : null);

/** Percentiles the samples can't support read empty, not as a number nobody should trust. */
const pct = (c: OkCellResult, p: 'p90' | 'p95' | 'p99') =>
  c.validity.unsupportedPercentiles.includes(p) ? null : c.summary.total[p];

/** The measured columns, one per line, for ok cells (empty on the others). */
const OK_COLUMNS: [string, (c: OkCellResult) => Value][] = [
  ['n', (c) => c.summary.total.n],
  ['passes_per_sample', (c) => c.sampling.iterations],
  ['median_ms', (c) => c.summary.total.median],
  ['ci95_lo_ms', (c) => c.summary.total.medianCI95?.[0] ?? null],
  ['ci95_hi_ms', (c) => c.summary.total.medianCI95?.[1] ?? null],
  ['ci_rel_halfwidth', (c) => relativeHalfWidth(c.summary.total)],
  // Fresh starts the median and CI are across; the sd of their levels beyond their own noise (ms).
  ['invocations', (c) => Math.max(1, c.invocations.length)],
  ['between_invocation_sd_ms', (c) => (c.acrossInvocations ? Math.sqrt(c.acrossInvocations.betweenVar) : null)],
  ['p90_ms', (c) => pct(c, 'p90')],
  ['p95_ms', (c) => pct(c, 'p95')],
  ['p99_ms', (c) => pct(c, 'p99')],
  ['mean_ms', (c) => c.summary.total.mean],
  ['sd_ms', (c) => c.summary.total.sd],
  ['min_ms', (c) => c.summary.total.min],
  ['max_ms', (c) => c.summary.total.max],
  ['throughput_items_per_s', (c) => throughput(c)],
  ['inference_median_ms', (c) => c.summary.inference?.median ?? null],
  ['stop_reason', (c) => c.sampling.stopReason],
  ['precision_reached', (c) => c.sampling.precisionReached],
  ['steady_state', (c) => c.steadyState.classification],
  ['steady_start_sample', (c) => c.steadyState.steadyStart],
  ['warmup_ms', (c) => c.steadyState.warmupMs],
  ['warmup_passes', (c) => c.steadyState.warmupPasses],
  ['first_passes_ratio', (c) => c.steadyState.firstPasses?.ratio ?? null],
  ['ort_build', (c) => c.cell.build],
  ['runtime_wasm_file', (c) => c.coldStart.runtimeWasm?.file ?? null],
  ['runtime_wasm_bytes', (c) => c.coldStart.runtimeWasm?.bytes ?? null],
  ['runtime_wasm_fetch_ms', (c) => c.coldStart.runtimeWasm?.fetchMs ?? null],
  ['runtime_init_ms', (c) => c.coldStart.runtimeInitMs],
  ['first_inference_ms', (c) => c.coldStart.firstInferenceMs],
  ['session_create_ms', (c) => c.coldStart.sessionCreateMs],
  ['cold_starts', (c) => c.coldStarts.length],
  ['parity_max_abs_diff', (c) => c.parity?.maxAbsDiff ?? null],
  ['browser_tax', (c) => c.tax?.ratio ?? null],
  ['browser_tax_ci95_lo', (c) => c.tax?.ci95[0] ?? null],
  ['browser_tax_ci95_hi', (c) => c.tax?.ci95[1] ?? null],
  ['native_cell', (c) => c.tax?.nativeCellId ?? null],
  ['backend_in_use', (c) => c.proof.backendInUse],
  ['model_bytes', (c) => c.modelBytes?.raw ?? null],
  ['model_bytes_gzip', (c) => c.modelBytes?.compressed ?? null],
  ['agreement_min_cosine', (c) => minOf(c.agreement?.outputs.map((o) => o.cosine))],
  ['agreement_max_abs_diff', (c) => maxOf(c.agreement?.outputs.map((o) => o.maxAbsDiff))],
  ['agreement_top1', (c) => (c.agreement?.top1 ? `${c.agreement.top1.agree}/${c.agreement.top1.of}` : null)],
  ['agreement_flagged', (c) => c.agreement?.flagged ?? null],
  ['flags', (c) => [...validityFlags(c.validity, c.steadyState), ...c.warnings].join('; ')],
];

/** One row per cell: identity, the measured columns (ok cells), and the reason a cell did not run. */
export function summaryCsv(runs: readonly RunResult[]): string {
  const header = [...ID_COLUMNS.map(([name]) => name), ...OK_COLUMNS.map(([name]) => name), 'reason'];
  const rows = runs.flatMap((run) =>
    run.cells.map((c) => {
      const id = ID_COLUMNS.map(([, get]) => get(run, c));
      if (c.status !== 'ok') return [...id, ...OK_COLUMNS.map(() => null), cellReason(c)];
      return [...id, ...OK_COLUMNS.map(([, get]) => get(c)), ''];
    }),
  );
  return toCsv(header, rows);
}

export function samplesCsv(runs: readonly RunResult[]): string {
  // Every sample, warm-up included; `segment` is its level segment and `steady` whether the summary counts it.
  const header = [
    'device',
    'cell',
    'index',
    'at_epoch_ms',
    'passes',
    ...STAGES.map((s) => `${s}_ms`),
    'total_ms',
    'segment',
    'steady',
    'invocation',
  ];
  const rows = runs.flatMap((run) =>
    run.cells.flatMap((c) => {
      if (c.status === 'unsupported') return [];
      // Steady: inside its own invocation's steady stretch (one invocation: the cell's).
      const steady =
        c.status !== 'ok'
          ? null
          : c.invocations.length > 1
            ? (i: number) => c.invocations.some((v) => i >= v.steadyStart && i < v.firstSample + v.samples)
            : (i: number) => i >= c.steadyState.steadyStart;
      return c.samples.map((s, i) => [
        run.device ?? '',
        c.cell.id,
        i,
        s.at,
        s.iterations,
        ...STAGES.map((st) => s[st]),
        s.total,
        s.segment,
        steady === null ? null : steady(i),
        s.invocation,
      ]);
    }),
  );
  return toCsv(header, rows);
}

/** Markdown table text: pipes escaped, angle brackets neutralised so a name can't become HTML in a renderer. */
