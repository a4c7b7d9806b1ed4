/**
 * Small SVG charts as strings, for the self-contained report.html (no script, no fetch: opens anywhere, prints
 * well). Pure; labels are escaped, so model names can't inject markup.
 */
import { fmtMs } from './format.ts';
import { PALETTE } from '../palette.ts';
import type { Stage } from '../schema.ts';
import { extent } from '../measure/stats.ts';
import { STAGES } from '../stages.ts';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface MedianBar {
  label: string;
  median: number;
  lo: number | null;
  hi: number | null;
  /** Marked (e.g. failed budget) bars are drawn in the warning colour. */
  marked?: boolean;
}

/** Tick values for an axis from lo to hi: 1-2-5 steps on a log scale, round steps on a linear one. */
export function axisTicks(lo: number, hi: number, log: boolean): number[] {
  const ticks: number[] = [];
  if (log) {
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
      }
    }
    return ticks;
  }
  const step = niceStep(hi / 5);
  for (let v = 0; v <= hi * 1.0001; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function niceStep(raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw));
  const f = raw / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

const W = 860;
const LABEL_W = 300;
const ROW_H = 24;

/** Horizontal bars of median per pass with 95% CI whiskers; log scale when values span more than 30x. */
export function medianChartSvg(bars: readonly MedianBar[], title: string): string {
  if (bars.length === 0) return '';
  const values = bars.flatMap((b) => [b.median, b.lo ?? b.median, b.hi ?? b.median]).filter((v) => v > 0);
  const [min, max] = extent(values);
  const log = max / min > 30;
  const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0;
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : max * 1.1;
  const plotW = W - LABEL_W - 30;
  const x = (v: number) =>
    LABEL_W +
    (log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi) * plotW;
  const top = 34;
  const h = top + bars.length * ROW_H + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="0" y="18" class="t">${escapeXml(title)}</text>`,
  ];
  for (const t of axisTicks(log ? lo : 0.000001, hi, log)) {
    const tx = x(t);
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${top - 4}" y2="${top + bars.length * ROW_H}" class="grid"/>`);
    parts.push(
      `<text x="${tx}" y="${top + bars.length * ROW_H + 16}" class="tick" text-anchor="middle">${fmtMs(t)}</text>`,
    );
  }
  parts.push(
    `<text x="${LABEL_W + plotW / 2}" y="${h - 4}" class="axis" text-anchor="middle">ms per pass${log ? ' (log scale)' : ''}; whiskers: 95% CI of the median</text>`,
  );
  bars.forEach((b, i) => {
    const y = top + i * ROW_H;
    const x0 = x(log ? lo : 0);
    parts.push(`<text x="${LABEL_W - 8}" y="${y + 16}" class="label" text-anchor="end">${escapeXml(b.label)}</text>`);
    parts.push(
      `<rect x="${x0}" y="${y + 5}" width="${Math.max(1, x(b.median) - x0)}" height="${ROW_H - 10}" class="${b.marked ? 'bar marked' : 'bar'}"><title>${escapeXml(`${b.label}: median ${fmtMs(b.median)} ms`)}</title></rect>`,
    );
    if (b.lo !== null && b.hi !== null) {
      const cy = y + ROW_H / 2;
      parts.push(
        `<path d="M${x(b.lo)} ${cy}H${x(b.hi)}M${x(b.lo)} ${cy - 5}V${cy + 5}M${x(b.hi)} ${cy - 5}V${cy + 5}" class="ci"/>`,
      );
    }
    parts.push(
      `<text x="${Math.min(W - 4, x(b.hi ?? b.median) + 6)}" y="${y + 16}" class="val">${fmtMs(b.median)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

export const STAGE_COLOURS: Record<Stage, string> = {
  preprocess: '#8c6bb1',
  upload: '#2b8cbe',
  inference: '#e6550d',
  readback: '#31a354',
  postprocess: '#969696',
};

export interface StageBar {
  label: string;
  stages: Record<Stage, number | null>;
  total: number;
}

/** Where the time goes: each cell's median stages as shares of its total (100% bars), total printed beside. */
export function stageShareSvg(bars: readonly StageBar[], title: string): string {
  if (bars.length === 0) return '';
  const plotW = W - LABEL_W - 90;
  const top = 50;
  const h = top + bars.length * ROW_H + 12;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="0" y="18" class="t">${escapeXml(title)}</text>`,
  ];
  STAGES.forEach((s, i) => {
    const lx = LABEL_W + i * 110;
    parts.push(
      `<rect x="${lx}" y="28" width="12" height="12" fill="${STAGE_COLOURS[s]}"/><text x="${lx + 16}" y="38" class="tick">${s}</text>`,
    );
  });
  bars.forEach((b, i) => {
    const y = top + i * ROW_H;
    parts.push(`<text x="${LABEL_W - 8}" y="${y + 16}" class="label" text-anchor="end">${escapeXml(b.label)}</text>`);
    const sum = STAGES.reduce((a, s) => a + (b.stages[s] ?? 0), 0) || 1;
    let x = LABEL_W;
    for (const s of STAGES) {
      const v = b.stages[s];
      if (!v) continue;
      const w = (v / sum) * plotW;
      parts.push(
        `<rect x="${x}" y="${y + 5}" width="${w}" height="${ROW_H - 10}" fill="${STAGE_COLOURS[s]}"><title>${escapeXml(`${b.label} ${s}: ${fmtMs(v)} ms (${((v / sum) * 100).toFixed(1)}%)`)}</title></rect>`,
      );
      x += w;
    }
    parts.push(`<text x="${LABEL_W + plotW + 6}" y="${y + 16}" class="val">${fmtMs(b.total)} ms</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface LineSeries {
  label: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

const LINE_COLOURS = PALETTE;

/** Lines with markers; y on a log scale when it spans more than 30x (latency past saturation explodes). */
export function lineChartSvg(
  series: readonly LineSeries[],
  title: string,
  xLabel: string,
  yLabel: string,
  opts: { hline?: { y: number; label: string } } = {},
): string {
  const pts = series.flatMap((s) => s.points);
  if (!pts.length) return '';
  const H = 300;
  const left = 70;
  const top = 30;
  const plotW = W - left - 190;
  const plotH = H - top - 50;
  const xs = pts.map((p) => p.x);
  const ys = [...pts.map((p) => p.y), ...(opts.hline ? [opts.hline.y] : [])].filter((y) => y > 0);
  // A day's monitor at 0.5 s windows is 172,800 points a series: no spreading them into Math.min.
  const [xMin, xMax] = extent(xs);
  const [yMin, yMax] = extent(ys);
  const log = yMax / yMin > 30;
  const ylo = log ? 10 ** Math.floor(Math.log10(yMin)) : 0;
  const yhi = log ? 10 ** Math.ceil(Math.log10(yMax)) : yMax * 1.1;
  const x = (v: number) => left + (xMax === xMin ? plotW / 2 : ((v - xMin) / (xMax - xMin)) * plotW);
  const y = (v: number) =>
    top +
    plotH -
    (log ? (Math.log10(Math.max(v, ylo)) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo)) : v / yhi) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="0" y="18" class="t">${escapeXml(title)}</text>`,
  ];
  for (const t of axisTicks(log ? ylo : 0.000001, yhi, log)) {
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(t)}" y2="${y(t)}" class="grid"/><text x="${left - 6}" y="${y(t) + 4}" class="tick" text-anchor="end">${fmtMs(t)}</text>`,
    );
  }
  for (const v of [...new Set(xs)].sort((a, b) => a - b))
    parts.push(
      `<text x="${x(v)}" y="${top + plotH + 16}" class="tick" text-anchor="middle">${Number(v.toPrecision(4))}</text>`,
    );
  parts.push(
    `<text x="${left + plotW / 2}" y="${H - 6}" class="axis" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  );
  parts.push(
    `<text x="12" y="${top + plotH / 2}" class="axis" text-anchor="middle" transform="rotate(-90 12 ${top + plotH / 2})">${escapeXml(yLabel)}${log ? ' (log)' : ''}</text>`,
  );
  if (opts.hline)
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(opts.hline.y)}" y2="${y(opts.hline.y)}" stroke="#D55E00" stroke-dasharray="6 4"/><text x="${left + plotW - 4}" y="${y(opts.hline.y) - 4}" class="tick" text-anchor="end">${escapeXml(opts.hline.label)}</text>`,
    );
  // One part a point: pushed one by one, as a spread into push() overflows the stack past a few hundred thousand.
  series.forEach((s, i) => {
    for (const part of seriesSvg(s, i, { x, y }, { left: left + plotW, top })) parts.push(part);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** One series: its line, a marker per point (with its value on hover), and its legend entry right of the plot. */
function seriesSvg(
  s: LineSeries,
  i: number,
  scale: { x: (v: number) => number; y: (v: number) => number },
  legend: { left: number; top: number },
): string[] {
  const c = LINE_COLOURS[i % LINE_COLOURS.length];
  const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
  const sorted = [...s.points].sort((a, b) => a.x - b.x);
  const at = (p: { x: number; y: number }) => [scale.x(p.x).toFixed(1), scale.y(p.y).toFixed(1)] as const;
  const path = sorted.map((p, j) => `${j ? 'L' : 'M'}${at(p).join(',')}`).join('');
  const ly = legend.top + 8 + i * 18;
  return [
    `<path d="${path}" fill="none" stroke="${c}" stroke-width="2"${dash}/>`,
    ...sorted.map(
      (p) =>
        `<circle cx="${at(p)[0]}" cy="${at(p)[1]}" r="3" fill="${c}"><title>${escapeXml(`${s.label}: ${p.x} -> ${fmtMs(p.y)}`)}</title></circle>`,
    ),
    `<line x1="${legend.left + 14}" x2="${legend.left + 34}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"${dash}/><text x="${legend.left + 40}" y="${ly + 4}" class="tick">${escapeXml(s.label)}</text>`,
  ];
}
