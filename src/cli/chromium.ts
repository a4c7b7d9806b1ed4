/**
 * Finds and launches Chromium through playwright-core (which can't download browsers here): a --chromium flag,
 * then LATENCY_LAB_CHROMIUM, then the usual system paths, then Playwright's own browser cache, and last the
 * headless Chromium shipped inside the optional dependency @sparticuz/chromium (no system package needed; software GPU only).
 */
import { errorLine } from '../lib/errors.ts';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** Chromium builds Playwright downloaded before (`npx playwright install chromium`), newest first. */
function playwrightCache(): string[] {
  const root = process.env.PLAYWRIGHT_BROWSERS_PATH || join(homedir(), '.cache', 'ms-playwright');
  if (!existsSync(root)) return [];
  const dirs = readdirSync(root)
    .filter((d) => /^chromium-\d+$/.test(d))
    .sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]));
  return dirs.flatMap((d) =>
    ['chrome-linux64/chrome', 'chrome-linux/chrome', 'chrome-mac/Chromium.app/Contents/MacOS/Chromium'].map((f) =>
      join(root, d, f),
    ),
  );
}

/**
 * The system's Chromium (flag, env, usual paths, Playwright's cache), or null. LATENCY_LAB_BROWSER_SEARCH=none
 * skips the usual paths and the cache (what a machine without a browser looks like; tests use it).
 */
export function findSystemChromium(explicit?: string): string | null {
  const fromEnv = process.env.LATENCY_LAB_CHROMIUM;
  for (const [label, path] of [
    ['--chromium', explicit],
    ['LATENCY_LAB_CHROMIUM', fromEnv],
  ] as const) {
    if (path) {
      if (!existsSync(path)) throw new Error(`${label} points at ${path}, which does not exist`);
      return path;
    }
  }
  if (process.env.LATENCY_LAB_BROWSER_SEARCH === 'none') return null;
  return [...CANDIDATES, ...playwrightCache()].find((p) => existsSync(p)) ?? null;
}

const NO_BROWSER = `no Chromium found (looked in ${CANDIDATES.join(', ')} and Playwright's browser cache)`;
const GET_ONE = 'install one (Debian: apt-get install chromium) or pass --chromium PATH / set LATENCY_LAB_CHROMIUM';

/** A system Chromium's path, or an error that says how to get one. */
export function findChromium(explicit?: string): string {
  const found = findSystemChromium(explicit);
  if (!found) throw new Error(`${NO_BROWSER}; ${GET_ONE}`);
  return found;
}

export interface BrowserChoice {
  path: string;
  /** Where it came from: the system (flag, env, paths, Playwright's cache) or the bundled fallback. */
  source: 'system' | 'bundled';
  /** What a bundled browser lacks, said once when it is used; null for a system browser. */
  notice: string | null;
}

/**
 * The browser to launch: the system's, else the headless Chromium inside @sparticuz/chromium (an optional
 * dependency; unpacked to a temp folder on first use, ~1.5 s). That build has no hardware GPU: WebGL and WebGPU
 * (with our flags) run on SwiftShader, and a backend that doesn't start there is unsupported with the probe's or the
 * runtime's reason.
 */
export async function locateChromium(explicit?: string): Promise<BrowserChoice> {
  const system = findSystemChromium(explicit);
  if (system) return { path: system, source: 'system', notice: null };
  let bundled: { executablePath(): Promise<string> };
  try {
    bundled = ((await import('@sparticuz/chromium')) as { default: { executablePath(): Promise<string> } }).default;
  } catch {
    throw new Error(
      `${NO_BROWSER}, and the fallback @sparticuz/chromium is not installed (npm install --no-save @sparticuz/chromium@147.0.0); ${GET_ONE}`,
    );
  }
  const path = await bundled.executablePath();
  return {
    path,
    source: 'bundled',
    notice: `no system Chromium found: using the headless Chromium bundled in @sparticuz/chromium (${path}): headless only, no hardware GPU (WebGL and WebGPU, where they start, run on its software renderer), so a backend that doesn't start is an unsupported cell with the reason. For a real GPU and every backend, ${GET_ONE}`,
  };
}

/**
 * Flags for a quiet, reproducible headless run. Playwright already adds --no-sandbox and turns off background
 * networking; QUIC is off so nothing tries UDP to the outside. Precise memory info makes performance.memory
 * exact (it is bucketed otherwise), for the monitor's flat-memory check.
 */
export const BASE_FLAGS = [
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-precise-memory-info',
];

/**
 * WebGPU is off in headless Chromium unless asked for; developer features fill in the adapter's device and
 * description. WebGL needs no flag.
 */
export const GPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-webgpu-developer-features'];

/**
 * Forces WebGL onto SwiftShader (software), which also exposes EXT_disjoint_timer_query_webgl2 for GPU busy
 * times. For machines without a GPU, and for correctness checks; never for GPU performance numbers.
 */
export const SOFTWARE_GPU_FLAGS = ['--use-angle=swiftshader'];

/**
 * WebNN (navigator.ml) is off in Chromium unless this feature is enabled (`latency-lab run --webnn`). On this Debian
 * Chromium 156 it then exists but every createContext() throws NotSupportedError: the probe says so per cell.
 */
export const WEBNN_FLAGS = ['--enable-features=WebMachineLearningNeuralNetwork'];

export interface LaunchedBrowser {
  context: BrowserContext;
  flags: string[];
  executablePath: string;
  /** What the browser lacks when it is the bundled fallback (printed once by the CLI); null otherwise. */
  notice: string | null;
  close(): Promise<void>;
}

export interface LaunchOptions {
  executablePath?: string;
  headless?: boolean;
  softwareGpu?: boolean;
  extraFlags?: string[];
}

export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedBrowser> {
  const choice = await locateChromium(options.executablePath);
  const executablePath = choice.path;
  if (choice.source === 'bundled' && options.headless === false)
    throw new Error(`--headed needs a system Chromium: the bundled fallback is a headless-only build. ${GET_ONE}`);
  const flags = [
    ...BASE_FLAGS,
    ...GPU_FLAGS,
    ...(options.softwareGpu ? SOFTWARE_GPU_FLAGS : []),
    ...(options.extraFlags ?? []),
  ];
  // A fresh profile each time (Playwright rejects --user-data-dir in args; a persistent context takes a dir).
  const profile = mkdtempSync(join(tmpdir(), 'latency-lab-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: options.headless ?? true,
    args: flags,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    flags,
    executablePath,
    notice: choice.notice,
    close: async () => {
      // A browser that was killed may never answer close(): give it 10 s, then go on.
      await Promise.race([context.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
      // Its orphaned child processes may still be writing into the profile: a folder left behind is no error.
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
      } catch {
        /* left in the temp folder */
      }
    },
  };
}

/** A remote browser, to run on: a Playwright browser server (ws) or a Chrome DevTools Protocol endpoint. */
export interface RemoteEndpoint {
  connect?: string;
  cdp?: string;
}

/** Connects to a remote browser and opens a fresh context there; closing it leaves the remote browser up. */
export async function connectChromium(endpoint: RemoteEndpoint, timeoutMs = 30_000): Promise<LaunchedBrowser> {
  const where = endpoint.connect ?? endpoint.cdp ?? '';
  let browser;
  try {
    browser = endpoint.connect
      ? await chromium.connect(endpoint.connect, { timeout: timeoutMs })
      : await chromium.connectOverCDP(endpoint.cdp!, { timeout: timeoutMs });
  } catch (e) {
    throw new Error(`cannot reach the browser at ${where}: ${errorLine(e)}`, { cause: e });
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return {
    context,
    flags: [],
    executablePath: where,
    notice: null,
    close: async () => {
      await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
    },
  };
}
