/**
 * The verdict's chart on the page: every candidate's steady median against its bytes (model + runtime wasm), the
 * Pareto set joined by a line, the pick ringed (its CI is in the table:
 * the whisker plugin draws on the value axis only). The reports draw the same as SVG
 * (src/lib/report/verdict-chart.ts).
 */
import type { ModelVerdict, VerdictCandidate } from '../../lib/report/verdict.ts';
import { fmtBytes, fmtMs } from '../../lib/report/format.ts';
import { axes, type ChartConfig, type Theme } from './configs.ts';

const MB = 1024 * 1024;

export function paretoChart(theme: Theme, v: ModelVerdict): ChartConfig {
  const known = v.candidates.filter((c) => c.bytes.total !== null);
  const point = (c: VerdictCandidate) => ({ x: c.medianMs, y: c.bytes.total! / MB, id: c.id, label: c.label });
  const front = known.filter((c) => v.pareto.includes(c.id)).sort((a, b) => a.medianMs - b.medianMs);
  const rest = known.filter((c) => !v.pareto.includes(c.id));
  const xs = known.map((c) => c.medianMs);
  const xLog = Math.max(...xs) / Math.min(...xs) > 30;
  return {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: 'Pareto set (no other is both faster and smaller)',
          data: front.map(point),
          showLine: front.length > 1,
          borderColor: '#c2410c',
          backgroundColor: '#c2410c',
          borderDash: [4, 3],
          pointRadius: front.map((c) => (c === v.pick ? 8 : 5)),
          pointBorderColor: front.map((c) => (c === v.pick ? '#1d7a3b' : '#c2410c')),
          pointBorderWidth: front.map((c) => (c === v.pick ? 3 : 1)),
        },
        {
          label: 'other candidates',
          data: rest.map(point),
          borderColor: '#8a93a3',
          backgroundColor: '#8a93a3',
          pointRadius: rest.map((c) => (c === v.pick ? 8 : 5)),
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: axes(theme, 'steady median, ms per pass', 'MiB (model + runtime wasm, raw)', { xLog }),
      plugins: {
        legend: { labels: { color: theme.fg } },
        tooltip: {
          callbacks: {
            label: (ctx: { raw: { x: number; y: number; label: string } }) =>
              `${ctx.raw.label}: ${fmtMs(ctx.raw.x)} ms, ${fmtBytes(Math.round(ctx.raw.y * MB))}`,
          },
        },
      },
    },
  };
}
