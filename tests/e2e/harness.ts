/** Shared set-up for end-to-end tests: the production build, a temp copy with altered models, a guarded page. */
import {
  copyFileSync,
  cpSync,
  linkSync,
  statSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
  mkdirSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../src/cli/chromium.ts';
import { checkDist, guardOrigin } from '../../src/cli/driver.ts';
import { serveStatic, type StaticServer } from '../../src/cli/server.ts';
import { parseManifest, type Manifest, type ModelInfo } from '../../src/lib/models/manifest.ts';
import { OnnxGraph } from '../../scripts/zoo/onnx-graph.ts';

export const projectRoot = resolve(import.meta.dirname, '..', '..');

/** What a CLI command ended with: its exit code and what it printed. */
export interface LabCliResult {
  code: number | null;
  out: string;
  err: string;
}

const BIN = join(projectRoot, 'bin', 'latency-lab.js');
/** CI=1: the CLI prints no live progress display (its redraws would fill the captured output). */
const cliEnv = (env: Record<string, string> = {}) => ({ ...process.env, CI: '1', ...env });

/** Runs `latency-lab ARGS` to its end, from the project's root. */
export function labCli(
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): LabCliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: projectRoot,
    timeout: options.timeoutMs ?? 300_000,
    env: cliEnv(options.env),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same without blocking this process: needed while servers this test process started must keep answering. */
export function labCliAsync(args: string[], env?: Record<string, string>): Promise<LabCliResult> {
  const p = startLabCli(args, env);
  return new Promise((resolve) => p.child.on('close', (code) => resolve({ code, out: p.out(), err: p.err() })));
}

/** Starts `latency-lab ARGS` and leaves it running (host, a run reached while it works); kill `child` to end it. */
export function startLabCli(
  args: string[],
  env?: Record<string, string>,
): {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  waitFor: (re: RegExp, ms?: number) => Promise<boolean>;
} {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: projectRoot, env: cliEnv(env) });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  /** Whether `re` showed on stdout within `ms`. */
  const waitFor = async (re: RegExp, ms = 30_000) => {
    for (let t = 0; t < ms && !re.test(out); t += 250) await new Promise((r) => setTimeout(r, 250));
    return re.test(out);
  };
  return { child, out: () => out, err: () => err, waitFor };
}

/**
 * Set by the nightly suite (vitest.nightly.config.ts). Slow paths of an e2e file (a 4 GB input, a 30 s memory
 * measurement, a second seed of an auto run) stay in the file beside the fast ones, as `it.runIf(NIGHTLY)` with
 * "(nightly)" in their names: skipped on every commit (and shown as skipped), run by `npm run test:nightly`.
 */
export const NIGHTLY = process.env.LATENCY_LAB_NIGHTLY === '1';
export const distDir = join(projectRoot, 'dist');

export function requireDist(): void {
  checkDist(distDir); // the test command builds first; a missing build is a clear failure, not a skip
}

export function readDistManifest(dir = distDir): Manifest {
  return parseManifest(JSON.parse(readFileSync(join(dir, 'models', 'manifest.json'), 'utf8')));
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** A copy of a folder whose files are hard links where the filesystem allows (fast, no space), copies otherwise. */
function linkTree(from: string, to: string): void {
  if (!statSync(from).isDirectory()) {
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to);
    }
    return;
  }
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) linkTree(join(from, name), join(to, name));
}

/**
 * A copy of dist/ (hard-linked app files: the server refuses symlinks out of its root) whose models folder holds
 * the real manifest plus `extra` models (files given as bytes). For bad-input tests without touching the real build.
 */
export function distWithExtraModels(extra: { info: ModelInfo; files: Record<string, Uint8Array> }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-dist-'));
  for (const entry of readdirSync(distDir)) {
    if (entry !== 'models') linkTree(join(distDir, entry), join(dir, entry));
  }
  cpSync(join(distDir, 'models'), join(dir, 'models'), { recursive: true });
  const manifest = readDistManifest();
  for (const m of extra) {
    for (const [path, bytes] of Object.entries(m.files)) {
      mkdirSync(join(dir, 'models', path, '..'), { recursive: true });
      writeFileSync(join(dir, 'models', path), bytes);
    }
    manifest.models.push(m.info);
  }
  writeFileSync(join(dir, 'models', 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

export interface LabPage {
  page: Page;
  server: StaticServer;
  browser: LaunchedBrowser;
  offOrigin: string[];
  /** Every URL the guard saw, page and workers alike. */
  seen: string[];
  close(): Promise<void>;
}

/** One lab page for the describe block it is called in (opened before its tests, closed after): a getter. */
export function labForSuite(): () => LabPage {
  let lab: LabPage | undefined;
  beforeAll(async () => {
    lab = await openLab();
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });
  return () => {
    if (!lab) throw new Error('the lab page is not open yet');
    return lab;
  };
}

/** `extraFlags`: Chromium flags beyond the lab's own (a test that needs a browser feature switched on). */
export async function openLab(dir = distDir, extraFlags: string[] = []): Promise<LabPage> {
  const server = await serveStatic(dir);
  const browser = await launchChromium({ extraFlags });
  const page = await browser.context.newPage();
  const offOrigin: string[] = [];
  const seen: string[] = [];
  await guardOrigin(page, new URL(server.url).origin, offOrigin, seen);
  await page.goto(server.url);
  await page.waitForFunction(() => window.latencyLab !== undefined);
  return {
    page,
    server,
    browser,
    offOrigin,
    seen,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * A model unlike the zoo's: float32 x [batch, 4], an int64 scalar n, bool mask [batch, 4]; y = x * n * mask.
 * Built with the project's ONNX writer.
 */
export function multiInputModel(): Uint8Array {
  const g = new OnnxGraph();
  g.addInput('x', ['batch', 4], 1);
  g.addInput('n', [], 7);
  g.addInput('mask', ['batch', 4], 9);
  const nf = g.op('Cast', ['n'], 'nf', { to: 1 });
  const mf = g.op('Cast', ['mask'], 'mf', { to: 1 });
  const xn = g.op('Mul', ['x', nf], 'xn');
  g.node('Mul', [xn, mf], ['y']);
  g.addOutput('y', ['batch', 4]);
  return g.encode('multi_input', 'test model: several inputs of several dtypes');
}
