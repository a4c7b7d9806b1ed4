/** Serving results as CSV: one row per load point, and one per request (for a person's own analysis). Pure. */
import { csvField, toCsv } from '../report/report-csv.ts';
import type { ServingReport } from '../schema/serving.ts';

export function servingCsv(r: ServingReport): string {
  const header = [
    'max_batch',
    'max_wait_ms',
    'queue_limit',
    'workers',
    'offered_rps',
    'achieved_rps',
    'offered',
    'completed',
    'dropped',
    'failed',
    'p50_ms',
    'p95_ms',
    'p99_ms',
    'p99_ci_lo',
    'p99_ci_hi',
    'mean_ms',
    'mean_batch',
    'formation_ms',
    'queue_ms',
    'inference_ms',
    'overhead_ms',
    'saturated',
    'scheduler_late_p99_ms',
  ];
  return toCsv(
    header,
    r.points.map((p) => [
      p.batcher.maxBatch,
      p.batcher.maxWaitMs,
      p.batcher.queueLimit,
      p.workers,
      p.rate,
      p.achievedRps,
      p.offered,
      p.completed,
      p.dropped,
      p.failed,
      p.latency.p50,
      p.latency.p95,
      p.latency.p99,
      p.p99CI?.[0] ?? null,
      p.p99CI?.[1] ?? null,
      p.latency.mean,
      p.meanBatch,
      p.breakdown.formation,
      p.breakdown.queue,
      p.breakdown.inference,
      p.breakdown.overhead,
      p.saturated,
      p.schedulerLateP99,
    ]),
  );
}

export function requestsCsv(r: ServingReport): string {
  const header = [
    'max_batch',
    'max_wait_ms',
    'workers',
    'offered_rps',
    'request',
    'arrival_ms',
    'ready_ms',
    'start_ms',
    'end_ms',
    'inference_ms',
    'batch',
    'worker',
  ];
  const lines = [header.join(',')];
  for (const p of r.points) {
    const q = p.requests;
    for (let i = 0; i < q.arrival.length; i++)
      lines.push(
        [
          p.batcher.maxBatch,
          p.batcher.maxWaitMs,
          p.workers,
          p.rate,
          i,
          q.arrival[i],
          q.ready[i],
          q.start[i],
          q.end[i],
          q.inference[i],
          q.batch[i],
          q.worker[i],
        ]
          .map(csvField)
          .join(','),
      );
  }
  if (r.monitor) {
    lines.push('', 'monitor_at_ms,monitor_ms');
    r.monitor.samples.at.forEach((t, i) => lines.push(`${t},${r.monitor!.samples.ms[i]}`));
  }
  return lines.join('\n') + '\n';
}
