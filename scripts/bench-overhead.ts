/**
 * What does the lab's harness add to a measurement? For each model and target, the same model runs in one
 * worker in rounds, each arm taking one block of samples per round (ratios and CIs paired by round): through the lab's cell pipeline, and in a bare loop that only calls the
 * runtime (make input tensors, run, read outputs). Prints, with 95% CIs over the rounds:
 *   lab work / bare    lab upload + inference + readback against the bare pass: the harness's own cost (target: ~1.00, within 2%)
 *   lab work / bare fresh   against a bare loop given a fresh copy of its inputs each pass, as an app with new data
 *                       each inference (and the lab's preprocess) hands the runtime new buffers
 *   lab total / bare   adds the lab's preprocess (input copy) and postprocess (softmax/top-k), which are app work
 * and the worker boundary: the round trip of one sample-sized message page <-> worker (never inside a stage).
 *
 *   npm run bench:overhead [-- --models tiny-cnn,mobilenet-v2 --targets ort:wasm,tfjs:wasm,litert:wasm --rounds 20 --block 5 --values input=random]
 *
 * litert:wasm needs the model's .tflite file (the zoo has one for tiny-cnn and mobilenet-v2); its bare loop is in
 * src/runtimes/litert.ts (createBare).
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { parsePolicy } from '../src/cli/args.ts';
import { withLabPage } from '../src/cli/driver.ts';
import { pairedRatio } from '../src/lib/measure/invocations.ts';
import { fmtMs, textTable } from '../src/lib/report/format.ts';
import { median } from '../src/lib/measure/stats.ts';
import type { OverheadBench } from '../src/lib/contracts/automation-api.ts';

const { values: v } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny-cnn,mobilenet-v2' },
    targets: { type: 'string', default: 'ort:wasm,tfjs:wasm,litert:wasm' },
    batch: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '20' },
    block: { type: 'string', default: '5' },
    /** Passes timed together per sample on every arm: sub-0.1 ms passes need it to be resolved below the 5 us tick. */
    iterations: { type: 'string', default: '20' },
    /** INPUT=POLICY, repeatable: e.g. input=random to time the model on synthesized values instead of pictures. */
    values: { type: 'string', multiple: true, default: [] },
  },
});
const dist = resolve(join(import.meta.dirname, '..', 'dist'));

/** a/b paired by round: the median of each round's block on either side, then their ratios' geometric mean and CI. */
function byRound(a: readonly number[], b: readonly number[], block: number): { ratio: number; ci95: [number, number] } {
  const rounds = (xs: readonly number[]) =>
    Array.from({ length: Math.floor(xs.length / block) }, (_, k) => median(xs.slice(k * block, (k + 1) * block)));
  const r = pairedRatio(rounds(a), rounds(b));
  if (!r) throw new Error('fewer than two rounds: give --rounds 2 or more');
  return r;
}
let isolated = false;
const { value: rows, offOrigin } = await withLabPage(
  { distDir: dist },
  async () => undefined,
  async (page) => {
    const rows: string[][] = [];
    for (const model of v.models.split(',')) {
      for (const target of v.targets.split(',')) {
        const values = Object.fromEntries(
          v.values.map((x) => [x.slice(0, x.indexOf('=')), parsePolicy(x.slice(x.indexOf('=') + 1))]),
        );
        const args = [model, target, Number(v.batch), Number(v.rounds), Number(v.block), values, Number(v.iterations)]
          .map((a) => JSON.stringify(a))
          .join(', ');
        process.stderr.write(`${model} ${target} ...\n`);
        const r = (await page.evaluate(`window.latencyLab.benchOverhead(${args})`)) as OverheadBench;
        isolated = r.crossOriginIsolated;
        // The arms took turns round by round: a ratio of the round's medians per round, its CI a t-interval over
        // the rounds (paired), so the machine's wander, which a round's arms share, drops out.
        const block = Number(v.block);
        const work = byRound(r.labWork, r.bare, block);
        const total = byRound(r.lab, r.bare, block);
        const fresh = byRound(r.labWork, r.bareFresh, block);
        const ci = (c: typeof work) => `${c.ratio.toFixed(3)} (${c.ci95[0].toFixed(3)}-${c.ci95[1].toFixed(3)})`;
        const within = work.ci95[0] <= 1.02 && work.ci95[1] >= 0.98 ? 'yes' : 'no';
        rows.push([
          model,
          target,
          String(r.bare.length),
          fmtMs(median(r.bare)),
          fmtMs(median(r.labWork)),
          fmtMs(median(r.lab)),
          ci(work),
          within,
          fmtMs(median(r.bareFresh)),
          ci(fresh),
          ci(total),
          `${(median(r.boundary) * 1000).toFixed(0)} us`,
        ]);
      }
    }
    return rows;
  },
);
if (offOrigin.length) throw new Error(`requests left the origin: ${offOrigin.join(', ')}`);
console.log(
  `\nHarness overhead: lab pipeline vs a bare runtime loop, alternating blocks of ${v.block} samples of ${v.iterations} passes in one worker (medians per pass in ms; cross-origin isolated: ${isolated})\n`,
);
console.log(
  textTable(
    [
      'model',
      'target',
      'n',
      'bare',
      'lab work',
      'lab total',
      'lab work / bare (95% CI)',
      'consistent with ±2%?',
      'bare fresh',
      'lab work / bare fresh (95% CI)',
      'lab total / bare (95% CI)',
      'boundary RTT',
    ],
    rows,
  ),
);
console.log(
  '\nlab work = upload + inference + readback; lab total adds the preprocess (pictures: decode + resize + normalise) and postprocess the lab does as an app would.',
);
console.log(
  "The bare loop runs on the same values (pictures decoded once); after a decode, a small model's inference runs slower than in a tight loop.",
);
console.log(
  'bare fresh = the bare loop fed a fresh copy of its inputs each pass (copied before its clock starts), as the lab and an app with new data each inference do: lab work / bare fresh near 1 means what remains of lab work / bare is the fresh buffers, which an app pays too.',
);
console.log(
  "litert's bare pass also deletes its tensors (LiteRT's memory is managed by hand); the lab deletes them outside its timed stages (so it counts against bare, as tfjs's dispose does).",
);
console.log('boundary RTT = one sample-sized message page -> worker -> page (Comlink); it never falls inside a stage.');
