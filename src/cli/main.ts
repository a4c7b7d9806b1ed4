/**
 * latency-lab: the command-line side of the lab.
 *
 *   latency-lab run [flags]     run a matrix headless in Chromium and write a results JSON
 *   latency-lab validate FILE   check a results file against the schema
 *
 * Exit codes: 0 every cell ok; 2 usage error; 3 a cell failed, was aborted, or was unsupported
 * (unless --allow-unsupported); 4 the run itself could not happen (no build, no browser).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cellReason, resultTable } from '../lib/format.ts';
import { parseManifest, type Manifest } from '../lib/manifest.ts';
import { allTargets, buildPlan, DEFAULT_SAMPLING, type PlanRequest } from '../lib/plan.ts';
import { parseRunResult, type InputOverride, type ValuePolicy } from '../lib/schema.ts';
import { checkDist, runInBrowser } from './driver.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const EXIT = { ok: 0, usage: 2, cells: 3, run: 4 } as const;

class UsageError extends Error {}

const DEFAULT_TARGETS = ['ort:wasm', 'tfjs:cpu', 'tfjs:wasm'];

const HELP = `latency-lab: time ML models in a real browser, stage by stage

Usage:
  latency-lab run [options]
  latency-lab validate <results.json>

Run options:
  --models a,b          zoo model ids (default: every zoo model, on each target it has a format for)
  --targets r:b,...     runtime:backend pairs (default: ${DEFAULT_TARGETS.join(',')})
                        valid: ${allTargets().join(', ')}
  --batch 1,4,16        batch sizes (default: 1)
  --threads 1,2         wasm thread counts (default: 1)
  --samples N           timed samples per cell (default: ${DEFAULT_SAMPLING.samples})
  --warmup N            warm-up passes per cell (default: ${DEFAULT_SAMPLING.warmup})
  --timeout S           per-cell timeout in seconds (default: ${DEFAULT_SAMPLING.cellTimeoutMs / 1000})
  --measure-memory      measureUserAgentSpecificMemory() once per cell with the model loaded (slow: 0.4-10 s)
  --gpu-passes N        extra passes reading GPU timers on webgl/webgpu cells, after sampling (default: ${DEFAULT_SAMPLING.gpuBusyPasses}; 0: off)
  --seed N              seed for synthesized inputs (default: 1)
  --shuffle             run cells in an order drawn from the seed
  --dim NAME=N          value for a symbolic input dim (e.g. --dim height=64); repeatable
  --values INPUT=POLICY input values: random | zeros | const:V | range:MIN:MAX; repeatable
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

Examples:
  latency-lab run
  latency-lab run --models mobilenet-v2 --targets ort:wasm,tfjs:wasm --batch 1,4 --samples 50
  latency-lab run --models ocr-cls --dim width=320 --values x=range:-1:1 --out ocr.json
  latency-lab run --models tiny-cnn --targets ort:wasm,ort:webgpu,tfjs:webgl --threads 1,2 --software-gpu

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
      samples: { type: 'string' },
      warmup: { type: 'string' },
      timeout: { type: 'string' },
      'gpu-passes': { type: 'string' },
      'measure-memory': { type: 'boolean' },
      seed: { type: 'string' },
      shuffle: { type: 'boolean' },
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
  const request: PlanRequest = {
    models,
    targets: list(v.targets, '--targets') ?? DEFAULT_TARGETS,
    batches: ints(v.batch, '--batch') ?? [1],
    threads: ints(v.threads, '--threads') ?? [1],
    sampling: {
      samples: int(v.samples, '--samples', DEFAULT_SAMPLING.samples),
      warmup: int(v.warmup, '--warmup', DEFAULT_SAMPLING.warmup),
      cellTimeoutMs: int(v.timeout, '--timeout', DEFAULT_SAMPLING.cellTimeoutMs / 1000) * 1000,
      gpuBusyPasses: int(v['gpu-passes'], '--gpu-passes', DEFAULT_SAMPLING.gpuBusyPasses),
      measureMemory: Boolean(v['measure-memory']),
    },
    seed: int(v.seed, '--seed', 1),
    order: v.shuffle ? 'seeded-shuffle' : 'matrix',
    inputOverrides: buildOverrides(manifest, models, v.dim ?? [], v.values ?? []),
    // The default matrix pairs each zoo model only with runtimes it has a format for.
    skipMissingFormats: v.models === undefined,
  };
  // Validate the plan here first, so a bad flag is a usage error before any browser starts.
  buildPlan(request, manifest.models);

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
    onPlan: (plan) => log(`plan: ${plan.cells.length} cells, ${plan.sampling.samples} samples each (seed ${plan.seed})`),
    onCellStart: (i, n, id) => log(`[${i + 1}/${n}] ${id}`),
    onCellEvent: (_i, e) => {
      if (e.type === 'phase') log(`        ${e.phase}`);
      else if (Date.now() - lastSampleLog > 2000 || e.index + 1 === e.of) {
        lastSampleLog = Date.now();
        log(`        sample ${e.index + 1}/${e.of}  total ${e.sample.total.toFixed(3)} ms`);
      }
    },
    onCellDone: (_i, r) => log(`        -> ${r.status}${r.status === 'ok' ? ` median ${r.summary.total.median.toFixed(3)} ms` : `: ${cellReason(r)}`}`),
  });

  const outFile = resolve(v.out ?? join('lab-results', `run-${result.createdAt.replace(/[:.]/g, '-')}.json`));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  if (v.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    const env = result.environment;
    console.log(`\n${env.browser.name} ${env.browser.version} · ${env.platform} · ${env.hardwareConcurrency} cores · isolated: ${env.crossOriginIsolated} · timer ${(env.timerResolutionMs * 1000).toFixed(1)} us\n`);
    console.log(resultTable(result.cells));
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
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return cmd === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command '${cmd}'; commands: run, validate`);
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
