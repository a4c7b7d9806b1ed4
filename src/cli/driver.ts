/**
 * Drives the production build in headless Chromium: serve dist/ with isolation headers, open the page, call
 * `window.latencyLab.run()`, stream progress back, and validate the result against the schema.
 * Every request the browser makes is checked: anything that leaves the page's origin is recorded and blocked.
 */
import { errorLine } from '../lib/errors.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { CellEvent } from '../lib/contracts/job.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { PlanRequest } from '../lib/plan/plan.ts';
import type {} from '../lib/contracts/automation-api.ts'; // window.latencyLab's type
import {
  abortedCell,
  parseRunResult,
  type CellResult,
  type Environment,
  type Plan,
  type RunResult,
} from '../lib/schema.ts';
import { connectChromium, launchChromium, type RemoteEndpoint } from './chromium.ts';
import { CELL_WORKER_SCRIPT, WEBNN_CSP_NOTICE } from './serve-headers.ts';
import { serveStatic } from './server.ts';
import { runEnvelope } from '../lib/schema/envelope.ts';
import type { NativeRequest } from '../lib/contracts/native-wire.ts';
import type { NativeHost } from './native/host.ts';
import { NATIVE_BINDING } from '../lib/contracts/job.ts';
import type { VariantFiles } from '../lib/models/variants/variant-file.ts';

export interface DriverOptions {
  distDir: string;
  request: PlanRequest;
  /** The person's own models (ids used in request.models), served from `files`. */
  extraModels?: ModelInfo[];
  /** URL path -> file on disk, served beside dist/ (local model files, variant files). */
  files?: ReadonlyMap<string, string>;
  /** Model variants made in Node (served from `files`), by model/variant. */
  variantFiles?: VariantFiles;
  /** Run on a remote browser instead of launching a local Chromium. */
  remote?: RemoteEndpoint;
  /** Address the static server listens on (remote browsers must reach it); default 127.0.0.1. */
  serveHost?: string;
  /** The URL remote browsers open, when they reach this machine under another name. */
  publicUrl?: string;
  /** Port the static server listens on (default: any free one). */
  port?: number;
  chromium?: string;
  headless?: boolean;
  softwareGpu?: boolean;
  extraFlags?: string[];
  /** --webnn: the cell worker's script gets 'unsafe-eval' for ORT's WebNN provider (src/lib/csp.ts); the rest stays strict. */
  webnn?: boolean;
  onPlan?: (plan: Plan, environment: Environment) => void;
  onCellStart?: (index: number, total: number, cellId: string) => void;
  onCellEvent?: (index: number, event: CellEvent) => void;
  onCellDone?: (index: number, result: CellResult) => void;
  /** Console messages from the page and workers, for debugging. */
  onConsole?: (text: string) => void;
  /** Runs the plan's native reference cells (ort-node:cpu) on this machine, for the page (--native). */
  native?: NativeHost;
}

export interface DriverResult {
  result: RunResult;
  /** Requests that tried to leave the page's origin (blocked). Must be empty. */
  offOrigin: string[];
  /** The browser or page ended mid-run, and why: `result` then holds the cells finished before, the rest aborted. */
  lost?: string;
}

export function checkDist(distDir: string): void {
  if (!existsSync(join(distDir, 'index.html')) || !existsSync(join(distDir, 'models', 'manifest.json'))) {
    throw new Error(`no production build in ${distDir} (index.html and models/manifest.json); run: npm run build`);
  }
}

/** Blocks and records every request to another origin, from the page and from its workers. */
/** Whether a request leaves the page's origin (data:, blob: and about: URLs never do). */
export function leavesOrigin(url: string, origin: string): boolean {
  return !/^(data|blob|about):/.test(url) && new URL(url).origin !== origin;
}

export async function guardOrigin(page: Page, origin: string, offOrigin: string[], seen?: string[]): Promise<void> {
  await page.context().route('**/*', (route) => {
    const url = route.request().url();
    seen?.push(url);
    if (!leavesOrigin(url, origin)) return route.continue();
    offOrigin.push(url);
    return route.abort('blockedbyclient');
  });
}

export type LabPageOptions = Pick<
  DriverOptions,
  | 'distDir'
  | 'chromium'
  | 'headless'
  | 'softwareGpu'
  | 'extraFlags'
  | 'webnn'
  | 'remote'
  | 'serveHost'
  | 'publicUrl'
  | 'files'
  | 'port'
>;

/**
 * Serves the build, opens it in a local or remote browser with every off-origin request blocked and recorded,
 * waits for window.latencyLab, and hands the page to `use` (which exposes its callbacks before `goto`).
 * The blocked requests go into `offOrigin`: a caller that passes its own array still has them when this throws.
 */
export async function withLabPage<T>(
  options: LabPageOptions,
  before: (page: Page) => Promise<void>,
  use: (page: Page, flags: string[]) => Promise<T>,
  offOrigin: string[] = [],
): Promise<{ value: T; offOrigin: string[] }> {
  checkDist(options.distDir);
  const server = await serveStatic(options.distDir, {
    files: options.files,
    host: options.serveHost,
    port: options.port,
    evalScripts: options.webnn ? CELL_WORKER_SCRIPT : undefined,
  });
  let browser;
  try {
    browser = options.remote
      ? await connectChromium(options.remote)
      : await launchChromium({
          executablePath: options.chromium,
          headless: options.headless,
          softwareGpu: options.softwareGpu,
          extraFlags: options.extraFlags,
        });
  } catch (e) {
    await server.close();
    throw e;
  }
  // Said once per launch, on stderr: a bundled fallback browser lacks WebGPU (its cells will say so too).
  if (browser.notice) process.stderr.write(`latency-lab: ${browser.notice}\n`);
  if (options.webnn) process.stderr.write(`latency-lab: ${WEBNN_CSP_NOTICE}\n`);
  const pageUrl = options.publicUrl ?? server.url;
  try {
    const page = await browser.context.newPage();
    await guardOrigin(page, new URL(pageUrl).origin, offOrigin);
    await before(page);
    await page.goto(pageUrl);
    await page.waitForFunction(() => window.latencyLab !== undefined, null, { timeout: 30_000 });
    return { value: await use(page, browser.flags), offOrigin };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Opens the lab and evaluates `expression` (plain JS text) there; `window.__labOnStatus` reaches `onStatus`. */
export function evaluateInLab(
  options: LabPageOptions,
  expression: string,
  onStatus?: (text: string) => void,
): Promise<{ value: unknown; offOrigin: string[] }> {
  return withLabPage(
    options,
    async (page) => {
      await page.exposeFunction('__labOnStatus', (text: string) => onStatus?.(text));
    },
    (page) =>
      page.evaluate(expression).catch((e: unknown) => {
        throw new PageError(e);
      }),
  );
}

/**
 * What the page threw (a serving pool that could not start, a bad config the page refused): its first line, without
 * Playwright's prefix or the page's minified stack, which say nothing to a person running the CLI.
 */
export class PageError extends Error {
  override name = 'PageError';
  constructor(e: unknown) {
    super(errorLine(e).replace(/^page\.evaluate: (Error: )?/, ''));
  }
}

/**
 * `work` on the page, or the reason the browser went away before it finished. Playwright rejects a pending call when
 * the browser's connection closes, but a killed browser whose child processes linger can leave that connection
 * open: so the browser is also asked a trivial question every 5 s, and 15 s without an answer counts as gone. The
 * question goes to the browser process over CDP (Browser.getVersion), not to the page: the page's main thread may be
 * busy for many seconds at the end of a run (parity, the browser tax, CIs over tens of thousands of samples), and
 * taking that for a dead browser threw away the finished run's tax (issue 25, item 0).
 */
export function watchBrowser<T>(page: Page, work: Promise<T>, pingEveryMs = 5_000, deadAfterMs = 15_000): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined;
  // A CDP session on the page's target; commands of the Browser domain are answered by the browser process.
  const session = page
    .context()
    .newCDPSession(page)
    .catch(() => null);
  const ping = async (): Promise<boolean> => {
    const s = await session;
    // Without CDP (another browser engine) the page itself is asked, as before.
    const answer = s ? s.send('Browser.getVersion') : page.evaluate('1');
    return answer.then(
      () => true,
      () => false,
    );
  };
  const gone = new Promise<never>((_, reject) => {
    page.once('close', () => reject(new Error('the page closed')));
    page.once('crash', () => reject(new Error('the page crashed')));
    timer = setInterval(() => {
      void Promise.race([ping(), new Promise<boolean>((r) => setTimeout(() => r(false), deadAfterMs))]).then(
        (alive) => {
          if (!alive) reject(new Error('the browser stopped answering (killed, or crashed)'));
        },
      );
    }, pingEveryMs);
  });
  // Once the work is done, the page closing is expected: that late rejection must not count as unhandled.
  gone.catch(() => undefined);
  return Promise.race([work, gone]).finally(() => {
    clearInterval(timer);
    void session.then((s) => s?.detach().catch(() => undefined));
  });
}

/**
 * What is left when the browser dies mid-run: the plan's cells, those that finished as they finished and the
 * rest aborted with `why`, in a valid result file (so a crash at cell 40 of 50 keeps 39 cells).
 */
export function partialRun(
  plan: Plan,
  environment: Environment,
  finished: ReadonlyMap<number, CellResult>,
  why: string,
  version: string,
): RunResult {
  const cells = plan.cells.map((cell, i): CellResult => finished.get(i) ?? abortedCell(cell, `lost: ${why}`));
  return runEnvelope({ source: 'cli', environment, plan, cells }, version);
}

/** What a run has gathered while its browser lives; all of it outlives the browser. */
export interface RunSoFar {
  /** The plan and environment, once the page has sent them. */
  started: { plan: Plan; environment: Environment } | null;
  finished: Map<number, CellResult>;
  /** Requests blocked for leaving the origin, recorded by withLabPage as the page makes them. */
  offOrigin: string[];
}

/**
 * The result of a run whose browser ended with `error` mid-run: the cells that finished, the rest aborted, and every
 * request blocked before the end (the exit code counts them). Before the plan came there is nothing to keep: rethrown.
 */
export function lostRun(so: RunSoFar, error: unknown, version: string): DriverResult {
  if (!so.started) throw error;
  const why = `the browser ended mid-run (${errorLine(error)})`;
  const { plan, environment } = so.started;
  return { result: partialRun(plan, environment, so.finished, why, version), offOrigin: [...so.offOrigin], lost: why };
}

export async function runInBrowser(options: DriverOptions): Promise<DriverResult> {
  const so: RunSoFar = { started: null, finished: new Map(), offOrigin: [] };
  const before = async (page: Page) => {
    if (options.onConsole) page.on('console', (m) => options.onConsole!(`[${m.type()}] ${m.text()}`));
    // Progress crosses from the page to Node through exposed functions; the lab's own timing stays in the worker.
    await page.exposeFunction('__labOnPlan', (plan: Plan, environment: Environment) => {
      so.started = { plan, environment };
      options.onPlan?.(plan, environment);
    });
    await page.exposeFunction('__labOnCellStart', (i: number, n: number, id: string) =>
      options.onCellStart?.(i, n, id),
    );
    await page.exposeFunction('__labOnCellEvent', (i: number, e: CellEvent) => options.onCellEvent?.(i, e));
    await page.exposeFunction('__labOnCellDone', (i: number, r: CellResult) => {
      so.finished.set(i, r);
      options.onCellDone?.(i, r);
    });
    const native = options.native;
    if (native) await page.exposeFunction(NATIVE_BINDING, (req: NativeRequest) => native.handle(req));
  };
  // Written as plain JS text: a function passed from here would be serialised from tsx's transpiled source,
  // which carries helpers (__name) the page doesn't have.
  const run = withLabPage(
    options,
    before,
    (page, flags) =>
      watchBrowser(
        page,
        page.evaluate(`window.latencyLab.run(${JSON.stringify(options.request)}, {
      source: 'cli',
      browserFlags: ${JSON.stringify(flags)},
      onPlan: (p, env) => window.__labOnPlan(p, env),
      onCellStart: (i, n, id) => window.__labOnCellStart(i, n, id),
      onCellEvent: (i, e) => { void window.__labOnCellEvent(i, e); },
      onCellDone: (i, r) => window.__labOnCellDone(i, r),
      extraModels: ${JSON.stringify(options.extraModels ?? [])},
      variantFiles: ${JSON.stringify(options.variantFiles ?? {})},
    })`),
      ),
    so.offOrigin,
  );
  try {
    const { value, offOrigin } = await run;
    return { result: parseRunResult(value), offOrigin };
  } catch (e) {
    // The browser (or its page) went away mid-run: keep what finished, and what it tried to fetch off the origin.
    return lostRun(so, e, LAB_VERSION);
  }
}

const LAB_VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;
