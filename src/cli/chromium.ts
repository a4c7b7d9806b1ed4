/**
 * Finds and launches Chromium through playwright-core (which can't download browsers here): a --chromium flag,
 * then LATENCY_LAB_CHROMIUM, then the usual system paths.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'];

export function findChromium(explicit?: string): string {
  const fromEnv = process.env.LATENCY_LAB_CHROMIUM;
  for (const [label, path] of [['--chromium', explicit], ['LATENCY_LAB_CHROMIUM', fromEnv]] as const) {
    if (path) {
      if (!existsSync(path)) throw new Error(`${label} points at ${path}, which does not exist`);
      return path;
    }
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`no Chromium found (looked in ${CANDIDATES.join(', ')}); install one (Debian: apt-get install chromium) or pass --chromium PATH / set LATENCY_LAB_CHROMIUM`);
  }
  return found;
}

/**
 * Flags for a quiet, reproducible headless run. Playwright already adds --no-sandbox and turns off background
 * networking; QUIC is off so nothing tries UDP to the outside. Precise memory info makes performance.memory
 * exact (it is bucketed otherwise), for the monitor's flat-memory check.
 */
export const BASE_FLAGS = ['--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'];

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

export interface LaunchedBrowser {
  context: BrowserContext;
  flags: string[];
  executablePath: string;
  close(): Promise<void>;
}

export interface LaunchOptions {
  executablePath?: string;
  headless?: boolean;
  softwareGpu?: boolean;
  extraFlags?: string[];
}

export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedBrowser> {
  const executablePath = findChromium(options.executablePath);
  const flags = [...BASE_FLAGS, ...GPU_FLAGS, ...(options.softwareGpu ? SOFTWARE_GPU_FLAGS : []), ...(options.extraFlags ?? [])];
  // A fresh profile each time (Playwright rejects --user-data-dir in args; a persistent context takes a dir).
  const profile = mkdtempSync(join(tmpdir(), 'latency-lab-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: options.headless ?? true, args: flags, viewport: { width: 1280, height: 900 } });
  return {
    context,
    flags,
    executablePath,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
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
    browser = endpoint.connect ? await chromium.connect(endpoint.connect, { timeout: timeoutMs }) : await chromium.connectOverCDP(endpoint.cdp!, { timeout: timeoutMs });
  } catch (e) {
    throw new Error(`cannot reach the browser at ${where}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return {
    context,
    flags: [],
    executablePath: where,
    close: async () => {
      await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
    },
  };
}
