/**
 * The Chart.js configurations of the results' charts, one builder per chart, from the chart data of
 * src/lib/report/chart-data.ts. Kept apart from Charts.svelte (which owns canvases and redraws) so each chart reads
 * alone.
 */
import {
  axisTitle,
  ecdf,
  latencyVs,
  medianBars,
  stageStacks,
  sweepValue,
  throughputVs,
  timeline,
  type Series,
  type SweepAxis,
} from '../../lib/report/chart-data.ts';
import type { OkCellResult } from '../../lib/schema.ts';
import { STAGE_COLOURS } from '../../lib/report/svg-chart.ts';
import { PALETTE } from '../../lib/palette.ts';

export type ChartConfig = Record<string, unknown>;

/** The page's theme colours, read off the element the charts sit in. */
export interface Theme {
  fg: string;
  muted: string;
  grid: string;
}

/** A linear or log axis with the theme's colours; a chart with many series on a log axis labels 1, 2, 5 only. */
export function axes(theme: Theme, x: string | string[], y: string, opts: { xLog?: boolean; yLog?: boolean } = {}) {
  // Log axes label only 1, 2 and 5 times a power of ten: Chart.js labels every step, and they overlap ("80.090.0").
  // An axis spanning less than a decade (a steady timeline) has one or no such tick: then 1, 2, 3, 5 and 7 too, so a
  // short axis (a phone) still reads at two heights or more.
  const mantissa = (n: number) => n / 10 ** Math.floor(Math.log10(n));
  const labelled = (n: number, ks: number[]) => ks.some((k) => Math.abs(mantissa(n) - k) < 1e-6);
  const logLabel = (v: number | string, _i: number, ticks: { value: number }[]) => {
    const n = Number(v);
    const few = ticks.filter((t) => labelled(t.value, [1, 2, 5])).length < 2;
    return labelled(n, few ? [1, 2, 3, 5, 7] : [1, 2, 5]) ? String(Number(n.toPrecision(3))) : '';
  };
  // Long titles go as lines: Chart.js squeezes a line that is wider than the chart (a phone) into a smear.
  const axis = (title: string | string[], log?: boolean) => ({
    type: log ? 'logarithmic' : 'linear',
    title: { display: true, text: title, color: theme.fg },
    ticks: { color: theme.muted, ...(log ? { callback: logLabel, autoSkip: false } : {}) },
    grid: { color: theme.grid },
  });
  return { x: axis(x, opts.xLog), y: axis(y, opts.yLog) };
}

/** Cell ids without their model when every cell is of one model (the tables beside them name it): shorter labels. */
function shortIds(ids: readonly string[]): string[] {
  const models = new Set(ids.map((id) => id.split('/')[0]));
  return models.size === 1 ? ids.map((id) => id.slice(id.indexOf('/') + 1)) : [...ids];
}

const colourOf = (i: number) => PALETTE[i % PALETTE.length];
const legendOf = (theme: Theme) => ({ labels: { color: theme.fg } });
/** Largest over smallest positive value: past 30x, a linear axis puts the small ones on zero. */
const spreadOf = (ys: number[]) => {
  const pos = ys.filter((y) => y > 0);
  return pos.length ? Math.max(...pos) / Math.min(...pos) : 1;
};

function lineSets(series: Series[]) {
  return series.map((s, i) => ({
    label: s.label,
    data: s.points.map((p) => ({ x: p.x, y: p.y })),
    whiskers: s.points.map((p) => ({ lo: p.lo, hi: p.hi })),
    borderColor: colourOf(i),
    backgroundColor: colourOf(i),
    showLine: true,
  }));
}

/** Median total per pass per cell, with its 95% CI; over-budget cells in orange; log axis for mixed magnitudes. */
export function medianChart(
  theme: Theme,
  cells: readonly OkCellResult[],
  budgetPass: (c: OkCellResult) => boolean | null,
  budgetLabel: string,
): ChartConfig {
  const bars = medianBars(cells, budgetPass);
  const spread =
    Math.max(...bars.map((b) => b.hi ?? b.median)) / Math.max(1e-9, Math.min(...bars.map((b) => b.lo ?? b.median)));
  const title = [
    `ms per pass${spread > 30 ? ' (log scale)' : ''}; whiskers: 95% CI of the median`,
    ...(budgetLabel ? [`orange: over budget ${budgetLabel}`] : []),
  ];
  const a = axes(theme, title, 'cell', { xLog: spread > 30 });
  return {
    type: 'bar',
    data: {
      labels: shortIds(bars.map((b) => b.label)),
      datasets: [
        {
          label: 'median total per pass (ms)',
          data: bars.map((b) => b.median),
          whiskers: bars.map((b) => ({ lo: b.lo, hi: b.hi })),
          backgroundColor: bars.map((b) => (b.pass === false ? '#D55E00' : '#0072B2')),
        },
      ],
    },
    options: {
      indexAxis: 'y',
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: {
        // The axis reaches the whiskers' ends: a CI wider than the bars is drawn whole, not cut at the axis's edge.
        x: {
          ...a.x,
          suggestedMax: Math.max(...bars.map((b) => b.hi ?? b.median)),
          ...(spread > 30 ? { suggestedMin: Math.min(...bars.map((b) => b.lo ?? b.median)) } : {}),
        },
        y: { ...a.y, type: 'category', title: { display: false } },
      },
    },
  };
}

/** Stage medians stacked per cell. */
export function stagesChart(theme: Theme, cells: readonly OkCellResult[]): ChartConfig {
  const stacks = stageStacks(cells);
  return {
    type: 'bar',
    data: {
      labels: shortIds(stacks.labels),
      datasets: stacks.stages.map((s) => ({ label: s.stage, data: s.values, backgroundColor: STAGE_COLOURS[s.stage] })),
    },
    options: {
      indexAxis: 'y',
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: legendOf(theme) },
      scales: {
        x: {
          ...axes(theme, ['ms per pass (median of each stage)', 'folded stages are counted in inference'], '').x,
          stacked: true,
        },
        // Every cell labelled: Chart.js would skip every other label where the legend (on a phone) takes height.
        y: { stacked: true, ticks: { color: theme.muted, autoSkip: false }, grid: { display: false } },
      },
    },
  };
}

/** Latency and throughput against one swept variable (batch size or a symbolic dim). */
export function sweepCharts(
  theme: Theme,
  cells: readonly OkCellResult[],
  sweep: SweepAxis,
): { latency: ChartConfig; throughput: ChartConfig } {
  // Ticks exactly at the values that ran; log axes once they span 8x or more (1, 4, 16, ... or seq 16..256).
  const values = [...new Set(cells.map((c) => sweepValue(c, sweep)).filter((v): v is number => v !== undefined))].sort(
    (a, b) => a - b,
  );
  const xLog = values[values.length - 1]! / values[0]! >= 8;
  const chart = (series: Series[], y: string): ChartConfig => {
    // Mixed magnitudes (a 0.4 ms wasm line beside a 280 ms software-GPU one) go on a log axis, or the small sit on zero.
    const yLog = spreadOf(series.flatMap((s) => s.points.map((p) => p.y))) > 30;
    const a = axes(theme, axisTitle(sweep), `${y}${yLog ? ' (log scale)' : ''}`, { xLog, yLog });
    const x = {
      ...a.x,
      ticks: { ...a.x.ticks, callback: (v: number | string) => String(v) },
      afterBuildTicks: (axis: { ticks: { value: number }[] }) => void (axis.ticks = values.map((value) => ({ value }))),
    };
    return {
      type: 'scatter',
      data: { datasets: lineSets(series) },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: legendOf(theme) },
        scales: { ...a, x },
      },
    };
  };
  return {
    latency: chart(latencyVs(cells, sweep), 'median ms per pass'),
    throughput: chart(throughputVs(cells, sweep), 'items per second (at the median)'),
  };
}

/** Each cell's distribution of total per pass, as a step line. */
export function ecdfChart(theme: Theme, cells: readonly OkCellResult[]): ChartConfig {
  return {
    type: 'scatter',
    data: {
      datasets: cells.map((c, i) => ({
        label: c.cell.id,
        data: ecdf(c),
        showLine: true,
        stepped: true,
        pointRadius: 0,
        borderColor: colourOf(i),
        backgroundColor: colourOf(i),
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: legendOf(theme) },
      scales: axes(theme, 'ms per pass (log scale)', 'fraction of samples at or below', { xLog: true }),
    },
  };
}

/** One cell's passes in order: warm-up, settling and steady samples, segment levels, and the changepoints. */
export function timelineChart(theme: Theme, cell: OkCellResult): ChartConfig {
  const t = timeline(cell);
  const per = cell.sampling.iterations > 1 ? `, ${cell.sampling.iterations} passes each` : '';
  // Segment levels as flat lines: the steady ones green, the warm-up ones grey.
  const levels = t.levels.map((l) => ({
    label: '',
    data: [
      { x: l.from, y: l.y },
      { x: l.to, y: l.y },
    ],
    showLine: true,
    pointRadius: 0,
    borderWidth: 2.5,
    borderColor: l.steady ? '#009E73' : '#999999',
  }));
  const dots = (label: string, data: unknown, colour: string) => ({
    label,
    data,
    backgroundColor: colour,
    pointRadius: 2,
  });
  const legend = legendOf(theme);
  return {
    type: 'scatter',
    data: {
      datasets: [
        dots('passes before sampling (wall time)', t.warmup, '#E69F00'),
        dots(`warm-up samples (total per pass${per})`, t.settling, '#CC79A7'),
        dots(`steady samples (total per pass${per})`, t.samples, '#0072B2'),
        ...levels,
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: {
        legend: { ...legend, labels: { ...legend.labels, filter: (item: { text: string }) => item.text !== '' } },
        markers: { lines: t.changepoints },
      },
      scales: axes(
        theme,
        ['sample (passes before sampling at negative x)', 'dashed: level changes; lines: segment medians'],
        'ms per pass (log scale)',
        { yLog: true },
      ),
    },
  };
}
