/**
 * Run progress on stderr: on a terminal, a live block with one line per device (cell, phase, samples, ETA) that
 * redraws in place; otherwise (CI logs, pipes) plain lines as things happen.
 */
import type { CellEvent } from '../lib/contracts/job.ts';
import type { CellResult, Plan } from '../lib/schema.ts';

interface DeviceState {
  total: number;
  done: number;
  started: number;
  cellId: string;
  index: number;
  phase: string;
  samples: number;
  planLine: string;
}

function eta(s: DeviceState): string {
  if (s.done === 0) return 'ETA after the first cell';
  const per = (Date.now() - s.started) / s.done;
  const left = Math.round((per * (s.total - s.done)) / 1000);
  return `ETA ${left >= 60 ? `${Math.floor(left / 60)} min ${left % 60} s` : `${left} s`}`;
}

export class ProgressPrinter {
  private readonly devices = new Map<string, DeviceState>();
  private readonly tty: boolean;
  private drawn = 0;
  private lastPlain = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly quiet: boolean,
    private readonly out: NodeJS.WriteStream,
  ) {
    this.tty = Boolean(out.isTTY) && !process.env.CI;
  }

  private state(device: string | null): DeviceState {
    const key = device ?? '';
    let s = this.devices.get(key);
    if (!s) {
      s = { total: 0, done: 0, started: Date.now(), cellId: '', index: 0, phase: '', samples: 0, planLine: '' };
      this.devices.set(key, s);
    }
    return s;
  }

  private line(text: string): void {
    if (this.quiet) return;
    if (this.tty) {
      this.clear();
      this.out.write(`${text}\n`);
      this.draw();
    } else this.out.write(`${text}\n`);
  }

  plan(device: string | null, plan: Plan): void {
    const s = plan.sampling;
    const how =
      s.mode === 'fixed'
        ? `${s.samples} samples each`
        : `auto sampling to ±${s.targetCI * 100}% (${s.minSamples}-${s.maxSamples} samples, <= ${s.maxSamplingMs / 1000} s)`;
    this.state(device).total = plan.cells.length;
    this.line(
      `${device ? `[${device}] ` : ''}plan: ${plan.cells.length} cells, ${how}, ${plan.schedule}, seed ${plan.seed}`,
    );
    if (this.tty && !this.timer && !this.quiet) this.timer = setInterval(() => this.redraw(), 500);
  }

  cellStart(device: string | null, index: number, total: number, id: string): void {
    const s = this.state(device);
    Object.assign(s, { index, total, cellId: id, phase: 'starting', samples: 0 });
    if (!this.tty) this.line(`${device ? `[${device}] ` : ''}[${index + 1}/${total}] ${id}`);
    else this.redraw();
  }

  cellEvent(device: string | null, index: number, e: CellEvent): void {
    const s = this.state(device);
    if (e.type === 'phase') {
      s.phase = e.phase;
      if (!this.tty) this.line(`        ${e.phase}`);
    } else {
      s.samples = e.from + e.samples.length;
      const last = e.samples[e.samples.length - 1]!;
      if (!this.tty && Date.now() - this.lastPlain > 2000) {
        this.lastPlain = Date.now();
        this.line(
          `        sample ${s.samples}  total ${last.total.toFixed(3)} ms${last.iterations > 1 ? ` (per pass, ${last.iterations} passes)` : ''}`,
        );
      }
    }
    void index;
  }

  cellDone(device: string | null, index: number, r: CellResult): void {
    const s = this.state(device);
    s.done++;
    const what =
      r.status === 'ok'
        ? `median ${r.summary.total.median.toFixed(3)} ms ±${((r.sampling.achievedCI ?? NaN) * 100).toFixed(1)}% (${r.sampling.stopReason}, n=${r.samples.length})`
        : `${r.status}`;
    this.line(
      `${device ? `[${device}] ` : ''}  [${index + 1}/${s.total}] ${r.cell.id} -> ${what}  (${s.done}/${s.total} done, ${eta(s)})`,
    );
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const lines = [...this.devices.entries()]
      .filter(([, s]) => s.done < s.total)
      .map(
        ([name, s]) =>
          `${name ? `[${name}] ` : ''}${s.done}/${s.total} done · now ${s.cellId} · ${s.phase}${s.phase === 'sampling' ? ` ${s.samples}` : ''} · ${eta(s)}`,
      );
    const width = this.out.columns ?? 120;
    for (const l of lines) this.out.write(`${l.slice(0, width - 1)}\n`);
    this.drawn = lines.length;
  }

  private redraw(): void {
    if (this.quiet || !this.tty) return;
    this.clear();
    this.draw();
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty && !this.quiet) this.clear();
  }
}
