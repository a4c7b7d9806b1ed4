/** `latency-lab compare` and `latency-lab validate`: reading a results file back (the flags are in main.ts' help). */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  compareCells,
  compareToFastest,
  DEFAULT_THRESHOLD,
  describeComparison,
  pairedInRun,
} from '../lib/measure/compare.ts';
import { fmtMs, fmtVerdict, textTable } from '../lib/report/format.ts';
import { okCells, parseResultFile, type Stage } from '../lib/schema.ts';
import { num, UsageError } from './args.ts';
import { EXIT } from './run-config.ts';
import { STAGES } from '../lib/stages.ts';

export function cmdCompare(argv: string[]): number {
  const { values: v, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { a: { type: 'string' }, b: { type: 'string' }, threshold: { type: 'string' }, stage: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('compare takes one results file');
  const runs = parseResultFile(JSON.parse(readFileSync(positionals[0]!, 'utf8')));
  if (runs.length > 1)
    throw new UsageError(
      `${positionals[0]} holds ${runs.length} devices' runs; compare reads one (split it, or compare per device in the report)`,
    );
  const ok = okCells(runs[0]!.cells);
  const threshold = (num(v.threshold, '--threshold') ?? DEFAULT_THRESHOLD * 100) / 100;
  if (!(threshold >= 0 && threshold < 1)) throw new UsageError(`--threshold: ${threshold * 100} is not in 0..99`);
  const stage = (v.stage ?? 'total') as Stage | 'total';
  if (stage !== 'total' && !(STAGES as readonly string[]).includes(stage))
    throw new UsageError(`--stage: '${stage}' is not total or one of ${STAGES.join(', ')}`);
  const find = (id: string) => {
    const c = ok.find((x) => x.cell.id === id);
    if (!c)
      throw new UsageError(
        `no ok cell '${id}' in ${positionals[0]}; ok cells: ${ok.map((x) => x.cell.id).join(', ') || '(none)'}`,
      );
    return c;
  };
  if (v.a !== undefined || v.b !== undefined) {
    if (v.a === undefined || v.b === undefined) throw new UsageError('give both --a and --b');
    console.log(
      describeComparison(
        compareCells(find(v.a), find(v.b), { stage, threshold, paired: pairedInRun(find(v.a), find(v.b)) }),
      ),
    );
    return EXIT.ok;
  }
  const vs = compareToFastest(ok, threshold);
  const rows = ok.map((c) => {
    const cmp = vs.get(c.cell.id);
    return [
      c.cell.id,
      fmtMs(c.summary.total.median),
      cmp ? cmp.ratio.toFixed(3) : '1',
      cmp ? `${cmp.ci95[0].toFixed(3)}-${cmp.ci95[1].toFixed(3)}` : '',
      fmtVerdict(cmp),
      cmp?.b ?? '',
    ];
  });
  console.log(textTable(['cell', 'median ms', 'ratio', '95% CI', 'verdict', 'against'], rows));
  return EXIT.ok;
}

export function cmdValidate(argv: string[]): number {
  const [file, ...rest] = argv;
  if (!file || rest.length) throw new UsageError('validate takes one results file');
  const runs = parseResultFile(JSON.parse(readFileSync(file, 'utf8')));
  console.log(`${file}: valid result file (${runs.length === 1 ? 'one run' : `${runs.length} devices`})`);
  return EXIT.ok;
}
