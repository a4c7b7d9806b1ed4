/**
 * latency-lab: the command-line side of the lab.
 *
 *   latency-lab run [flags]     run a matrix headless in Chromium and write a results JSON
 *   latency-lab compare FILE    ratios of medians with CIs and verdicts between cells of a results file
 *   latency-lab validate FILE   check a results file against the schema
 *
 * Exit codes: 0 every cell ok; 2 usage error; 3 a cell failed, was aborted, or was unsupported
 * (unless --allow-unsupported); 4 the run itself could not happen (no build, no browser).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareCells, compareToFastest, DEFAULT_THRESHOLD, describeComparison } from '../lib/compare.ts';
import { cellReason, fmtMs, fmtVerdict, resultTable, textTable } from '../lib/format.ts';
import { parseManifest, type Manifest } from '../lib/manifest.ts';
import { allTargets, buildPlan, DEFAULT_SAMPLING, freshSeed, type PlanRequest } from '../lib/plan.ts';
import { calibrationReports, withBuiltInModels } from '../lib/calibration.ts';
import { okCells, parseRunResult, STAGES, type InputOverride, type SamplingInput, type Stage, type ValuePolicy } from '../lib/schema.ts';
import { checkDist, runInBrowser } from './driver.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const EXIT = { ok: 0, usage: 2, cells: 3, run: 4 } as const;

class UsageError extends Error {}

const DEFAULT_TARGETS = ['ort:wasm', 'tfjs:cpu', 'tfjs:wasm'];

const D = DEFAULT_SAMPLING;
const HELP = `latency-lab: time ML models in a real browser, stage by stage

Usage:
  latency-lab run [options]
  latency-lab compare <results.json> [--a CELL --b CELL] [--threshold PCT] [--stage STAGE]
  latency-lab validate <results.json>

Run options (matrix):
  --models a,b          zoo model ids (default: every zoo model, on each target it has a format for);
                        'calibration' is built in (target calib:cpu; --values busy_ms=const:2 busy-waits 2 ms)
  --targets r:b,...     runtime:backend pairs (default: ${DEFAULT_TARGETS.join(',')})
                        valid: ${allTargets().join(', ')}
  --batch 1,4,16        batch sizes (default: 1)
  --threads 1,2         wasm thread counts (default: 1)
  --dim NAME=N          value for a symbolic input dim (e.g. --dim height=64); repeatable
  --values INPUT=POLICY input values: random | zeros | const:V | range:MIN:MAX; repeatable
  --input-seed N        seed of the random input values (default: 1)

Sampling (default: auto):
  --mode auto|fixed     auto: warm up until pass times settle, then sample until the median's 95% CI is
                        within --target-ci (or a cap); fixed: exactly --warmup and --samples
  --target-ci PCT       auto: wanted CI half-width, % of the median (default: ${D.targetCI * 100})
  --min-samples N       auto: at least N samples (default: ${D.minSamples}; >= 6)
  --max-samples N       auto: sample cap (default: ${D.maxSamples})
  --max-time S          auto: sampling time cap per cell, seconds (default: ${D.maxSamplingMs / 1000})
  --samples N           fixed: samples per cell (default: ${D.samples}); giving it alone implies --mode fixed
  --warmup N            warm-up passes (auto: the least before settling is judged; default: ${D.warmup})
  --iterations K        passes timed per sample (default: auto mode picks K so a sample spans >= 50 timer ticks)
  --cold-starts N       cold starts per cell, each in a fresh worker, for a cold-start distribution (default: 1)
  --interleave          keep up to --live-cells cells loaded and rotate blocks of samples across them, in an
                        order drawn from the seed, so drift (heat, background load) spreads evenly
  --live-cells N        cells loaded at once when interleaving (default: 4)
  --block N             samples per block (default: ${D.blockSize})
  --seed N              seed of the cell order and interleaving rounds (default: a fresh one, recorded)
  --order shuffle|matrix  cell order (default: shuffle, from the seed)
  --timeout S           per-cell timeout in seconds (default: ${D.cellTimeoutMs / 1000})
  --gpu-passes N        extra passes reading GPU timers on webgl/webgpu cells, after sampling (default: ${D.gpuBusyPasses}; 0: off)
  --measure-memory      measureUserAgentSpecificMemory() once per cell with the model loaded (slow: 0.4-10 s)

Output and browser:
  --out FILE            where to write the results JSON (default: lab-results/run-<time>.json)
  --json                print the results JSON to stdout instead of the table
  --allow-unsupported   exit 0 even when some cells are unsupported here
  --dist DIR            production build to serve (default: dist/ of this project)
  --chromium PATH       Chromium executable (or set LATENCY_LAB_CHROMIUM)
  --headed              show the browser window
  --software-gpu        force WebGL onto SwiftShader (software; gives WebGL timer queries); for GPU-less machines
  --browser-arg FLAG    extra Chromium flag; repeatable (WebGPU is already enabled)
  --quiet               no progress lines
  -h, --help            this help

Compare options:
  --a CELL --b CELL     the two cell ids (A / B); without them every cell is compared with the fastest cell of
                        the same model and batch size
  --threshold PCT       differences under this are "indistinguishable" (default: ${DEFAULT_THRESHOLD * 100})
  --stage STAGE         total (default) or one of ${STAGES.join(', ')}

Examples:
  latency-lab run
  latency-lab run --models mobilenet-v2 --targets ort:wasm,tfjs:wasm --batch 1,4 --target-ci 1
  latency-lab run --models tiny-cnn --targets ort:wasm,tfjs:wasm --interleave --seed 7 --cold-starts 5
  latency-lab run --models ocr-cls --dim width=320 --values x=range:-1:1 --samples 50 --out ocr.json
  latency-lab run --models calibration --targets calib:cpu --values busy_ms=const:2
  latency-lab compare lab-results/run.json --a 'tiny-cnn/tfjs:wasm/b1/t1' --b 'tiny-cnn/ort:wasm/b1/t1'

Exit codes: 0 all cells ok, 2 usage error, 3 a cell failed/aborted/unsupported, 4 the run could not start.
`;

function list(text: string | undefined, label: string): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`${label}: empty list`);
  return items;
}

function ints(text: string | undefined, label: string): number[] | undefined {
  return list(text, label)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new UsageError(`${label}: '${s}' is not a whole number`);
    return n;
  });
}

function int(text: string | undefined, label: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${label}: '${text}' is not a whole number`);
  return n;
}

export function parsePolicy(text: string): ValuePolicy {
  const [kind, a, b, extra] = text.split(':');
  const num = (s: string | undefined, what: string) => {
    const n = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(n)) throw new UsageError(`--values: ${what} '${s ?? ''}' is not a number in '${text}'`);
    return n;
  };
  if (kind === 'random' && a === undefined) return { kind: 'random' };
  if (kind === 'zeros' && a === undefined) return { kind: 'zeros' };
  if (kind === 'const' && b === undefined) return { kind: 'constant', value: num(a, 'constant') };
  if (kind === 'range' && extra === undefined) return { kind: 'range', min: num(a, 'min'), max: num(b, 'max') };
  throw new UsageError(`--values: '${text}' is not one of random | zeros | const:V | range:MIN:MAX`);
}

/** Turns --dim and --values into per-model, per-input overrides, for the models that have such inputs/dims. */
export function buildOverrides(manifest: Manifest, models: string[], dims: string[], values: string[]): Record<string, Record<string, InputOverride>> {
  const dimValues: Record<string, number> = {};
  for (const d of dims) {
    const [name, v] = d.split('=');
    const n = Number(v);
    if (!name || !Number.isInteger(n) || n < 1) throw new UsageError(`--dim: '${d}' is not NAME=N with N a whole number >= 1`);
    dimValues[name] = n;
  }
  const policies: Record<string, ValuePolicy> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 1) throw new UsageError(`--values: '${v}' is not INPUT=POLICY`);
    policies[v.slice(0, eq)] = parsePolicy(v.slice(eq + 1));
  }
  const out: Record<string, Record<string, InputOverride>> = {};
  const usedDims = new Set<string>();
  const usedInputs = new Set<string>();
  for (const id of models) {
    const model = manifest.models.find((m) => m.id === id);
    if (!model) continue;
    for (const input of model.inputs) {
      const o: InputOverride = {};
      const myDims = Object.fromEntries(Object.entries(dimValues).filter(([name]) => input.shape.includes(name)));
      if (Object.keys(myDims).length) {
        o.dims = myDims;
        Object.keys(myDims).forEach((d) => usedDims.add(d));
      }
      if (policies[input.name]) {
        o.values = policies[input.name];
        usedInputs.add(input.name);
      }
      if (o.dims || o.values) (out[id] ??= {})[input.name] = o;
    }
  }
  const unusedDims = Object.keys(dimValues).filter((d) => !usedDims.has(d));
  if (unusedDims.length) throw new UsageError(`--dim: no selected model has a symbolic dim named ${unusedDims.join(', ')}`);
  const unusedInputs = Object.keys(policies).filter((i) => !usedInputs.has(i));
  if (unusedInputs.length) throw new UsageError(`--values: no selected model has an input named ${unusedInputs.join(', ')}`);
  return out;
}

function readManifest(distDir: string): Manifest {
  return parseManifest(JSON.parse(readFileSync(join(distDir, 'models', 'manifest.json'), 'utf8')));
}

async function cmdRun(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      models: { type: 'string' },
      targets: { type: 'string' },
      batch: { type: 'string' },
      threads: { type: 'string' },
      mode: { type: 'string' },
      'target-ci': { type: 'string' },
      'min-samples': { type: 'string' },
      'max-samples': { type: 'string' },
      'max-time': { type: 'string' },
      samples: { type: 'string' },
      warmup: { type: 'string' },
      iterations: { type: 'string' },
      'cold-starts': { type: 'string' },
      interleave: { type: 'boolean' },
      'live-cells': { type: 'string' },
      block: { type: 'string' },
      order: { type: 'string' },
      'input-seed': { type: 'string' },
      timeout: { type: 'string' },
      'gpu-passes': { type: 'string' },
      'measure-memory': { type: 'boolean' },
      seed: { type: 'string' },
      dim: { type: 'string', multiple: true },
      values: { type: 'string', multiple: true },
      out: { type: 'string' },
      json: { type: 'boolean' },
      'allow-unsupported': { type: 'boolean' },
      dist: { type: 'string' },
      chromium: { type: 'string' },
      headed: { type: 'boolean' },
      'software-gpu': { type: 'boolean' },
      'browser-arg': { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
    },
  });
  const distDir = resolve(v.dist ?? join(projectRoot, 'dist'));
  try {
    checkDist(distDir);
  } catch (e) {
    console.error(`latency-lab: ${(e as Error).message}`);
    return EXIT.run;
  }
  const manifest = readManifest(distDir);
  const models = list(v.models, '--models') ?? manifest.models.map((m) => m.id);
  const order = v.order ?? 'shuffle';
  if (order !== 'shuffle' && order !== 'matrix') throw new UsageError(`--order: '${order}' is not shuffle or matrix`);
  const request: PlanRequest = {
    models,
    targets: list(v.targets, '--targets') ?? DEFAULT_TARGETS,
    batches: ints(v.batch, '--batch') ?? [1],
    threads: ints(v.threads, '--threads') ?? [1],
    sampling: samplingFrom(v),
    seed: int(v.seed, '--seed', freshSeed()),
    inputSeed: int(v['input-seed'], '--input-seed', 1),
    order: order === 'matrix' ? 'matrix' : 'seeded-shuffle',
    schedule: v.interleave ? 'interleaved' : 'sequential',
    liveCells: int(v['live-cells'], '--live-cells', 4),
    inputOverrides: buildOverrides({ ...manifest, models: withBuiltInModels(manifest.models) }, models, v.dim ?? [], v.values ?? []),
    // The default matrix pairs each zoo model only with runtimes it has a format for.
    skipMissingFormats: v.models === undefined,
  };
  // Validate the plan here first, so a bad flag is a usage error before any browser starts.
  buildPlan(request, withBuiltInModels(manifest.models));

  const log = (line: string) => {
    if (!v.quiet) process.stderr.write(`${line}\n`);
  };
  let lastSampleLog = 0;
  const { result, offOrigin } = await runInBrowser({
    distDir,
    request,
    chromium: v.chromium,
    headless: !v.headed,
    softwareGpu: v['software-gpu'],
    extraFlags: v['browser-arg'],
    onPlan: (plan) => {
      const s = plan.sampling;
      const how = s.mode === 'fixed' ? `${s.samples} samples each` : `auto sampling to ±${s.targetCI * 100}% (${s.minSamples}-${s.maxSamples} samples, <= ${s.maxSamplingMs / 1000} s)`;
      log(`plan: ${plan.cells.length} cells, ${how}, ${plan.schedule}, seed ${plan.seed}`);
    },
    onCellStart: (i, n, id) => log(`[${i + 1}/${n}] ${id}`),
    onCellEvent: (_i, e) => {
      if (e.type === 'phase') log(`        ${e.phase}`);
      else if (Date.now() - lastSampleLog > 2000) {
        lastSampleLog = Date.now();
        log(`        sample ${e.index + 1}  total ${e.sample.total.toFixed(3)} ms${e.sample.iterations > 1 ? ` (per pass, ${e.sample.iterations} passes)` : ''}`);
      }
    },
    onCellDone: (i, r) =>
      log(`  [${i + 1}] ${r.cell.id} -> ${r.status}${r.status === 'ok' ? ` median ${fmtMs(r.summary.total.median)} ms ±${((r.sampling.achievedCI ?? NaN) * 100).toFixed(1)}% (${r.sampling.stopReason}, n=${r.samples.length})` : `: ${cellReason(r)}`}`),
  });

  const outFile = resolve(v.out ?? join('lab-results', `run-${result.createdAt.replace(/[:.]/g, '-')}.json`));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  if (v.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    const env = result.environment;
    console.log(`\n${env.browser.name} ${env.browser.version} · ${env.platform} · ${env.hardwareConcurrency} cores · isolated: ${env.crossOriginIsolated} · timer ${(env.timerResolutionMs * 1000).toFixed(1)} us\n`);
    console.log(resultTable(result.cells, compareToFastest(okCells(result.cells))));
    for (const c of calibrationReports(okCells(result.cells))) {
      console.log(
        `\ncalibration ${c.cellId}: asked ${fmtMs(c.requestedMs)} ms, inference reported ${fmtMs(c.measuredMs)} ms (error ${(c.errorMs * 1000).toFixed(1)} us, ` +
          `tolerance ${(c.toleranceMs * 1000).toFixed(1)} us: ${c.withinTolerance ? 'within' : 'OUTSIDE'}); harness overhead per pass ${(c.overheadMs * 1000).toFixed(1)} us`,
      );
    }
    console.log(`\nresults: ${outFile}`);
  }
  if (offOrigin.length) {
    console.error(`latency-lab: blocked ${offOrigin.length} request(s) to another origin: ${offOrigin.slice(0, 5).join(', ')}`);
    return EXIT.run;
  }
  const bad = result.cells.filter((c) => c.status !== 'ok' && !(c.status === 'unsupported' && v['allow-unsupported']));
  for (const c of bad) console.error(`latency-lab: ${c.cell.id} ${c.status}: ${cellReason(c)}`);
  return bad.length ? EXIT.cells : EXIT.ok;
}

type Flags = Record<string, string | boolean | string[] | undefined>;

function num(text: string | undefined, label: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.replace(/%$/, ''));
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${label}: '${text}' is not a number`);
  return n;
}

/** Sampling flags -> settings; the schema checks ranges and says which flag's value is out of range. */
export function samplingFrom(v: Flags): SamplingInput {
  const str = (k: string) => v[k] as string | undefined;
  const mode = str('mode') ?? (str('samples') !== undefined ? 'fixed' : 'auto');
  if (mode !== 'auto' && mode !== 'fixed') throw new UsageError(`--mode: '${mode}' is not auto or fixed`);
  const out: SamplingInput = { mode, cellTimeoutMs: (num(str('timeout'), '--timeout') ?? D.cellTimeoutMs / 1000) * 1000, measureMemory: Boolean(v['measure-memory']) };
  const set = <K extends keyof SamplingInput>(key: K, value: SamplingInput[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  const target = num(str('target-ci'), '--target-ci');
  set('targetCI', target === undefined ? undefined : target / 100);
  set('minSamples', num(str('min-samples'), '--min-samples'));
  set('maxSamples', num(str('max-samples'), '--max-samples'));
  const maxTime = num(str('max-time'), '--max-time');
  set('maxSamplingMs', maxTime === undefined ? undefined : Math.round(maxTime * 1000));
  set('samples', num(str('samples'), '--samples'));
  set('warmup', num(str('warmup'), '--warmup'));
  set('iterations', num(str('iterations'), '--iterations'));
  set('coldStarts', num(str('cold-starts'), '--cold-starts'));
  set('blockSize', num(str('block'), '--block'));
  set('gpuBusyPasses', num(str('gpu-passes'), '--gpu-passes'));
  return out;
}

function cmdCompare(argv: string[]): number {
  const { values: v, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { a: { type: 'string' }, b: { type: 'string' }, threshold: { type: 'string' }, stage: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('compare takes one results file');
  const result = parseRunResult(JSON.parse(readFileSync(positionals[0]!, 'utf8')));
  const ok = okCells(result.cells);
  const threshold = (num(v.threshold, '--threshold') ?? DEFAULT_THRESHOLD * 100) / 100;
  if (!(threshold >= 0 && threshold < 1)) throw new UsageError(`--threshold: ${threshold * 100} is not in 0..99`);
  const stage = (v.stage ?? 'total') as Stage | 'total';
  if (stage !== 'total' && !(STAGES as readonly string[]).includes(stage)) throw new UsageError(`--stage: '${stage}' is not total or one of ${STAGES.join(', ')}`);
  const find = (id: string) => {
    const c = ok.find((x) => x.cell.id === id);
    if (!c) throw new UsageError(`no ok cell '${id}' in ${positionals[0]}; ok cells: ${ok.map((x) => x.cell.id).join(', ') || '(none)'}`);
    return c;
  };
  if (v.a !== undefined || v.b !== undefined) {
    if (v.a === undefined || v.b === undefined) throw new UsageError('give both --a and --b');
    console.log(describeComparison(compareCells(find(v.a), find(v.b), { stage, threshold })));
    return EXIT.ok;
  }
  const vs = compareToFastest(ok, threshold);
  const rows = ok.map((c) => {
    const cmp = vs.get(c.cell.id);
    return [c.cell.id, fmtMs(c.summary.total.median), cmp ? cmp.ratio.toFixed(3) : '1', cmp ? `${cmp.ci95[0].toFixed(3)}-${cmp.ci95[1].toFixed(3)}` : '', fmtVerdict(cmp), cmp?.b ?? ''];
  });
  console.log(textTable(['cell', 'median ms', 'ratio', '95% CI', 'verdict', 'against'], rows));
  return EXIT.ok;
}

function cmdValidate(argv: string[]): number {
  const [file, ...rest] = argv;
  if (!file || rest.length) throw new UsageError('validate takes one results file');
  parseRunResult(JSON.parse(readFileSync(file, 'utf8')));
  console.log(`${file}: valid result file`);
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  try {
    switch (cmd) {
      case 'run':
        return await cmdRun(rest);
      case 'validate':
        return cmdValidate(rest);
      case 'compare':
        return cmdCompare(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return cmd === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command '${cmd}'; commands: run, compare, validate`);
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    // parseArgs names unknown flags itself (ERR_PARSE_ARGS_UNKNOWN_OPTION); plan errors name the bad value.
    if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS') || err.name === 'PlanError' || err.name === 'SchemaError') {
      console.error(`latency-lab: ${err.message}\n(see latency-lab --help)`);
      return EXIT.usage;
    }
    console.error(`latency-lab: ${err.stack ?? err.message}`);
    return EXIT.run;
  }
}
