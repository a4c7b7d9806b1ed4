/**
 * Is this machine quiet enough to judge a precision target? Two bare loops in this Node process, interleaved in
 * blocks so both see the same moments: a compute loop (arithmetic in registers and L1, like a small model's
 * kernels) and a memory loop (copying 32 MiB, past the caches, like decoding a photo or a large model's weights).
 * Prints each loop's spread (p10 and p90 against the median), its lag-1 correlation and autocorrelation time (how
 * long the wander lasts), and its drift (last third's median against the first's, block-bootstrap 95% CI).
 *
 * On a quiet machine both spreads are a few %. On a shared VM the memory loop can wander 10-30% for hundreds of ms
 * at a time while the compute loop stays within 3%: then cells whose passes touch much memory (pictures, big models)
 * need far longer than 10 s for a +-2% median, and the lab's time-cap projection ("~40 s") says so.
 *
 *   npm run bench:host-noise [-- --seconds 10]
 */
import { parseArgs } from 'node:util';
import { ratioOfMedians } from '../src/lib/measure/compare.ts';
import { autocorrelationTime } from '../src/lib/measure/dependence.ts';
import { textTable } from '../src/lib/report/format.ts';
import { quantile, sortSamples } from '../src/lib/measure/stats.ts';

const { values: v } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const seconds = Number(v.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${v.seconds}`);

const src = new Float32Array(4 << 20);
const dst = new Float32Array(4 << 20);
src.fill(1.5);
let sink = 0;

/** About 1 ms of arithmetic on a few registers. */
function computePass(): void {
  let x = 0;
  for (let j = 0; j < 250_000; j++) x += Math.sqrt(j ^ 7);
  sink += x;
}

/** Two copies of 16 MiB each way: 64 MiB of traffic, far past a 2 MiB L2. */
function memoryPass(): void {
  dst.set(src);
  src.set(dst);
  sink += dst[sink & 1023]!;
}

const loops = { compute: computePass, memory: memoryPass };
const times: Record<keyof typeof loops, number[]> = { compute: [], memory: [] };
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  for (const [name, pass] of Object.entries(loops) as [keyof typeof loops, () => void][]) {
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      pass();
      times[name].push(performance.now() - t0);
    }
  }
}

function lag1(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    den += (xs[i]! - m) ** 2;
    if (i > 0) num += (xs[i]! - m) * (xs[i - 1]! - m);
  }
  return den > 0 ? num / den : 0;
}

const rows = (Object.keys(times) as (keyof typeof loops)[]).map((name) => {
  const xs = times[name];
  const s = sortSamples(xs);
  const med = quantile(s, 0.5);
  const third = Math.floor(xs.length / 3);
  const drift = ratioOfMedians(xs.slice(xs.length - third), xs.slice(0, third));
  const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(0)}%`;
  return [
    name,
    String(xs.length),
    med.toFixed(3),
    `${pct(quantile(s, 0.1) / med)} / ${pct(quantile(s, 0.9) / med)}`,
    lag1(xs).toFixed(2),
    autocorrelationTime(xs).toFixed(1),
    `${pct(drift.ratio)} (${drift.ci95[0].toFixed(3)}–${drift.ci95[1].toFixed(3)})`,
  ];
});
console.log(`host noise over ${seconds} s (blocks of 20 passes, loops interleaved; sink ${sink > 0 ? 'ok' : '?'})`);
console.log(
  textTable(['loop', 'passes', 'median ms', 'p10 / p90', 'lag-1', 'autocorr. time', 'drift (last/first third)'], rows),
);
