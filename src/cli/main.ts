/**
 * latency-lab: the command-line side of the lab.
 *
 *   latency-lab run [flags]     run a matrix headless (locally or on remote browsers); write results and reports
 *   latency-lab compare FILE    ratios of medians with CIs and verdicts between cells of a results file
 *   latency-lab validate FILE   check a results file against the schema
 *   latency-lab schema          print the config file's JSON Schema
 *
 * Exit codes: 0 ok; 1 a budget was breached or a regression found against the baseline; 2 usage or config
 * error; 3 run failure (a cell failed, was aborted or unsupported, a device could not run, no build or browser).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_THRESHOLD } from '../lib/measure/compare.ts';
import { configJsonSchema } from '../lib/plan/config.ts';
import {
  DEFAULT_SAMPLING,
  DEFAULT_RUN_TARGETS,
  MONITOR_DEFAULTS as M,
  SERVING_DEFAULTS as S,
} from '../lib/plan/defaults.ts';
import { UsageError } from './args.ts';
import { cmdCompare, cmdValidate } from './compare.ts';
import { cmdRun } from './run.ts';
import { EXIT, RUN_OPTIONS } from './run-config.ts';
import { STAGES } from '../lib/stages.ts';
import { allTargets } from '../lib/targets.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const D = DEFAULT_SAMPLING;
const HELP = `latency-lab: time ML models in a real browser, stage by stage

Usage:
  latency-lab run [options]
  latency-lab compare <results.json> [--a CELL --b CELL] [--threshold PCT] [--stage STAGE]
  latency-lab validate <results.json>
  latency-lab serve [options]   serving simulator: open-loop load, dynamic batching, worker pools, capacity
  latency-lab monitor [options] inference at a steady cadence for a long time: rolling windows, drift, memory
  latency-lab schema            print the JSON Schema of the config file
  latency-lab host [--port N] [--bind ADDR] [--out DIR] [--max-mb N] [--webnn]
                                serve the lab to phones and tablets on the LAN (URL and QR code printed); each
                                device's results come back (token in the URL, size-limited, validated) and are
                                merged into one multi-device report under --out

Run options (matrix):
  --config FILE         a JSON config (schema: public/lab-config.schema.json); flags override it
  --models a,b          zoo ids or paths to your own models: an .onnx or .tflite file, a TF.js model.json, or a folder
                        holding one (default: every zoo model, on each target it has a format for);
                        'calibration' is built in (target calib:cpu; --values busy_ms=const:2 busy-waits 2 ms)
  --targets r:b,...     runtime:backend pairs (default: ${DEFAULT_RUN_TARGETS.join(',')})
                        valid: ${allTargets().join(', ')}
  --batch 1,4,16        batch sizes (default: 1)
  --threads 1,2         wasm thread counts (default: 1)
  --ort-build LIST      ORT builds per ORT target, a matrix dimension: recommended (default: per backend the
                        build ORT's docs recommend: wasm -> /wasm, webgpu -> /webgpu, webgl -> /webgl, webnn -> the
                        default import), wasm, default, webgpu, jspi, all, webgl; or name one in the target:
                        --targets ort:wasm@default. Builds without a target's backend are skipped
  --variants LIST       model variants, a matrix dimension: fp32 (default: the model as given), fp16, int8; the
                        lab makes fp16/int8 from ONNX files (docs/variants.md); cells carry bytes and agreement
  --tfjs-cores N        tfjs:wasm: report N cores to tfjs, which runs threads up to half of the cores it sees
                        (recorded in each cell): time what a device with N cores would run
  --images DIR          your own pictures (png, jpg, webp, ...) for every image input: zoo image models keep their
                        layout and normalisation; own models' 4-D inputs with 1 or 3 channels take them (layout from
                        the shape, values 0..1) unless --values INPUT=image:... says otherwise. Default pictures: the
                        four bundled photos
  --batch-dims NAME,... symbolic dims of your own models that take the batch size too (a recurrent state's
                        [2, batch_size, 128]); guessed for names like batch_size, listed in the inputs table
  --dim NAME=N[,N...]   value(s) for a symbolic input dim, e.g. --dim height=64; several values sweep it, one cell
                        per value (--dim seq=16,64,256); repeatable for other dims
  --values INPUT=POLICY input values: random | zeros | const:V | range:MIN:MAX | image[:SETTINGS]; repeatable.
                        image decodes and resizes real pictures in the preprocess stage; SETTINGS, comma-separated:
                        layout=NHWC|NCHW fit=fill|cover|contain norm=0..1|-1..1|imagenet|0..255 order=RGB|BGR
  --input-seed N        seed of the random input values (default: 1)
  --native              native reference: every ONNX model also runs on onnxruntime-node (this machine's CPU, in a
                        Node thread, same input bytes, same sampling, intra-op threads = --threads), interleaved with
                        the browser cells; each CPU-backend browser cell gets its browser tax (ratio of model work,
                        95% CI) and parity against native. Needs the optional dependency onnxruntime-node
  --first-visit P,...   after the run, each cell's first result for a first-time visitor (fresh browser profile:
                        empty HTTP cache, no compiled wasm) and a returning one, per network profile: 4g, slow-4g, 3g
                        (Chrome DevTools' presets, emulated by Chromium) plus an unthrottled visit. Scripts and wasm
                        are sent compressed (br/gzip) as a static host would; bytes per kind, worker boot, runtime
                        init, model fetch, session, first inference
  --cpu-slowdown N      first visits with CDP CPU throttling N x: Chromium slows the page's thread only, never the
                        workers the cells run in, so it shows the page's share of a slow phone, not the model's

Sampling (default: auto):
  --mode auto|fixed     auto: sample while changepoint analysis finds where the steady state begins; stop when
                        the steady samples' median 95% CI is within --target-ci (or at the time cap);
                        fixed: exactly --warmup and --samples. Summaries describe the steady samples only.
  --min-warmup S        auto: the least seconds of passes before a steady state may be declared (default:
                        ${D.minWarmupMs / 1000}; V8 optimises wasm in the background for seconds)
  --target-ci PCT       auto: wanted CI half-width, % of the median (default: ${D.targetCI * 100})
  --min-samples N       auto: at least N samples (default: ${D.minSamples}; >= 6)
  --max-samples N       auto: sample cap, a memory guard (default: ${D.maxSamples})
  --max-time S          auto: sampling time cap per cell, seconds (default: ${D.maxSamplingMs / 1000})
  --samples N           fixed: samples per cell (default: ${D.samples}); giving it alone implies --mode fixed
  --warmup N            passes before sampling (auto: the least, they size the samples; default: ${D.warmup})
  --iterations K        passes timed per sample (default: auto mode picks K so a sample spans >= 50 timer ticks)
  --invocations N|auto  fresh starts per cell (a fresh worker each), each run to its own steady state; the cell's
                        median and CI are across them, since fresh starts settle at different levels (default:
                        auto: a pilot of 3 sharing --max-time, more while the CI is wider than --target-ci and time
                        is left; 1 in fixed mode). Cells of one model and batch take invocations in rounds
  --cold-starts N       cold starts per cell, each in a fresh worker, for a cold-start distribution (default: 1;
                        every invocation is one)
  --interleave          keep up to --live-cells cells loaded and rotate blocks of samples across them, in an
                        order drawn from the seed, so drift (heat, background load) spreads evenly
  --live-cells N        cells loaded at once when interleaving (default: 4)
  --block N             samples per block (default: ${D.blockSize})
  --seed N              seed of the cell order and interleaving rounds (default: a fresh one, recorded)
  --order shuffle|matrix  cell order (default: shuffle, from the seed)
  --timeout S           per-cell timeout in seconds (default: ${D.cellTimeoutMs / 1000})
  --gpu-passes N        extra passes reading GPU timers on webgl/webgpu cells, after sampling (default: ${D.gpuBusyPasses}; 0: off)
  --measure-memory      measureUserAgentSpecificMemory() once per cell with the model loaded (slow: 0.4-10 s)

Budgets and baselines:
  --budget RULE         e.g. 'mobilenet-v2 ort:wasm p95 <= 80ms', '* inference.median < 5ms', 'tiny-cnn b4 p99<=16ms';
                        repeatable; metrics: min median mean p90 p95 p99 max; any breach: exit 1
  --baseline FILE       an earlier results.json: every cell compared (ratio of medians, bootstrap 95% CI);
                        a regression whose CI lies beyond the threshold: exit 1
  --baseline-threshold PCT  differences under this are not regressions (default: 5)

Devices (default: a local headless Chromium):
  --connect [NAME=]WS   a Playwright browser server (browserType.launchServer()); repeatable
  --cdp [NAME=]URL      a Chrome DevTools Protocol endpoint (Selenium Grid 4, cloud grids); repeatable
                        several devices run in parallel; the reports get a device column; a device that fails
                        is reported and the others go on
  --serve-host HOST     interface the lab is served on (default 127.0.0.1; 0.0.0.0 for remote machines)
  --public-url URL      the URL remote browsers open (when they reach this machine under another name)
  --port N              port the lab is served on (default: any free one; several devices use N, N+1, ...);
                        serve and monitor take --port, --serve-host and --public-url too

Output and browser:
  --out DIR             results.json, summary.csv, samples.csv, report.md, report.html
                        (default: lab-results/run-<time>/)
  --json                print the results JSON to stdout instead of the table
  --allow-unsupported   unsupported cells are not a run failure
  --dist DIR            production build to serve (default: dist/ of this project)
  --chromium PATH       Chromium executable (or set LATENCY_LAB_CHROMIUM)
  --headed              show the browser window
  --software-gpu        force WebGL onto SwiftShader (software; gives WebGL timer queries); for GPU-less machines
  --browser-arg FLAG    extra Chromium flag; repeatable (WebGPU is already enabled)
  --webnn               start Chromium with WebNN (--enable-features=WebMachineLearningNeuralNetwork); ort:webnn
                        runs where a WebNN context comes up, else its cell says the browser's reason. serve,
                        monitor and host take it too (host: only the cell worker's eval policy; each device's
                        browser must have WebNN on itself)
  --quiet               no progress display
  -h, --help            this help

Compare options:
  --a CELL --b CELL     the two cell ids (A / B); without them every cell is compared with the fastest cell of
                        the same model and batch size
  --threshold PCT       differences under this are "indistinguishable" (default: ${DEFAULT_THRESHOLD * 100})
  --stage STAGE         total (default) or one of ${STAGES.join(', ')}

Serve options (serving simulator):
  --model ID --target r:b   the model and runtime:backend (default ${S.model}, ${S.target}); --threads N
  --rates 50,100,200    offered loads, requests/s, Poisson arrivals (default ${S.rates.join(',')})
  --trace FILE          replay recorded arrival times instead (JSON array of ms, or one per line)
  --duration S          seconds of arrivals per load point (default ${S.durationS})
  --max-batch 1,8       batcher settings to compare; 1 = no batching (default ${S.maxBatches.join(',')})
  --max-wait MS         how long a batch may wait to fill (default ${S.maxWaitMs})
  --workers 1,2         worker pool sizes, each worker with its own session (default ${S.workers.join(',')})
  --queue-limit N --drop-policy reject-new|drop-oldest   bounded queue; every drop is counted
  --budget MS --percentile p99|p95   capacity search: the highest rate within the budget (--probes N)
  --seed N --out DIR --json --connect WS

Monitor options:
  --model ID --target r:b --batch N --cadence MS (default ${M.cadenceMs}) --minutes M (default ${M.minutes}) --window S (default ${M.windowS})
  --threshold PCT       a window whose median departs more than this from the baseline window (the second; the
                        first carries warm-up) is flagged (default ${M.threshold * 100});
                        any flag (drift, throttling, tensor leak) exits 1

Examples:
  latency-lab run
  latency-lab run --models mobilenet-v2 --targets ort:wasm,tfjs:wasm --batch 1,4 --target-ci 1
  latency-lab run --models ./my-model.onnx --dim seq=128 --values ids=range:0:30000 --batch 1,8
  latency-lab run --models text-encoder --targets ort:wasm,ort:webgpu --dim seq=16,64,256
  latency-lab run --models ./resnet.onnx --images ./photos --values input=image:fit=cover,norm=imagenet
  latency-lab run --models ./tfjs-model/ --targets tfjs:wasm,tfjs:webgl --out reports/today
  latency-lab run --config lab.json --budget 'mobilenet-v2 ort:wasm p95 <= 120ms' --baseline last/results.json
  latency-lab run --connect laptop=ws://10.0.0.5:3000/abc --cdp grid=http://grid:4444 --serve-host 0.0.0.0 --public-url http://10.0.0.2:8080/
  latency-lab run --models mobilenet-v2,tiny-cnn,ocr-cls --targets ort:wasm,tfjs:wasm --native
  latency-lab run --models mobilenet-v2 --targets ort:wasm,tfjs:wasm --first-visit 4g,3g
  latency-lab run --models calibration --targets calib:cpu --values busy_ms=const:2
  latency-lab serve --model tiny-cnn --rates 100,300,1000,2000 --max-batch 1,8,32 --budget 20
  latency-lab monitor --model mobilenet-v2 --cadence 200 --minutes 10
  latency-lab compare lab-results/run/results.json --a 'tiny-cnn/tfjs:wasm/b1/t1' --b 'tiny-cnn/ort:wasm/b1/t1'

Exit codes: 0 ok, 1 budget breached or regression, 2 usage or config error, 3 run failure.
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  try {
    switch (cmd) {
      case 'run':
        return await cmdRun(rest, { projectRoot });
      case 'serve':
        return await (await import('./serve.ts')).cmdServe(rest, { projectRoot });
      case 'monitor':
        return await (await import('./serve.ts')).cmdMonitor(rest, { projectRoot });
      case 'host':
        return await (await import('./host.ts')).cmdHost(rest, { projectRoot });
      case 'schema':
        process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
        return EXIT.ok;
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
        throw new UsageError(
          `unknown command '${cmd}'; commands: run, serve, monitor, host, compare, validate, schema`,
        );
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    // parseArgs names unknown flags itself (ERR_PARSE_ARGS_UNKNOWN_OPTION); plan errors name the bad value.
    if (
      e instanceof UsageError ||
      err.code?.startsWith('ERR_PARSE_ARGS') ||
      ['PlanError', 'SchemaError', 'BudgetError', 'ModelFileError', 'InputError', 'ZodError'].includes(err.name)
    ) {
      const valid =
        err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && cmd === 'run'
          ? `\nvalid options: ${Object.keys(RUN_OPTIONS)
              .map((o) => `--${o}`)
              .join(' ')}`
          : '';
      console.error(`latency-lab: ${err.message}${valid}\n(see latency-lab --help)`);
      return EXIT.usage;
    }
    // The page's own words are the message; a stack only for the CLI's own failures (a bug to report).
    console.error(`latency-lab: ${err.name === 'PageError' ? err.message : (err.stack ?? err.message)}`);
    return EXIT.run;
  }
}
