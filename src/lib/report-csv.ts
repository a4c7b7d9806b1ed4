/**
 * The result file as CSV: one row per cell (summary.csv) and one per sample (samples.csv); fields quoted as RFC 4180
 * says, and a leading = + - @ defused so a spreadsheet never runs a cell as a formula.
 */
import { cellReason, throughput } from './format.ts';
import { STAGES, type RunResult } from './schema.ts';
import { relativeHalfWidth } from './stats.ts';
import { validityFlags } from './validity.ts';

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

export function summaryCsv(runs: readonly RunResult[]): string {
  const header = [
    'device',
    'cell',
    'model',
    'runtime',
    'backend',
    'batch',
    'threads',
    'status',
    'n',
    'passes_per_sample',
    'median_ms',
    'ci95_lo_ms',
    'ci95_hi_ms',
    'ci_rel_halfwidth',
    'p90_ms',
    'p95_ms',
    'p99_ms',
    'mean_ms',
    'sd_ms',
    'min_ms',
    'max_ms',
    'throughput_items_per_s',
    'inference_median_ms',
    'stop_reason',
    'precision_reached',
    'steady_state',
    'steady_start_sample',
    'warmup_ms',
    'warmup_passes',
    'first_passes_ratio',
    'ort_build',
    'runtime_wasm_file',
    'runtime_wasm_bytes',
    'runtime_wasm_fetch_ms',
    'runtime_init_ms',
    'first_inference_ms',
    'session_create_ms',
    'cold_starts',
    'parity_max_abs_diff',
    'browser_tax',
    'browser_tax_ci95_lo',
    'browser_tax_ci95_hi',
    'native_cell',
    'backend_in_use',
    'flags',
    'reason',
  ];
  const rows = runs.flatMap((run) =>
    run.cells.map((c) => {
      const id = [
        run.device ?? '',
        c.cell.id,
        c.cell.modelId,
        c.cell.runtime,
        c.cell.backend,
        c.cell.batch,
        c.cell.threads,
        c.status,
      ];
      if (c.status !== 'ok') return [...id, ...new Array(header.length - id.length - 1).fill(null), cellReason(c)];
      const t = c.summary.total;
      const hide = (p: 'p90' | 'p95' | 'p99') => (c.validity.unsupportedPercentiles.includes(p) ? null : t[p]);
      return [
        ...id,
        t.n,
        c.sampling.iterations,
        t.median,
        t.medianCI95?.[0] ?? null,
        t.medianCI95?.[1] ?? null,
        relativeHalfWidth(t),
        hide('p90'),
        hide('p95'),
        hide('p99'),
        t.mean,
        t.sd,
        t.min,
        t.max,
        throughput(c),
        c.summary.inference?.median ?? null,
        c.sampling.stopReason,
        c.sampling.precisionReached,
        c.steadyState.classification,
        c.steadyState.steadyStart,
        c.steadyState.warmupMs,
        c.steadyState.warmupPasses,
        c.steadyState.firstPasses?.ratio ?? null,
        c.cell.build,
        c.coldStart.runtimeWasm?.file ?? null,
        c.coldStart.runtimeWasm?.bytes ?? null,
        c.coldStart.runtimeWasm?.fetchMs ?? null,
        c.coldStart.runtimeInitMs,
        c.coldStart.firstInferenceMs,
        c.coldStart.sessionCreateMs,
        c.coldStarts.length,
        c.parity?.maxAbsDiff ?? null,
        c.tax?.ratio ?? null,
        c.tax?.ci95[0] ?? null,
        c.tax?.ci95[1] ?? null,
        c.tax?.nativeCellId ?? null,
        c.proof.backendInUse,
        [...validityFlags(c.validity, c.steadyState), ...c.warnings].join('; '),
        '',
      ];
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
  ];
  const rows = runs.flatMap((run) =>
    run.cells.flatMap((c) => {
      if (c.status === 'unsupported') return [];
      const from = c.status === 'ok' ? c.steadyState.steadyStart : null;
      return c.samples.map((s, i) => [
        run.device ?? '',
        c.cell.id,
        i,
        s.at,
        s.iterations,
        ...STAGES.map((st) => s[st]),
        s.total,
        s.segment,
        from === null ? null : i >= from,
      ]);
    }),
  );
  return toCsv(header, rows);
}

/** Markdown table text: pipes escaped, angle brackets neutralised so a name can't become HTML in a renderer. */
