/**
 * Chart.js, loaded only when results are shown (it is not part of the first page load), with the pieces the
 * lab's charts use and one small plugin of ours: CI whiskers drawn from each point's `lo`/`hi`.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
  type Plugin,
} from 'chart.js';

export interface WhiskerPoint {
  lo: number | null;
  hi: number | null;
}

/** Draws a 95% CI whisker on every bar or point whose raw data carries `lo` and `hi` (horizontal bars too). */
const ciWhiskers: Plugin = {
  id: 'ciWhiskers',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const horizontal = chart.options.indexAxis === 'y';
    chart.data.datasets.forEach((ds, di) => {
      const meta = chart.getDatasetMeta(di);
      if (meta.hidden) return;
      const whiskers = (ds as unknown as { whiskers?: (WhiskerPoint | null)[] }).whiskers;
      if (!whiskers) return;
      const valueScale = horizontal ? chart.scales.x! : chart.scales.y!;
      ctx.save();
      // Whiskers stay inside the plot: a CI wider than the axis is cut at its edge, not drawn over the labels.
      const area = chart.chartArea;
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      ctx.strokeStyle = getComputedStyle(chart.canvas).getPropertyValue('--text').trim() || '#222';
      ctx.lineWidth = 1.5;
      meta.data.forEach((el, i) => {
        const w = whiskers[i];
        if (!w || w.lo === null || w.hi === null) return;
        const a = valueScale.getPixelForValue(w.lo);
        const b = valueScale.getPixelForValue(w.hi);
        const { x, y } = el.getProps(['x', 'y'], true) as { x: number; y: number };
        ctx.beginPath();
        if (horizontal) {
          ctx.moveTo(a, y);
          ctx.lineTo(b, y);
          ctx.moveTo(a, y - 4);
          ctx.lineTo(a, y + 4);
          ctx.moveTo(b, y - 4);
          ctx.lineTo(b, y + 4);
        } else {
          ctx.moveTo(x, a);
          ctx.lineTo(x, b);
          ctx.moveTo(x - 4, a);
          ctx.lineTo(x + 4, a);
          ctx.moveTo(x - 4, b);
          ctx.lineTo(x + 4, b);
        }
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

export interface VerticalMarker {
  x: number;
  label: string;
}

/** Dashed vertical lines with a label at the top, at x values given in `options.plugins.markers.lines`. */
const markers: Plugin = {
  id: 'markers',
  afterDatasetsDraw(chart, _args, options) {
    const lines = (options as { lines?: VerticalMarker[] }).lines ?? [];
    if (!lines.length) return;
    const { ctx, chartArea } = chart;
    const xScale = chart.scales.x!;
    const colour = getComputedStyle(chart.canvas).getPropertyValue('--text').trim() || '#222';
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.font = '11px system-ui, sans-serif';
    ctx.setLineDash([4, 3]);
    // Each label takes the first of three rows where it doesn't overlap the one before it; with no room, the line
    // stays and the label is left out (the last marker, the steady start, is placed first so it always shows).
    const rows: [number, number][][] = [[], [], []];
    const placed = lines
      .map((m) => ({ m, x: xScale.getPixelForValue(m.x) }))
      .filter((p) => p.x >= chartArea.left && p.x <= chartArea.right);
    for (const p of [...placed.slice(-1), ...placed.slice(0, -1)]) {
      ctx.beginPath();
      ctx.moveTo(p.x, chartArea.top);
      ctx.lineTo(p.x, chartArea.bottom);
      ctx.stroke();
      const width = ctx.measureText(p.m.label).width;
      const left = Math.min(p.x + 3, chartArea.right - width);
      const row = rows.findIndex((taken) => taken.every(([l, r]) => left + width + 6 < l || left > r + 6));
      if (row < 0) continue;
      rows[row]!.push([left, left + width]);
      ctx.fillText(p.m.label, left, chartArea.top + 11 + row * 12);
    }
    ctx.restore();
  },
};

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LogarithmicScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Filler,
  Legend,
  Tooltip,
  ciWhiskers,
  markers,
);

export { Chart };

/** Theme colours from the page's CSS variables, so charts follow light and dark themes. */
export function themeColours(el: Element): { fg: string; muted: string; grid: string } {
  const css = getComputedStyle(el);
  return {
    fg: css.getPropertyValue('--text').trim() || '#1d2330',
    muted: css.getPropertyValue('--muted').trim() || '#5f6673',
    grid: css.getPropertyValue('--border').trim() || '#dde1e7',
  };
}
