/** Number and table formatting shared by the page and the CLI. Pure. */
import {
  cellReason,
  type CellResult,
  type OkCellResult,
  type Percentile,
  type StageSummaries,
  type Summary,
} from '../schema.ts';
import type { Comparison } from '../measure/compare.ts';
import { relativeHalfWidth } from '../measure/stats.ts';
import { neededShort, STOP_SHORT } from '../measure/sampling-words.ts';
import { PERCENTILE_MIN_SAMPLES, validityFlags } from '../measure/validity.ts';
import { warmupShort } from '../measure/warmup-curve.ts';
import { STAGES } from '../stages.ts';

/** Milliseconds with precision that suits the magnitude: 0.0123, 1.234, 12.35, 123.5, 1234. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  if (a === 0) return '0';
  if (a < 0.1) return ms.toFixed(4);
  if (a < 10) return ms.toFixed(3);
  if (a < 100) return ms.toFixed(2);
  if (a < 1000) return ms.toFixed(1);
  return ms.toFixed(0);
}

export function fmtCI(s: Summary | null): string {
  if (!s?.medianCI95) return '–';
  return `${fmtMs(s.medianCI95[0])}–${fmtMs(s.medianCI95[1])}`;
}

/** The CI's half-width relative to the median: "±1.4%". */
export function fmtRel(s: Summary | null): string {
  const r = s ? relativeHalfWidth(s) : null;
  return r === null ? '–' : `±${(r * 100).toFixed(1)}%`;
}

/** A percentile, or '–' when the cell has too few samples to support it. */
export function fmtPercentile(r: OkCellResult, p: Percentile, stage: keyof StageSummaries = 'total'): string {
  if (r.validity.unsupportedPercentiles.includes(p)) return '–';
  return fmtMs(r.summary[stage]?.[p]);
}

/** Why a percentile reads '–'. */
export function percentileNote(p: Percentile): string {
  return `${p} needs at least ${PERCENTILE_MIN_SAMPLES[p]} samples (two above it)`;
}

/** "1.32x slower" / "1.10x faster" / "≈ same" against another cell. */
/** "×1.32 slower (1.28–1.36)", "≈ ×1.02 (0.97–1.08)": a verdict never without its CI. */
export function fmtVerdict(c: Pick<Comparison, 'ratio' | 'ci95' | 'verdict'> | null | undefined): string {
  if (c === undefined) return '';
  if (c === null) return 'fastest';
  const ci = `(${c.ci95[0].toFixed(2)}–${c.ci95[1].toFixed(2)})`;
  if (c.verdict === 'indistinguishable') return `≈ ×${c.ratio.toFixed(2)} ${ci}`;
  return `×${c.ratio.toFixed(2)} ${c.verdict} ${ci}`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Items per second at the median: batch size over the median time per pass. */
export function throughput(c: CellResult): number | null {
  return c.status === 'ok' && c.summary.total.median > 0 ? (c.cell.batch * 1000) / c.summary.total.median : null;
}

/** Which stage columns to show: those where some cell has a value. */
export function stagesPresent(summaries: readonly StageSummaries[]): (typeof STAGES)[number][] {
  return STAGES.filter((s) => summaries.some((x) => x[s] !== null));
}

/** Plain-text table with aligned columns (the CLI's output; also handy in Markdown code blocks). */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The "stopped" column: a cap that came first says how long the target would take ("time cap, ~31 s"). */
function stoppedShort(s: OkCellResult['sampling']): string {
  const needed = neededShort(s);
  return `${STOP_SHORT[s.stopReason]}${needed === null ? '' : `, ${needed}`}`;
}

/** Columns the CLI table leaves out first when it is wider than the terminal (every one is in report.md). */
const DROP_ORDER = ['first inf', 'p95', 'parity', '95% CI', 'warm-up', 'vs fastest'];

/** `text` wrapped at `width`, continuation lines indented by `indent` spaces. */
export function wrap(text: string, width: number, indent: number): string {
  if (!Number.isFinite(width) || text.length <= width) return text;
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > (lines.length ? width - indent : width)) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  return lines.map((l, i) => (i ? ' '.repeat(indent) + l : l)).join('\n');
}

/** Numbered notes under a table: each distinct text once, cells point at them as [1][2]. */
class Notes {
  readonly texts: string[] = [];
  mark(texts: readonly string[]): string {
    return [...new Set(texts.filter(Boolean))]
      .map((t) => {
        if (!this.texts.includes(t)) this.texts.push(t);
        return `[${this.texts.indexOf(t) + 1}]`;
      })
      .join('');
  }
}

/**
 * The summary table of a run, one row per cell, as the CLI prints it: fitted to `width` columns (the terminal's),
 * flags, warnings and reasons as numbered notes under the table (a note several cells share is listed once).
 */
export function resultTable(
  cells: readonly CellResult[],
  vsFastest: Map<string, Comparison | null> = new Map(),
  width = Infinity,
): string {
  const notes = new Notes();
  // The browser tax column only when the run has native reference cells (`--native`).
  const withTax = cells.some((c) => c.cell.runtime === 'ort-node');
  const header = [
    ...['cell', 'status', 'median ms', '95% CI', '±', 'p95', 'n', 'inv', 'stopped', 'warm-up', 'vs fastest'],
    ...(withTax ? ['tax'] : []),
    ...['first inf', 'parity', 'notes'],
  ];
  const rows = cells.map((r) => {
    if (r.status !== 'ok')
      return [r.cell.id, r.status, ...header.slice(2, -1).map(() => ''), notes.mark([cellReason(r)])];
    return okRow(r, vsFastest.get(r.cell.id), withTax, notes);
  });
  const { keep, dropped } = fitColumns(header, rows, width);
  const out = [
    textTable(
      keep.map((i) => header[i]!),
      rows.map((r) => keep.map((i) => r[i]!)),
    ),
  ];
  if (dropped.length) out.push(`(${dropped.join(', ')} left out to fit ${width} columns: see report.md)`);
  const n = notes.texts;
  if (n.length) out.push('', ...n.map((t, i) => wrap(`[${i + 1}] ${t}`, width, String(i + 1).length + 3)));
  return out.join('\n');
}

function okRow(r: OkCellResult, vs: Comparison | null | undefined, withTax: boolean, notes: Notes): string[] {
  const t = r.summary.total;
  const parity = r.parity ? (r.parity.maxAbsDiff === null ? 'mismatch' : r.parity.maxAbsDiff.toExponential(1)) : 'ref';
  const iters = r.sampling.iterations > 1 ? `x${r.sampling.iterations}` : '';
  const tax = r.cell.runtime === 'ort-node' ? 'native' : r.tax ? `${r.tax.ratio.toFixed(2)}x` : '–';
  const target = `±${((r.sampling.targetCI ?? 0) * 100).toFixed(1)}%`;
  const cap = { 'max-time': 'time', 'max-invocations': 'invocation' }[r.sampling.stopReason as string] ?? 'sample';
  // The ± column shows what each cell reached, so one shared note says the target was missed.
  const warnings = r.warnings.map((w) =>
    w.startsWith('precision not reached') && !w.includes(' met the ')
      ? `precision not reached: the median's CI (±) is wider than the ${target} target at the ${cap} cap`
      : w,
  );
  return [
    r.cell.id,
    'ok',
    fmtMs(t.median),
    fmtCI(t),
    fmtRel(t),
    fmtPercentile(r, 'p95'),
    `${t.n}${iters}`,
    // Invocations: fresh starts the median and CI are across (files before version 7: one).
    String(Math.max(1, r.invocations.length)),
    stoppedShort(r.sampling),
    warmupShort(r.steadyState),
    fmtVerdict(vs),
    ...(withTax ? [tax] : []),
    fmtMs(r.coldStart.firstInferenceMs),
    parity,
    notes.mark([...validityFlags(r.validity, r.steadyState), ...warnings]),
  ];
}

/** Which columns to keep so the table fits `width`: DROP_ORDER's columns go first, one at a time. */
function fitColumns(header: string[], rows: string[][], width: number): { keep: number[]; dropped: string[] } {
  let keep = header.map((_, i) => i);
  const dropped: string[] = [];
  const tableWidth = () =>
    keep.reduce((w, i) => w + Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)) + 2, -2);
  for (const name of DROP_ORDER) {
    if (tableWidth() <= width) break;
    keep = keep.filter((i) => header[i] !== name);
    dropped.push(name);
  }
  return { keep, dropped };
}
