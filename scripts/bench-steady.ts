/**
 * Does the lab's steady median match what the runtime does when left to run? For each model and target, each
 * round runs three arms in rotating order (so machine drift hits all alike):
 *  - lab: one cell with the default auto sampling (steady state by changepoint analysis, CI target);
 *  - long: the same cell sampled for --seconds with no target that could stop it; reference = its last half;
 *  - bare: the runtime's own API in a bare loop in a fresh worker for --seconds, every pass timed; reference = the
 *    median of its last half (long past warm-up). Compared with the lab's upload + inference + readback, the same
 *    work; the lab's total adds the preprocess and postprocess an app does.
 * Prints whether the long run's last-half median lies inside the lab's CI, and ratios with bootstrap 95% CIs.
 *
 *   npm run bench:steady [-- --models ocr-cls --targets ort:wasm --rounds 3 --seconds 10]
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { withLabPage } from '../src/cli/driver.ts';
import { ratioOfMedians } from '../src/lib/measure/compare.ts';
import { fmtMs, textTable } from '../src/lib/report/format.ts';
import { SamplingController } from '../src/lib/measure/sampling.ts';
import { okCells, parseRunResult, SamplingSettings, type OkCellResult } from '../src/lib/schema.ts';
import { median, orderedMedianCI, quantile, sortSamples } from '../src/lib/measure/stats.ts';

import { steadySamples, warmupShort } from '../src/lib/measure/warmup-curve.ts';

const { values: v } = parseArgs({
  options: {
    models: { type: 'string', default: 'ocr-cls' },
    targets: { type: 'string', default: 'ort:wasm' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
  },
});
const dist = resolve(join(import.meta.dirname, '..', 'dist'));
// The lab's own page (served build, off-origin requests blocked and recorded); rows of the table come back.
const seconds = Number(v.seconds);
type Arm = 'lab' | 'long' | 'bare';
/** Each round runs the three arms in a different order, so no arm always runs first (or last) on a drifting machine. */
const ORDERS: Arm[][] = [
  ['lab', 'long', 'bare'],
  ['bare', 'lab', 'long'],
  ['long', 'bare', 'lab'],
];
/**
 * Replays the auto-sampling rules on a long run's own samples, block by block, as if the lab had been asked for
 * the defaults: where it would have stopped, and the steady median and CI it would have reported. Against the same
 * run's last half, this isolates the warm-up judgement from the worker-to-worker differences between arms.
 */
function replay(cell: OkCellResult): { median: number; ci: [number, number] | null; samples: number } {
  const c = new SamplingController(SamplingSettings.parse({}), {
    passes: cell.sampling.warmupPasses,
    totalMs: cell.coldStart.warmupTotalMs,
  });
  let i = 0;
  for (let n = c.nextBlock(); n > 0 && i < cell.samples.length; n = c.nextBlock()) {
    const block = cell.samples.slice(i, i + n);
    i += block.length;
    c.record(
      block.map((x) => x.total),
      block.reduce((a, x) => a + x.total * x.iterations, 0),
      block[0]!.iterations,
    );
  }
  const steady = cell.samples.slice(c.steady()!.steadyStart, i).map((x) => x.total);
  const sorted = sortSamples(steady);
  return { median: quantile(sorted, 0.5), ci: orderedMedianCI(steady, sorted), samples: i };
}
const inside = (x: number, ci: [number, number] | null) => (ci !== null && x >= ci[0] && x <= ci[1] ? 'yes' : 'no');
const ratioText = (c: ReturnType<typeof ratioOfMedians>) =>
  `${c.ratio.toFixed(3)} (${c.ci95[0].toFixed(3)}-${c.ci95[1].toFixed(3)})`;

// The lab's own page (served build, off-origin requests blocked and recorded); rows of the table come back.
const { value: rows, offOrigin } = await withLabPage(
  { distDir: dist },
  async () => undefined,
  async (page) => {
    const runCell = async (sampling: object) => {
      const cell = okCells(
        parseRunResult(await page.evaluate(`window.latencyLab.run(${JSON.stringify({ ...request, sampling })})`)).cells,
      )[0];
      if (!cell) throw new Error(`lab cell did not run (${request.models[0]} ${request.targets[0]})`);
      return cell;
    };
    let request = { models: [''], targets: [''], batches: [1] };
    const rows: string[][] = [];
    for (const model of v.models.split(',')) {
      for (const target of v.targets.split(',')) {
        request = { models: [model], targets: [target], batches: [1] };
        for (let r = 0; r < Number(v.rounds); r++) {
          let lab: Awaited<ReturnType<typeof runCell>> | null = null;
          let longCell: OkCellResult | null = null;
          let bare: number[] = [];
          for (const arm of ORDERS[r % ORDERS.length]!) {
            process.stderr.write(`${model} ${target} round ${r + 1}: ${arm} ...\n`);
            if (arm === 'lab') lab = await runCell({});
            // The same cell, sampled for the whole time (no precision target can stop it): every sample's total.
            else if (arm === 'long')
              longCell = await runCell({
                targetCI: 0.0001,
                minWarmupMs: seconds * 1000,
                maxSamplingMs: seconds * 1000,
              });
            else
              bare = (await page.evaluate(
                `window.latencyLab.benchBareLoop(${JSON.stringify(model)}, ${JSON.stringify(target)}, ${seconds})`,
              )) as number[];
          }
          const steady = steadySamples(lab!);
          const t = lab!.summary.total;
          const long = longCell!.samples.map((x) => x.total);
          const longHalf = long.slice(Math.floor(long.length / 2));
          const again = replay(longCell!);
          const bareHalf = bare.slice(Math.floor(bare.length / 2));
          const work = steady.map((x) => (x.upload ?? 0) + (x.inference ?? 0) + (x.readback ?? 0));
          rows.push([
            model,
            target,
            String(r + 1),
            `${fmtMs(t.median)} (${t.medianCI95 ? `${fmtMs(t.medianCI95[0])}-${fmtMs(t.medianCI95[1])}` : '–'})`,
            `${warmupShort(lab!.steadyState)}, ${lab!.sampling.stopReason}`,
            fmtMs(median(longHalf)),
            inside(median(longHalf), t.medianCI95),
            ratioText(
              ratioOfMedians(
                steady.map((x) => x.total),
                longHalf,
                7,
              ),
            ),
            `${fmtMs(again.median)} (${again.ci ? `${fmtMs(again.ci[0])}-${fmtMs(again.ci[1])}` : '–'}) at ${again.samples}/${long.length}: ${inside(median(longHalf), again.ci)}`,
            fmtMs(median(bareHalf)),
            ratioText(ratioOfMedians(work, bareHalf, 7)),
          ]);
        }
      }
    }
    return rows;
  },
);
if (offOrigin.length) throw new Error(`requests left the origin: ${offOrigin.join(', ')}`);
console.log(`\nLab steady median against two references, ${seconds} s each, in rotating order per round (ms):`);
console.log(
  `  long = the same lab cell sampled for ${seconds} s, median of its last half; bare = the runtime's API in a bare loop`,
);
console.log(
  `  in a fresh worker for ${seconds} s, median of its last half. lab work = upload + inference + readback (what the bare loop does).`,
);
console.log(
  "  replayed = the default auto rules run over the long run's own samples: what that worker would have reported.\n",
);
console.log(
  textTable(
    [
      'model',
      'target',
      'round',
      'lab median (95% CI)',
      'lab warm-up, stop',
      'long last half',
      'in lab CI?',
      'lab / long (95% CI)',
      'replayed on long (CI) at stop: last half inside?',
      'bare last half',
      'lab work / bare (95% CI)',
    ],
    rows,
  ),
);
console.log('\nThis machine is shared: rounds differ by more than a CI may. Read each round on its own.');
