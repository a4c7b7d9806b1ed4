/**
 * A chart as a PNG a person can paste anywhere: 2x resolution, an opaque background in the page's theme, the
 * chart's title and the run's facts (models, device) on top. Chart.js's own export is 1x and transparent.
 */
import type { Theme } from './configs.ts';

/** What this needs of a Chart.js chart (kept structural so this file doesn't pull Chart.js in). */
interface ChartLike {
  canvas: HTMLCanvasElement;
  options: { devicePixelRatio?: number };
  resize(): void;
}

/** Header band above the chart, in device pixels at 2x. */
const HEAD_PX = 64 * 2;

export function downloadPng(chart: ChartLike, theme: Theme, key: string, facts: string): void {
  const before = chart.options.devicePixelRatio;
  chart.options.devicePixelRatio = 2;
  chart.resize();
  const src = chart.canvas;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height + HEAD_PX;
  const ctx = out.getContext('2d')!;
  // The panel's colour (the body's background is transparent): the chart's own backdrop, light or dark.
  ctx.fillStyle = getComputedStyle(src).getPropertyValue('--panel').trim() || '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = theme.fg;
  ctx.font = '600 30px system-ui, sans-serif';
  ctx.fillText(src.getAttribute('aria-label') ?? key, 24, 44);
  ctx.fillStyle = theme.muted;
  ctx.font = '22px system-ui, sans-serif';
  ctx.fillText(facts, 24, 88);
  ctx.drawImage(src, 0, HEAD_PX);
  chart.options.devicePixelRatio = before;
  chart.resize();
  const a = document.createElement('a');
  a.href = out.toDataURL('image/png');
  a.download = `latency-${key}.png`;
  a.click();
}
