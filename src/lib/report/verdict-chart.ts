/**
 * The verdict's latency-against-bytes chart for report.html, as SVG (no script, nothing fetched): every candidate
 * with known bytes, the Pareto set drawn as a line through its points, the pick ringed. Pure; labels escaped.
 */
import { fmtBytes, fmtMs } from './format.ts';
import { axisTicks, escapeXml } from './svg-chart.ts';
import { extent } from '../measure/stats.ts';
import type { ModelVerdict } from './verdict.ts';

const W = 860;
const H = 320;
const L = 80;
const R = 24;
const T = 34;
const B = 46;

/** Linear or log scale (log past a 30x span) from [lo, hi] to [a, b]. */
function scale(values: readonly number[], a: number, b: number) {
  const [min, max] = extent(values);
  const log = min > 0 && max / min > 30;
  const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0;
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : max * 1.1 || 1;
  const f = (v: number) =>
    log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi;
  return { at: (v: number) => a + f(v) * (b - a), ticks: axisTicks(log ? lo : 0.000001, hi, log), log };
}

/** Axis ticks are round decimal numbers: said as such (12, 0.5; 200 kB, 1 MB), not as 2.000 or 195.3 KiB. */
const num = (v: number) => String(Number(v.toPrecision(3)));
const decimalBytes = (v: number) => (v >= 1e6 ? `${num(v / 1e6)} MB` : v >= 1e3 ? `${num(v / 1e3)} kB` : `${num(v)} B`);

export function paretoChartSvg(v: ModelVerdict, title: string): string {
  const pts = v.candidates.filter((c) => c.bytes.total !== null);
  if (pts.length === 0) return '';
  const x = scale(
    pts.map((c) => c.medianMs),
    L,
    W - R,
  );
  const y = scale(
    pts.map((c) => c.bytes.total!),
    H - B,
    T,
  );
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="0" y="18" class="t">${escapeXml(title)}</text>`,
  ];
  for (const t of x.ticks)
    parts.push(
      `<line x1="${x.at(t)}" x2="${x.at(t)}" y1="${T}" y2="${H - B}" class="grid"/><text x="${x.at(t)}" y="${H - B + 16}" class="tick" text-anchor="middle">${num(t)}</text>`,
    );
  for (const t of y.ticks)
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${y.at(t)}" y2="${y.at(t)}" class="grid"/><text x="${L - 6}" y="${y.at(t) + 4}" class="tick" text-anchor="end">${decimalBytes(t)}</text>`,
    );
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 6}" class="axis" text-anchor="middle">steady median ms per pass${x.log ? ' (log)' : ''} →; ↑ bytes (model + runtime wasm, raw; kB = 1000 B)${y.log ? ' (log)' : ''}</text>`,
  );
  const front = v.pareto.map((id) => pts.find((c) => c.id === id)!).sort((a, b) => a.medianMs - b.medianMs);
  if (front.length > 1)
    parts.push(
      `<path d="${front.map((c, i) => `${i ? 'L' : 'M'}${x.at(c.medianMs)} ${y.at(c.bytes.total!)}`).join('')}" class="front" fill="none" stroke="#c2410c" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    );
  for (const c of pts) {
    const on = v.pareto.includes(c.id);
    const cx = x.at(c.medianMs);
    const cy = y.at(c.bytes.total!);
    parts.push(
      `<circle cx="${cx}" cy="${cy}" r="5" fill="${on ? '#c2410c' : '#8a93a3'}"><title>${escapeXml(`${c.label}: ${fmtMs(c.medianMs)} ms, ${fmtBytes(c.bytes.total!)}${on ? ' (Pareto)' : ''}`)}</title></circle>`,
    );
    if (c === v.pick) parts.push(`<circle cx="${cx}" cy="${cy}" r="9" fill="none" stroke="#1d7a3b" stroke-width="2"/>`);
    parts.push(
      `<text x="${Math.min(cx + 10, W - R - 4)}" y="${cy - 8}" class="label" text-anchor="${cx > W - 260 ? 'end' : 'start'}">${escapeXml(c.id)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
