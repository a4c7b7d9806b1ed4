/**
 * The data behind every chart of the page, as pure functions of result cells (the page only draws them).
 * Units: ms per pass, items per second.
 */
import type { OkCellResult, RunResult, Stage } from '../schema.ts';
import { quantile, sortSamples } from '../measure/stats.ts';
import { steadySamples } from '../measure/warmup-curve.ts';
import { STAGES } from '../stages.ts';

export interface BarPoint {
  label: string;
  median: number;
  lo: number | null;
  hi: number | null;
  /** null: no budget; true/false: the budget verdict, drawn as colour. */
  pass: boolean | null;
}

/** Median total per cell with its 95% CI, sorted fastest first within each model. */
export function medianBars(
  cells: readonly OkCellResult[],
  budgetPass?: (c: OkCellResult) => boolean | null,
): BarPoint[] {
  return [...cells]
    .sort((a, b) => a.cell.modelId.localeCompare(b.cell.modelId) || a.summary.total.median - b.summary.total.median)
    .map((c) => ({
      label: c.cell.id,
      median: c.summary.total.median,
      lo: c.summary.total.medianCI95?.[0] ?? null,
      hi: c.summary.total.medianCI95?.[1] ?? null,
      pass: budgetPass?.(c) ?? null,
    }));
}

export interface Series {
  /** runtime:backend, @build for ORT (and threads when more than one thread count ran). */
  label: string;
  /** `items`: batch items per pass at that point (for throughput). */
  points: { x: number; y: number; lo: number | null; hi: number | null; items?: number }[];
}

/** What a sweep chart puts on x: the batch size, or one swept symbolic dim (`seq`). */
export type SweepAxis = { kind: 'batch' } | { kind: 'dim'; name: string };

export function sweepValue(c: OkCellResult, axis: SweepAxis): number | undefined {
  return axis.kind === 'batch' ? c.cell.batch : c.cell.dims?.[axis.name];
}

export function axisTitle(axis: SweepAxis): string {
  return axis.kind === 'batch' ? 'batch size' : `${axis.name} (symbolic dim)`;
}

/** The variables the cells were swept along (two or more values): the batch size first, then each swept dim. */
export function sweepAxes(cells: readonly OkCellResult[]): SweepAxis[] {
  const names = [...new Set(cells.flatMap((c) => Object.keys(c.cell.dims ?? {})))].sort();
  const axes: SweepAxis[] = [{ kind: 'batch' }, ...names.map((name) => ({ kind: 'dim' as const, name }))];
  return axes.filter((a) => new Set(cells.map((c) => sweepValue(c, a)).filter((v) => v !== undefined)).size > 1);
}

/**
 * The line a cell belongs to on a chart against `axis`: model and runtime:backend (@build for ORT: two builds are two
 * lines), then every other variable that varies among the cells (threads, batch, other dims), so no line mixes them.
 */
function seriesKey(c: OkCellResult, axis: SweepAxis, cells: readonly OkCellResult[]): string {
  const varies = (f: (x: OkCellResult) => unknown) => new Set(cells.map(f)).size > 1;
  const parts = [`${c.cell.modelId} ${c.cell.runtime}:${c.cell.backend}${c.cell.build ? `@${c.cell.build}` : ''}`];
  if (varies((x) => x.cell.threads)) parts.push(`t${c.cell.threads}`);
  if (axis.kind !== 'batch' && varies((x) => x.cell.batch)) parts.push(`b${c.cell.batch}`);
  for (const name of Object.keys(c.cell.dims ?? {}).sort()) {
    if (axis.kind === 'dim' && axis.name === name) continue;
    if (varies((x) => x.cell.dims?.[name])) parts.push(`${name}=${c.cell.dims[name]}`);
  }
  return parts.join(' ');
}

/** One line per model and runtime:backend (and other varying settings): median latency per pass against `axis`. */
export function latencyVs(cells: readonly OkCellResult[], axis: SweepAxis): Series[] {
  const groups = new Map<string, OkCellResult[]>();
  for (const c of cells) {
    if (sweepValue(c, axis) === undefined) continue;
    const key = seriesKey(c, axis, cells);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.entries()].map(([label, cs]) => ({
    label,
    points: cs
      .map((c) => ({
        x: sweepValue(c, axis)!,
        items: c.cell.batch,
        y: c.summary.total.median,
        lo: c.summary.total.medianCI95?.[0] ?? null,
        hi: c.summary.total.medianCI95?.[1] ?? null,
      }))
      .sort((a, b) => a.x - b.x),
  }));
}

/**
 * Throughput (batch items per second at the median: batch x 1000 / median ms) against `axis`. CI bounds swap (1/x).
 * Against a dim the batch is fixed per line, so this is sequences (or images) per second at each value of the dim.
 */
export function throughputVs(cells: readonly OkCellResult[], axis: SweepAxis): Series[] {
  return latencyVs(cells, axis).map((s) => ({
    label: s.label,
    points: s.points.map((p) => {
      const items = p.items ?? 1;
      return {
        x: p.x,
        y: (items * 1000) / p.y,
        lo: p.hi ? (items * 1000) / p.hi : null,
        hi: p.lo ? (items * 1000) / p.lo : null,
      };
    }),
  }));
}

export const latencyVsBatch = (cells: readonly OkCellResult[]): Series[] => latencyVs(cells, { kind: 'batch' });
export const throughputVsBatch = (cells: readonly OkCellResult[]): Series[] => throughputVs(cells, { kind: 'batch' });

/** Median of each stage per cell, for a stacked bar; a folded stage is 0 here (its time is in the stage named). */
export function stageStacks(cells: readonly OkCellResult[]): {
  labels: string[];
  stages: { stage: Stage; values: number[] }[];
} {
  return {
    labels: cells.map((c) => c.cell.id),
    stages: STAGES.map((stage) => ({ stage, values: cells.map((c) => c.summary[stage]?.median ?? 0) })),
  };
}

/** Empirical CDF of total per pass: x = latency, y = fraction of samples at or below it. */
export function ecdf(cell: OkCellResult): { x: number; y: number }[] {
  const xs = sortSamples(steadySamples(cell).map((s) => s.total));
  return xs.map((x, i) => ({ x, y: (i + 1) / xs.length }));
}

/** Histogram of total per pass with `bins` equal-width bins between the 1st and 99th percentiles (outliers clamp). */
export function histogram(cell: OkCellResult, bins = 30): { from: number; to: number; count: number }[] {
  const sorted = sortSamples(steadySamples(cell).map((s) => s.total));
  const lo = quantile(sorted, 0.01);
  const hi = quantile(sorted, 0.99);
  const width = hi > lo ? (hi - lo) / bins : 1;
  const out = Array.from({ length: bins }, (_, i) => ({ from: lo + i * width, to: lo + (i + 1) * width, count: 0 }));
  for (const v of sorted) out[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]!.count++;
  return out;
}

/**
 * Every pass in order: passes before sampling first (negative index), then samples, split where the steady state
 * begins, with each changepoint and each segment's level, so the warm-up curve and the steady stretch show.
 * The passes before sampling are wall times of whole passes; samples are totals per pass.
 */
export function timeline(cell: OkCellResult): {
  warmup: { x: number; y: number }[];
  /** Samples before the steady state (the warm-up curve) and from it on. */
  settling: { x: number; y: number }[];
  samples: { x: number; y: number }[];
  changepoints: { x: number; label: string }[];
  levels: { from: number; to: number; y: number; steady: boolean }[];
} {
  const w = cell.sampling.warmupPassesMs;
  const start = cell.steadyState.steadyStart;
  const points = cell.samples.map((s, i) => ({ x: i, y: s.total }));
  return {
    warmup: w.map((y, i) => ({ x: i - w.length, y })),
    settling: points.slice(0, start),
    samples: points.slice(start),
    changepoints: markedChangepoints(cell),
    levels: cell.steadyState.segments.map((s) => ({
      from: s.start,
      to: s.end - 1,
      y: s.medianMs,
      steady: s.start >= start,
    })),
  };
}

/** Changepoints drawn on the timeline: at most this many level changes before the steady state, the largest. */
export const MARKED_CHANGEPOINTS = 4;

/**
 * The level changes worth a marker: the start of the steady state, and the largest changes before it. Changes
 * inside the steady stretch (excursions, a machine flipping between speeds) show as segment lines, not markers:
 * a noisy run has dozens, and their labels would cover the chart.
 */
function markedChangepoints(cell: OkCellResult): { x: number; label: string }[] {
  const start = cell.steadyState.steadyStart;
  const before = cell.steadyState.changepoints.filter((c) => c.sample < start);
  const largest = [...before]
    .sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)))
    .slice(0, MARKED_CHANGEPOINTS);
  const marks = largest
    .sort((a, b) => a.sample - b.sample)
    .map((c) => ({ x: c.sample, label: `×${c.ratio.toFixed(2)}` }));
  const at = cell.steadyState.changepoints.find((c) => c.sample === start);
  if (at) marks.push({ x: start, label: `steady from ${(at.afterMs / 1000).toFixed(1)} s` });
  return marks;
}

/** Imported runs side by side: for each cell id, the median of each run that has it (null where absent). */
export function compareBars(runs: readonly { name: string; run: RunResult }[]): {
  labels: string[];
  series: { name: string; values: (number | null)[] }[];
} {
  const ids = [...new Set(runs.flatMap((r) => r.run.cells.filter((c) => c.status === 'ok').map((c) => c.cell.id)))];
  return {
    labels: ids,
    series: runs.map((r) => ({
      name: r.name,
      values: ids.map((id) => {
        const c = r.run.cells.find((x) => x.cell.id === id);
        return c?.status === 'ok' ? c.summary.total.median : null;
      }),
    })),
  };
}
