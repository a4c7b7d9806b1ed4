/**
 * The built lab on a plain static host: no COOP/COEP headers, served under a sub-path (as GitHub Pages serves a
 * project). The service worker must make it cross-origin isolated, and a run (wasm threads included) must work.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../src/cli/chromium.ts';
import { guardOrigin } from '../../src/cli/driver.ts';
import { serveStatic, type StaticServer } from '../../src/cli/server.ts';
import { parseRunResult } from '../../src/lib/schema.ts';
import { distDir, requireDist } from './harness.ts';

describe('static hosting without headers, under a sub-path', () => {
  let server: StaticServer;
  let browser: LaunchedBrowser;
  const offOrigin: string[] = [];

  beforeAll(async () => {
    requireDist();
    server = await serveStatic(distDir, { isolate: false, base: '/lab/' });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the server really sends no isolation headers', async () => {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
    expect((await fetch(server.url.replace('/lab/', '/'))).status).toBe(404); // only the sub-path exists
  });

  it('the first page load fetches only the app shell (<= 150 KB of JS gzipped); no runtime, no wasm', async () => {
    const page = await browser.context.newPage();
    const fetched: string[] = [];
    page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    await page.goto(server.url);
    await page.waitForFunction(() => window.latencyLab !== undefined && crossOriginIsolated, null, { timeout: 30_000 });
    await page.getByTestId('timer-resolution').waitFor(); // the backend probe (in a cell worker) has answered
    const js = [...new Set(fetched.filter((p) => p.endsWith('.js') && p.includes('/assets/')))];
    expect(js.length).toBeGreaterThan(0);
    expect(js.filter((p) => /\/(ort|tfjs|dist)-/.test(p))).toEqual([]);
    expect(fetched.filter((p) => p.endsWith('.wasm'))).toEqual([]);
    const gz = js.reduce((sum, p) => sum + gzipSync(readFileSync(join(distDir, p.replace('/lab/', '')))).byteLength, 0);
    expect(gz).toBeLessThanOrEqual(150 * 1024);
    await page.close();
  });

  it('becomes cross-origin isolated through the service worker, and runs a threaded cell', async () => {
    const page = await browser.context.newPage();
    await guardOrigin(page, new URL(server.url).origin, offOrigin);
    await page.goto(server.url);
    await page.waitForFunction(() => window.latencyLab !== undefined && crossOriginIsolated, null, { timeout: 30_000 });
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toMatch(/\/lab\/coi-sw\.js$/);
    const raw = await page.evaluate(
      `window.latencyLab.run({ models: ['tiny-cnn'], targets: ['ort:wasm'], batches: [1], threads: [2], sampling: { mode: 'fixed', samples: 5, warmup: 1 } })`,
    );
    const result = parseRunResult(raw);
    expect(result.environment.crossOriginIsolated).toBe(true);
    expect(result.environment.timerResolutionMs).toBeLessThanOrEqual(0.02);
    const cell = result.cells[0]!;
    expect(cell.status, JSON.stringify(cell).slice(0, 300)).toBe('ok');
    if (cell.status === 'ok') expect(cell.proof.threads).toBe(2);
    // Everything came from under the sub-path: models, wasm and code.
    expect(server.served.filter((p) => !p.startsWith('/lab/'))).toEqual([]);
    expect(server.served.some((p) => p.endsWith('.wasm'))).toBe(true);
    expect(offOrigin).toEqual([]);
  });
});
