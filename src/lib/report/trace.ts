/**
 * Chrome trace event JSON (opens in Perfetto and chrome://tracing): one track per cell, each sample's stages as
 * complete ('X') spans laid end to end from the sample's start time. Times in microseconds.
 */
import type { RunResult } from '../schema.ts';
import { STAGES } from '../stages.ts';

interface TraceEvent {
  name: string;
  cat: string;
  ph: 'X' | 'M';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

export function chromeTrace(runs: readonly RunResult[]): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' } {
  const events: TraceEvent[] = [];
  runs.forEach((run, pid) => {
    events.push({
      name: 'process_name',
      cat: '__metadata',
      ph: 'M',
      ts: 0,
      pid,
      tid: 0,
      args: { name: run.device ?? `${run.environment.browser.name} ${run.environment.browser.version}` },
    });
    run.cells.forEach((c, tid) => {
      if (c.status === 'unsupported') return;
      events.push({
        name: 'thread_name',
        cat: '__metadata',
        ph: 'M',
        ts: 0,
        pid,
        tid: tid + 1,
        args: { name: c.cell.id },
      });
      // Samples without a start time (older files) are laid end to end from the cell's start.
      let fallback = Date.parse(c.startedAt) || 0;
      c.samples.forEach((s, i) => {
        const start = s.at ?? fallback;
        let t = start * 1000;
        for (const stage of STAGES) {
          const ms = s[stage];
          if (ms === null) continue;
          // A sample of k passes holds per-pass values: its spans cover k passes' worth of time.
          const dur = ms * s.iterations * 1000;
          events.push({
            name: stage,
            cat: c.cell.id,
            ph: 'X',
            ts: t,
            dur,
            pid,
            tid: tid + 1,
            args: { sample: i, perPassMs: ms, passes: s.iterations },
          });
          t += dur;
        }
        fallback = start + s.total * s.iterations;
      });
    });
  });
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
