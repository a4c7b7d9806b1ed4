/**
 * `--first-visit 4g,3g`: each cell's first result as a first-time visitor gets it (a fresh browser profile: empty HTTP
 * cache, no compiled wasm) and as a returning one (the same browser, loading the page again), on each network
 * profile, Chromium emulating the link (CDP Network.emulateNetworkConditions; it throttles the page's dedicated
 * workers too, where the runtime and model are fetched). The server sends scripts and wasm compressed, as a static
 * host would, and counts what it sent per visit: the bytes are the server's, the times the page's.
 */
import type { VariantFiles } from '../lib/models/variants/variant-file.ts';
import { errorLine } from '../lib/errors.ts';
import type { Page } from 'playwright-core';
import type { FirstResult } from '../lib/contracts/automation-api.ts';
import {
  FILE_KINDS,
  NETWORK_PROFILES,
  type ByteCount,
  type FileKind,
  type FirstVisit,
  type FirstVisits,
  type NetworkProfileName,
} from '../lib/schema/first-visit.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { PlanRequest } from '../lib/plan/plan.ts';
import type { Cell } from '../lib/schema.ts';
import { launchChromium } from './chromium.ts';
import { COMPRESSION_NOTE, CompressedFiles } from './compress.ts';
import { checkDist, leavesOrigin } from './driver.ts';
import { CELL_WORKER_SCRIPT } from './serve-headers.ts';
import { serveStatic, type Sent } from './server.ts';

/** A visitor who stays this long after the first result before coming back (V8 keeps compiled wasm once it is hot). */
export const STAY_MS = 3000;
/** A visit that gives no first result in this time ends as `timeout` (3G fetches ~50 KB/s: 14 MB take ~5 min). */
export const VISIT_TIMEOUT_MS = 15 * 60_000;

export interface FirstVisitOptions {
  distDir: string;
  cacheDir: string;
  request: PlanRequest;
  /** The plan's cells to visit; the others are left out (native cells, and cells that could not run). */
  cells: readonly Cell[];
  profiles: readonly NetworkProfileName[];
  cpuSlowdown: number | null;
  extraModels?: ModelInfo[];
  /** Model variants made in Node (served from `files`), by model/variant. */
  variantFiles?: VariantFiles;
  files?: ReadonlyMap<string, string>;
  chromium?: string;
  softwareGpu?: boolean;
  extraFlags?: string[];
  /** --webnn: the cell worker's script is served with 'unsafe-eval' (src/lib/csp.ts), as in the run itself. */
  webnn?: boolean;
  timeoutMs?: number;
  onStatus?: (text: string) => void;
  onVisit?: (visit: FirstVisit) => void;
}

function kindOf(path: string, modelPaths: ReadonlySet<string>): FileKind {
  if (/\.wasm$/i.test(path)) return 'wasm';
  if (/\.m?js$/i.test(path)) return 'script';
  if (/\.json$/i.test(path)) return 'other';
  if (/\.(png|jpe?g|webp|gif|bmp|avif)$/i.test(path)) return 'input';
  if (path.includes('/models/') || path.startsWith('/__variants/') || modelPaths.has(path)) return 'model';
  return 'other';
}

const zero = (): ByteCount => ({ requests: 0, sentBytes: 0, bytes: 0 });

export function countBytes(sent: readonly Sent[], modelPaths: ReadonlySet<string>): Record<FileKind, ByteCount> {
  const out = Object.fromEntries(FILE_KINDS.map((k) => [k, zero()])) as Record<FileKind, ByteCount>;
  for (const s of sent) {
    const c = out[kindOf(s.path, modelPaths)];
    c.requests++;
    c.sentBytes += s.sentBytes;
    c.bytes += s.bytes;
  }
  return out;
}

function sumBytes(all: Record<FileKind, ByteCount>): ByteCount {
  return FILE_KINDS.reduce(
    (a, k) => ({
      requests: a.requests + all[k].requests,
      sentBytes: a.sentBytes + all[k].sentBytes,
      bytes: a.bytes + all[k].bytes,
    }),
    zero(),
  );
}

/** The cell's first result as the page reports it, as a visit record (times and parts; bytes filled in by the caller). */
export function visitOf(
  cellId: string,
  profile: NetworkProfileName,
  visit: FirstVisit['visit'],
  r: FirstResult | { status: 'timeout'; reason: string },
): Omit<FirstVisit, 'bytes' | 'pageBytes'> {
  if (r.status !== 'ok' || !('coldStart' in r) || !r.coldStart) {
    const status =
      r.status === 'timeout' || /timed out/.test(r.reason ?? '')
        ? 'timeout'
        : r.status === 'unsupported'
          ? 'unsupported'
          : 'failed';
    return {
      cellId,
      profile,
      visit,
      status,
      reason: r.reason ?? r.status,
      pageLoadMs: 'pageLoadMs' in r ? r.pageLoadMs : null,
      firstResultMs: null,
      parts: null,
    };
  }
  const c = r.coldStart;
  const parts = {
    workerBootMs: c.workerBootMs ?? 0,
    runtimeInitMs: c.runtimeInitMs ?? 0,
    modelFetchMs: c.fetchMs ?? 0,
    sessionCreateMs: c.sessionCreateMs ?? 0,
    firstInferenceMs: c.firstInferenceMs ?? 0,
    wasmDownloadMs: c.runtimeWasm?.fetchMs ?? null,
  };
  return {
    cellId,
    profile,
    visit,
    status: 'ok',
    reason: null,
    pageLoadMs: r.pageLoadMs,
    firstResultMs: c.firstResultMs ?? null,
    parts,
  };
}

async function emulate(page: Page, profile: NetworkProfileName, cpuSlowdown: number | null): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const p = NETWORK_PROFILES[profile];
  if (p.downloadBps !== null) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: p.latencyMs,
      downloadThroughput: p.downloadBps,
      uploadThroughput: p.uploadBps ?? -1,
    });
  }
  // Chromium refuses CPU throttling for workers ("Operation is only supported for pages, not workers"): the page's
  // own thread is slowed, the cell's worker is not. Every output says so.
  if (cpuSlowdown !== null) await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
}

/** One profile for one cell: a fresh browser, its first visit, a stay, then its returning visit. */
async function visitPair(
  o: FirstVisitOptions,
  url: string,
  sent: readonly Sent[],
  modelPaths: ReadonlySet<string>,
  cell: Cell,
  profile: NetworkProfileName,
): Promise<FirstVisit[]> {
  const browser = await launchChromium({
    executablePath: o.chromium,
    headless: true,
    softwareGpu: o.softwareGpu,
    extraFlags: o.extraFlags,
  });
  const out: FirstVisit[] = [];
  const offOrigin: string[] = [];
  try {
    const page = await browser.context.newPage();
    // Watched, not routed: Playwright turns the HTTP cache off for a context with routes, and a returning visit
    // needs it. The page's CSP blocks other origins in any case; a request to one fails the visit.
    const origin = new URL(url).origin;
    browser.context.on('request', (r) => {
      if (leavesOrigin(r.url(), origin)) offOrigin.push(r.url());
    });
    await emulate(page, profile, o.cpuSlowdown);
    for (const visit of ['first', 'returning'] as const) {
      o.onStatus?.(`first visit: ${cell.id} on ${profile}, ${visit} visit`);
      if (visit === 'returning') await page.goto('about:blank');
      const pageMark = sent.length;
      const { record: measured, cellMark } = await oneVisit(page, o, url, cell, profile, visit, () => sent.length);
      const record = offOrigin.length
        ? {
            ...measured,
            status: 'failed' as const,
            reason: `requests left the page's origin: ${offOrigin.slice(0, 3).join(', ')}`,
          }
        : measured;
      const v: FirstVisit = {
        ...record,
        pageBytes: sumBytes(countBytes(sent.slice(pageMark, cellMark), modelPaths)),
        bytes: countBytes(sent.slice(cellMark), modelPaths),
      };
      out.push(v);
      o.onVisit?.(v);
      if (v.status !== 'ok') break;
      if (visit === 'first') await new Promise((r) => setTimeout(r, STAY_MS));
    }
  } finally {
    await browser.close();
  }
  return out;
}

/**
 * One visit: the page loaded, then the cell up to its first result (a timeout or failure is a record with the
 * reason). `cellMark`: how many responses the server had sent when the page was ready (the page's bytes end there).
 */
async function oneVisit(
  page: Page,
  o: FirstVisitOptions,
  url: string,
  cell: Cell,
  profile: NetworkProfileName,
  visit: 'first' | 'returning',
  sentCount: () => number,
): Promise<{ record: Omit<FirstVisit, 'bytes' | 'pageBytes'>; cellMark: number }> {
  const timeoutMs = o.timeoutMs ?? VISIT_TIMEOUT_MS;
  let cellMark = sentCount();
  try {
    await page.goto(url, { timeout: timeoutMs });
    await page.waitForFunction(() => window.latencyLab !== undefined, null, { timeout: timeoutMs });
    cellMark = sentCount();
    const call = page.evaluate(
      `window.latencyLab.firstResult(${JSON.stringify(o.request)}, ${JSON.stringify(cell.id)}, { extraModels: ${JSON.stringify(o.extraModels ?? [])}, variantFiles: ${JSON.stringify(o.variantFiles ?? {})}, timeoutMs: ${timeoutMs} })`,
    ) as Promise<FirstResult>;
    const late = new Promise<{ status: 'timeout'; reason: string }>((r) =>
      setTimeout(
        () => r({ status: 'timeout', reason: `no first result within ${timeoutMs / 1000} s` }),
        timeoutMs + 30_000,
      ).unref(),
    );
    return { record: visitOf(cell.id, profile, visit, await Promise.race([call, late])), cellMark };
  } catch (e) {
    const reason = errorLine(e);
    return {
      record: {
        cellId: cell.id,
        profile,
        visit,
        status: 'failed',
        reason,
        pageLoadMs: null,
        firstResultMs: null,
        parts: null,
      },
      cellMark,
    };
  }
}

export async function measureFirstVisits(o: FirstVisitOptions): Promise<FirstVisits> {
  checkDist(o.distDir);
  o.onStatus?.('first visit: compressing the build as a static host would (kept for later runs)');
  const compressed = await CompressedFiles.build(o.distDir, o.cacheDir);
  const evalScripts = o.webnn ? CELL_WORKER_SCRIPT : undefined; // as the run's own server (driver.ts)
  const server = await serveStatic(o.distDir, { files: o.files, compressed, evalScripts });
  const modelPaths = new Set(o.files?.keys() ?? []);
  const visits: FirstVisit[] = [];
  try {
    for (const cell of o.cells)
      for (const profile of o.profiles)
        visits.push(...(await visitPair(o, server.url, server.sent, modelPaths, cell, profile)));
  } finally {
    await server.close();
  }
  return {
    emulated: true,
    profiles: o.profiles.map((name) => ({ name, ...NETWORK_PROFILES[name] })),
    cpuSlowdown: o.cpuSlowdown,
    compression: COMPRESSION_NOTE,
    stayMs: STAY_MS,
    visits,
  };
}
