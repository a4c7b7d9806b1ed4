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

/** Header lines, in device pixels at 2x: the title's, the facts', and the margins around them. */
const TITLE_PX = 38;
const FACTS_PX = 30;
const MARGIN_PX = 24;

/** Words in lines no wider than `width` (a long title wraps instead of running off the image's right edge). */
export function wrapText(measure: (text: string) => number, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && measure(next) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  return line ? [...lines, line] : lines;
}

export function downloadPng(chart: ChartLike, theme: Theme, key: string, facts: string): void {
  const before = chart.options.devicePixelRatio;
  chart.options.devicePixelRatio = 2;
  chart.resize();
  const src = chart.canvas;
  const out = document.createElement('canvas');
  out.width = src.width;
  const ctx = out.getContext('2d')!;
  const titleFont = '600 30px system-ui, sans-serif';
  const factsFont = '22px system-ui, sans-serif';
  const width = out.width - 2 * MARGIN_PX;
  const wrap = (font: string, text: string) => {
    ctx.font = font;
    return wrapText((t) => ctx.measureText(t).width, text, width);
  };
  const title = wrap(titleFont, src.getAttribute('aria-label') ?? key);
  const factLines = wrap(factsFont, facts);
  const head = MARGIN_PX + title.length * TITLE_PX + factLines.length * FACTS_PX + MARGIN_PX / 2;
  out.height = src.height + head; // resizing a canvas resets its context: the fonts are set again below
  // The panel's colour (the body's background is transparent): the chart's own backdrop, light or dark.
  ctx.fillStyle = getComputedStyle(src).getPropertyValue('--panel').trim() || '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  let y = MARGIN_PX;
  ctx.textBaseline = 'top';
  ctx.fillStyle = theme.fg;
  ctx.font = titleFont;
  for (const line of title) {
    ctx.fillText(line, MARGIN_PX, y);
    y += TITLE_PX;
  }
  ctx.fillStyle = theme.muted;
  ctx.font = factsFont;
  for (const line of factLines) {
    ctx.fillText(line, MARGIN_PX, y);
    y += FACTS_PX;
  }
  ctx.drawImage(src, 0, head);
  chart.options.devicePixelRatio = before;
  chart.resize();
  const a = document.createElement('a');
  a.href = out.toDataURL('image/png');
  a.download = `latency-${key}.png`;
  a.click();
}
