/**
 * Does the lab's steady median match what the runtime does when left to run? For each model and target, rounds
 * alternate (so machine drift hits both alike) between:
 *  - the lab: one cell with the default auto sampling (steady state by changepoint analysis, CI target);
 *  - a bare loop: the runtime's own API in a fresh worker for --seconds, every pass timed; its reference is the
 *    median of the last half of its passes (long past any warm-up), and its own steady state is analysed too.
 * Prints each round and the ratio lab / bare with a bootstrap 95% CI (lab steady samples against the bare loop's
 * last half). "Work" is the lab's upload + inference + readback, the same work the bare loop does; "total" adds
 * the app-side preprocess and postprocess the lab times as an app would.
 *
 *   npm run bench:steady [-- --models ocr-cls --targets ort:wasm --rounds 3 --seconds 10]
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { withLabPage } from '../src/cli/driver.ts';
import { ratioOfMedians } from '../src/lib/compare.ts';
import { fmtMs, textTable } from '../src/lib/format.ts';
import { okCells, parseRunResult } from '../src/lib/schema.ts';
import { median } from '../src/lib/stats.ts';
import { analyseSteadyState } from '../src/lib/steady-state.ts';
import { steadySamples, warmupShort } from '../src/lib/warmup-curve.ts';

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
const { value: rows, offOrigin } = await withLabPage({ distDir: dist }, async () => undefined, async (page) => {
  const rows: string[][] = [];
  for (const model of v.models.split(',')) {
    for (const target of v.targets.split(',')) {
      for (let r = 0; r < Number(v.rounds); r++) {
        const order = r % 2 === 0 ? ['lab', 'bare'] : ['bare', 'lab'];
        let lab: { total: number[]; work: number[]; median: number; ci: [number, number] | null; warm: string; stop: string } | null = null;
        let bare: number[] = [];
        for (const which of order) {
          process.stderr.write(`${model} ${target} round ${r + 1}: ${which} ...\n`);
          if (which === 'lab') {
            const request = { models: [model], targets: [target], batches: [1], sampling: {} };
            const result = parseRunResult(await page.evaluate(`window.latencyLab.run(${JSON.stringify(request)})`));
            const cell = okCells(result.cells)[0];
            if (!cell) throw new Error(`lab cell did not run: ${JSON.stringify(result.cells[0]).slice(0, 300)}`);
            const steady = steadySamples(cell);
            lab = {
              total: steady.map((s) => s.total),
              work: steady.map((s) => (s.upload ?? 0) + (s.inference ?? 0) + (s.readback ?? 0)),
              median: cell.summary.total.median,
              ci: cell.summary.total.medianCI95,
              warm: warmupShort(cell.steadyState),
              stop: cell.sampling.stopReason,
            };
          } else {
            bare = (await page.evaluate(`window.latencyLab.benchBareLoop(${JSON.stringify(model)}, ${JSON.stringify(target)}, ${Number(v.seconds)})`)) as number[];
          }
        }
        const lastHalf = bare.slice(Math.floor(bare.length / 2));
        const bareMedian = median(lastHalf);
        const bareSteady = analyseSteadyState(bare);
        let ownMs = 0;
        for (let i = 0; i < bareSteady.steadyStart; i++) ownMs += bare[i]!;
        const work = ratioOfMedians(lab!.work, lastHalf, 7);
        const total = ratioOfMedians(lab!.total, lastHalf, 7);
        const inCI = lab!.ci !== null && bareMedian >= lab!.ci[0] && bareMedian <= lab!.ci[1];
        const ci = (c: typeof work) => `${c.ratio.toFixed(3)} (${c.ci95[0].toFixed(3)}-${c.ci95[1].toFixed(3)})`;
        rows.push([
          model,
          target,
          String(r + 1),
          `${fmtMs(lab!.median)} (${lab!.ci ? `${fmtMs(lab!.ci[0])}-${fmtMs(lab!.ci[1])}` : '–'})`,
          lab!.warm,
          lab!.stop,
          `${fmtMs(bareMedian)} (${bare.length} passes)`,
          `${bareSteady.classification} ${(ownMs / 1000).toFixed(1)} s/${bareSteady.steadyStart}p`,
          inCI ? 'yes' : 'no',
          ci(work),
          ci(total),
        ]);
      }
    }
  }
  return rows;
});
if (offOrigin.length) throw new Error(`requests left the origin: ${offOrigin.join(', ')}`);
console.log(`\nLab steady median vs a bare loop's last half (alternating rounds, one fresh worker each, ${v.seconds} s bare loops; ms)\n`);
console.log(textTable(['model', 'target', 'round', 'lab median (95% CI)', 'lab warm-up', 'lab stop', 'bare last-half median', 'bare steady after', 'bare in lab CI?', 'lab work / bare (95% CI)', 'lab total / bare (95% CI)'], rows));
console.log('\nThis machine is shared: rounds differ by more than any CI. Read the ratios within a round; a harness that shifts the');
console.log('steady level shows in every round, noise does not.');
