/**
 * Serving results as tables, Markdown and self-contained HTML with SVG charts (latency percentiles and throughput
 * against offered load, per-request breakdown, monitor timeline); their CSV is csv.ts. Pure.
 */
import { fmtMs, textTable } from '../report/format.ts';
import { escapeXml, lineChartSvg, type LineSeries } from '../report/svg-chart.ts';
import { saturationStart } from './report.ts';
import type { BatcherConfig, ServingPoint, ServingReport } from '../schema/serving.ts';

export function batcherLabel(b: BatcherConfig, workers: number): string {
  const batching = b.maxBatch === 1 ? 'no batching' : `batch <= ${b.maxBatch}, wait <= ${b.maxWaitMs} ms`;
  return `${batching}, ${workers} worker${workers > 1 ? 's' : ''}`;
}

/** A short label for chart legends: "no batch", "b<=8 5ms", with "x2" when the pool has several workers. */
export function shortLabel(b: BatcherConfig, workers: number): string {
  return `${b.maxBatch === 1 ? 'no batch' : `b<=${b.maxBatch} ${b.maxWaitMs}ms`}${workers > 1 ? ` x${workers}` : ''}`;
}

/** Points grouped by batcher setting and pool size, in sweep order. */
export function groups(points: readonly ServingPoint[]): { label: string; long: string; points: ServingPoint[] }[] {
  const map = new Map<string, ServingPoint[]>();
  for (const p of points) {
    const key = batcherLabel(p.batcher, p.workers);
    map.set(key, [...(map.get(key) ?? []), p]);
  }
  return [...map.values()].map((ps) => ({
    label: shortLabel(ps[0]!.batcher, ps[0]!.workers),
    long: batcherLabel(ps[0]!.batcher, ps[0]!.workers),
    points: ps.sort((a, b) => a.rate - b.rate),
  }));
}

export function servingTable(r: ServingReport): string {
  const rows = r.points.map((p) => [
    batcherLabel(p.batcher, p.workers),
    String(p.rate),
    p.achievedRps.toFixed(1),
    fmtMs(p.latency.p50),
    fmtMs(p.latency.p95),
    fmtMs(p.latency.p99),
    p.predicted ? `${fmtMs(p.predicted.p50)} / ${fmtMs(p.predicted.p99)}` : '–',
    p.meanBatch.toFixed(2),
    fmtMs(p.breakdown.formation),
    fmtMs(p.breakdown.queue),
    fmtMs(p.breakdown.inference),
    String(p.dropped),
    String(p.failed),
    [
      p.saturated ? 'SATURATED' : '',
      p.failed ? `FAILED: ${p.failures[0] ?? ''}`.slice(0, 60) : '',
      p.overlapped?.length ? `OVERLAPPED: ${p.overlapped.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  ]);
  return textTable(
    [
      'setting',
      'offered/s',
      'achieved/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'sim p50/p99',
      'mean batch',
      'form ms',
      'queue ms',
      'infer ms',
      'dropped',
      'failed',
      '',
    ],
    rows,
  );
}

export function capacityLines(r: ServingReport): string[] {
  return r.capacity.map((c) => {
    const what = `${batcherLabel(c.batcher, c.workers)}: capacity at ${c.percentile} <= ${c.budgetMs} ms`;
    const crowded = c.overlapped?.length ? `; OVERLAPPED: measured while ${c.overlapped.join(', ')} ran` : '';
    const tried = `${c.probes.length} probes${crowded}`;
    if (c.rate === null)
      return `${what}: none (even the lowest rate tried, ${Math.min(...c.probes.map((p) => p.rate)).toFixed(1)} req/s, missed the budget; ${tried})`;
    if (c.bracket === null)
      return `${what}: at least ${c.rate.toFixed(1)} req/s (no failing rate found up to ${c.rate.toFixed(1)}; ${tried})`;
    return `${what}: ${c.rate.toFixed(1)} req/s (between ${c.bracket[0].toFixed(1)}, which passed, and ${c.bracket[1].toFixed(1)}, which failed; ${tried})`;
  });
}

export function servingCharts(r: ServingReport): string[] {
  const out = r.points.length ? loadCharts(r) : [];
  if (r.monitor) {
    const m = r.monitor;
    out.push(
      lineChartSvg(
        [
          { label: 'p50 per window', points: m.windows.map((w) => ({ x: w.startMs / 1000, y: w.p50 })) },
          { label: 'p99 per window', points: m.windows.map((w) => ({ x: w.startMs / 1000, y: w.p99 })) },
        ],
        `Monitor: ${m.samples.ms.length} inferences every ${m.cadenceMs} ms, ${m.windowMs / 1000} s windows`,
        'time, s',
        'ms',
      ),
    );
  }
  return out;
}

/** A sweep's charts: latency percentiles, throughput, and where a request waits, against offered load. */
function loadCharts(r: ServingReport): string[] {
  const g = groups(r.points);
  const budget = r.capacity[0];
  const hline = budget
    ? { y: budget.budgetMs, label: `budget ${budget.percentile} <= ${budget.budgetMs} ms` }
    : undefined;
  const lat: LineSeries[] = g.flatMap((x) => [
    { label: `${x.label} p99`, points: x.points.map((p) => ({ x: p.rate, y: p.latency.p99 })) },
    { label: `${x.label} p50`, points: x.points.map((p) => ({ x: p.rate, y: p.latency.p50 })), dashed: true },
  ]);
  const tp: LineSeries[] = [
    ...g.map((x) => ({ label: x.label, points: x.points.map((p) => ({ x: p.rate, y: p.achievedRps })) })),
    { label: 'offered = achieved', points: r.points.map((p) => ({ x: p.rate, y: p.rate })), dashed: true },
  ];
  // Values under 1 us are drawn at 1 us (log axis).
  const line = (points: ServingPoint[], label: string, y: (p: ServingPoint) => number, dashed = false) => ({
    label,
    points: points.map((p) => ({ x: p.rate, y: Math.max(y(p), 0.001) })),
    ...(dashed ? { dashed } : {}),
  });
  // Formation is zero without batching: no line for it.
  const waits: LineSeries[] = g.flatMap((x) => [
    ...(x.points[0]!.batcher.maxBatch > 1
      ? [line(x.points, `${x.label} forming`, (p) => p.breakdown.formation, true)]
      : []),
    line(x.points, `${x.label} queue`, (p) => p.breakdown.queue),
    line(x.points, `${x.label} inference`, (p) => p.breakdown.inference),
  ]);
  const load = 'offered load, requests/s';
  return [
    lineChartSvg(lat, `Latency against offered load (${r.modelId}, ${r.target})`, load, 'end-to-end latency, ms', {
      hline,
    }),
    lineChartSvg(tp, 'Throughput against offered load', load, 'achieved, requests/s'),
    lineChartSvg(waits, 'Where a request waits (medians per request)', load, 'ms'),
  ];
}

export function servingMarkdown(r: ServingReport): string {
  const out = [`## Serving: ${r.modelId} on ${r.target} (${r.threads} thread${r.threads > 1 ? 's' : ''})`, ''];
  if (r.points.length) {
    out.push('```', servingTable(r), '```', '');
    for (const g of groups(r.points)) {
      const s = saturationStart(g.points);
      out.push(`- ${g.long}: ${s === null ? 'not saturated in the range tried' : `saturated from ${s} req/s`}`);
    }
    for (const l of capacityLines(r)) out.push(`- ${l}`);
    out.push(
      '',
      'Service time per batch size (median on the workers): ' +
        r.serviceByBatch.map((b) => `${b.batch}: ${fmtMs(b.medianMs)} ms`).join(', '),
    );
  }
  if (r.monitor) {
    const m = r.monitor;
    out.push('', `### Monitor: ${m.samples.ms.length} inferences over ${(m.durationMs / 1000).toFixed(0)} s`, '');
    out.push(
      '```',
      textTable(
        ['window s', 'n', 'p50', 'p95', 'p99', 'vs base', 'flag', 'js heap', 'wasm heap'],
        m.windows.map((w) => [
          (w.startMs / 1000).toFixed(0),
          String(w.n),
          fmtMs(w.p50),
          fmtMs(w.p95),
          fmtMs(w.p99),
          w.ratio.toFixed(3),
          w.flagged ? 'DRIFT' : '',
          w.jsHeapBytes === null ? '' : String(w.jsHeapBytes),
          w.wasmHeapBytes === null ? '' : String(w.wasmHeapBytes),
        ]),
      ),
      '```',
    );
    out.push(
      '',
      m.heapGrowthPerHour === null
        ? 'No heap readings.'
        : `Heap growth: ${(m.heapGrowthPerHour / 1024 / 1024).toFixed(2)} MiB per hour.`,
    );
    for (const f of m.flags) out.push(`- ${f}`);
  }
  return out.join('\n') + '\n';
}

export function servingHtml(r: ServingReport, header: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Serving report</title>',
    '<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px}pre{font-size:12px;overflow:auto}svg .t{font-size:14px;font-weight:600}svg .tick,svg .axis{font-size:11px;fill:#5f6673}svg .grid{stroke:#e3e6eb}@media (prefers-color-scheme:dark){body{background:#14171c;color:#e6e8eb}svg .t{fill:#e6e8eb}svg .grid{stroke:#2c3139}}</style></head><body>',
    `<h1>Serving report</h1><p>${escapeXml(header)}</p>`,
    ...servingCharts(r),
    `<pre>${escapeXml(servingMarkdown(r))}</pre>`,
    '</body></html>',
  ].join('\n');
}

/** Two serving runs side by side: load points matched by setting, pool size and offered rate. */
export function compareServing(
  base: ServingReport,
  other: ServingReport,
): {
  setting: string;
  rate: number;
  baseP99: number;
  otherP99: number;
  ratio: number;
  baseRps: number;
  otherRps: number;
}[] {
  const key = (p: ServingPoint) => `${batcherLabel(p.batcher, p.workers)}|${p.rate}`;
  const theirs = new Map(other.points.map((p) => [key(p), p]));
  return base.points.flatMap((p) => {
    const o = theirs.get(key(p));
    return o
      ? [
          {
            setting: batcherLabel(p.batcher, p.workers),
            rate: p.rate,
            baseP99: p.latency.p99,
            otherP99: o.latency.p99,
            ratio: o.latency.p99 / p.latency.p99,
            baseRps: p.achievedRps,
            otherRps: o.achievedRps,
          },
        ]
      : [];
  });
}
