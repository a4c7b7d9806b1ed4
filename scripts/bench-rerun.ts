/**
 * Do the lab's numbers hold on the next run? Runs one plan K times as separate CLI runs (a fresh browser each, as a
 * person reruns it tomorrow), then prints per cell the K medians, max/min, how often another run's median fell
 * inside a run's 95% CI (about 80% is what CIs that describe reruns give: two estimates of equal precision), and
 * each run's "vs fastest" verdict. Then every pair of cells of one model and batch compared in each run (paired
 * over invocations, as the lab compares them): a pair is a contradiction when one run says faster and another
 * slower; a pair that one run calls ≈ and another decides is counted apart (a CI that could not tell, not a flip). The machine's own noise at the
 * time matters: run `npm run bench:host-noise` beside it.
 *
 *   npm run bench:rerun -- --runs 5 --models ocr-cls,tiny-cnn --targets ort:wasm,tfjs:wasm --values x=random ...
 *
 * Every option after --runs goes to `latency-lab run` as it is (except --out, which this script sets per run).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareCells, compareToFastest, pairedInRun, type Verdict } from '../src/lib/measure/compare.ts';
import { fmtMs, textTable } from '../src/lib/report/format.ts';
import { okCells, parseRunResult, type OkCellResult } from '../src/lib/schema.ts';

const args = process.argv.slice(2);
// --from DIR: read the results of an earlier bench:rerun (its run-K folders) instead of running again.
const fromAt = args.indexOf('--from');
const from = fromAt >= 0 ? args.splice(fromAt, 2)[1] : undefined;
const at = args.indexOf('--runs');
const runs = at >= 0 ? Number(args[at + 1]) : 5;
if (!Number.isInteger(runs) || runs < 2) throw new Error(`--runs: give a whole number >= 2 (got ${args[at + 1]})`);
const runArgs = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
if (runArgs.includes('--out')) throw new Error('--out is set per run by this script');

const root = resolve(join(import.meta.dirname, '..'));
const tmp = mkdtempSync(join(tmpdir(), 'lab-rerun-'));

/** One CLI run; its ok cells by id (a run that failed is reported and skipped). */
function runOnce(k: number): Map<string, OkCellResult> | null {
  if (from) return readRun(join(from, `run-${k}`));
  const out = join(tmp, `run-${k}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'latency-lab.js'), 'run', ...runArgs, '--out', out], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, CI: '1' },
  });
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  if (r.status !== 0 && r.status !== 1) {
    console.log(`run ${k + 1}/${runs}: exit ${r.status} after ${secs} s\n${r.stderr.slice(-2000)}`);
    return null;
  }
  console.log(`run ${k + 1}/${runs}: ${secs} s`);
  return readRun(out);
}

function readRun(dir: string): Map<string, OkCellResult> {
  const result = parseRunResult(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
  const cells = okCells(result.cells);
  console.log(`${dir}: ${cells.length} ok cells (seed ${result.plan.seed})`);
  return new Map(cells.map((c) => [c.cell.id, c]));
}

const results = Array.from({ length: runs }, (_, k) => runOnce(k)).filter(
  (r): r is Map<string, OkCellResult> => r !== null,
);
const ids = [...new Set(results.flatMap((r) => [...r.keys()]))].sort();
const verdicts = results.map((r) => compareToFastest([...r.values()]));
const verdictOf = (k: number, id: string): Verdict | 'fastest' | '–' => {
  if (!results[k]!.has(id)) return '–';
  const v = verdicts[k]!.get(id);
  return v === null ? 'fastest' : (v?.verdict ?? '–');
};

let inside = 0;
let pairs = 0;
let flips = 0;
const rows = ids.map((id) => {
  const cells = results.map((r) => r.get(id)).filter((c): c is OkCellResult => c !== undefined);
  const medians = cells.map((c) => c.summary.total.median);
  let mine = 0;
  let mineOf = 0;
  // Each run's CI against every other run's median.
  for (const [i, c] of cells.entries()) {
    const ci = c.summary.total.medianCI95;
    for (const [j, m] of medians.entries()) {
      if (i === j || !ci) continue;
      mineOf++;
      if (m >= ci[0] && m <= ci[1]) mine++;
    }
  }
  inside += mine;
  pairs += mineOf;
  const said = [...new Set(results.map((_, k) => verdictOf(k, id)).filter((v) => v !== '–'))];
  if (said.length > 1) flips++;
  return [
    id,
    medians.map((m) => fmtMs(m)).join(', '),
    (Math.max(...medians) / Math.min(...medians)).toFixed(3),
    `${mine} of ${mineOf}`,
    cells.map((c) => `±${(((c.sampling.achievedCI ?? 0) as number) * 100).toFixed(1)}%`).join(' '),
    cells.map((c) => Math.max(1, c.invocations.length)).join(' '),
    said.length > 1 ? `changed: ${said.join(' / ')}` : (said[0] ?? '–'),
  ];
});
console.log(
  `\n${textTable(['cell', `medians of the ${results.length} runs (ms)`, 'max/min', 'others inside CI', 'CI ±', 'inv', 'vs fastest'], rows)}`,
);
// Every pair of cells the lab compares (one model and batch size), run by run.
let contradictions = 0;
let undecided = 0;
const pairRows: string[][] = [];
for (const [i, x] of ids.entries())
  for (const y of ids.slice(i + 1)) {
    const said = results.flatMap((r) => {
      const a = r.get(x);
      const b = r.get(y);
      return a && b && pairedInRun(a, b) ? [compareCells(a, b, { paired: true })] : [];
    });
    if (!said.length) continue;
    const verdicts = new Set(said.map((c) => c.verdict));
    const contradicts = verdicts.has('faster') && verdicts.has('slower');
    if (contradicts) contradictions++;
    else if (verdicts.size > 1) undecided++;
    pairRows.push([
      `${x} vs ${y}`,
      said.map((c) => `${c.ratio.toFixed(2)} (${c.ci95[0].toFixed(2)}-${c.ci95[1].toFixed(2)})`).join(' '),
      said.map((c) => (c.verdict === 'indistinguishable' ? '≈' : c.verdict)).join(' '),
      contradicts ? 'CONTRADICTS' : verdicts.size > 1 ? 'decided in some runs' : 'same every run',
    ]);
  }
if (pairRows.length)
  console.log(`\n${textTable(['pair (ratio a/b, paired 95% CI per run)', 'ratios', 'verdicts', ''], pairRows)}`);
console.log(
  `\nanother run's median inside a run's 95% CI: ${inside} of ${pairs} pairs (${pairs ? ((100 * inside) / pairs).toFixed(0) : '–'}%; about 80% expected when CIs describe reruns)`,
);
console.log(
  `vs fastest changed in ${flips} of ${ids.length} cells; pairs compared: ${pairRows.length}, contradicting (faster in one run, slower in another): ${contradictions}, decided in some runs and ≈ in others: ${undecided}`,
);
console.log(`results: ${tmp}`);
