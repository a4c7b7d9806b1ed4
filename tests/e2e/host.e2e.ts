/**
 * `latency-lab host`: a page opened from the printed URL (with its token) sends its finished run back; the host
 * prints it and writes the merged multi-device report. Uploads without the token, too big, or not result files
 * are refused with the reason, and nothing is written for them.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/cli/chromium.ts';
import { guardOrigin } from '../../src/cli/driver.ts';
import { acceptUpload } from '../../src/cli/host.ts';
import { parseResultFile } from '../../src/lib/schema.ts';
import { distDir, requireDist, startLabCli } from './harness.ts';
import { CELL_WORKER_SCRIPT } from '../../src/cli/serve-headers.ts';
import { CONTENT_SECURITY_POLICY_HEADER, WEBNN_WORKER_CSP_HEADER } from '../../src/lib/csp.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-host-'));
let host: ChildProcess | null = null;
afterAll(() => {
  host?.kill('SIGINT');
  rmSync(tmp, { recursive: true, force: true });
});

describe('latency-lab host', () => {
  it('checks token, size and schema before it keeps anything', () => {
    expect(acceptUpload('abc', null, '{}', false, 100).answer.status).toBe(403);
    expect(acceptUpload('abc', 'abd', '{}', false, 100).answer.status).toBe(403);
    expect(acceptUpload('abc', 'abc', '', true, 100).answer).toEqual({
      status: 413,
      body: { error: 'the result file is over 100 bytes (--max-mb)' },
    });
    expect(acceptUpload('abc', 'abc', '{oops', false, 100).answer.status).toBe(400);
    const notResult = acceptUpload('abc', 'abc', '{"schemaVersion": 5, "cells": 3}', false, 1000);
    expect(notResult.answer.status).toBe(400);
    expect(String(notResult.answer.body.error)).toMatch(/^not a result file: /);
    expect(notResult.runs).toEqual([]);
  });

  it('serves the lab with a token URL and a QR code, takes a run back from the page, and merges it into a report', async () => {
    requireDist();
    const out = join(tmp, 'out');
    const started = startLabCli(['host', '--bind', '127.0.0.1', '--out', out]);
    host = started.child;
    // The line after the QR code says where results go: once it is out, the URL and the QR code are too.
    await started.waitFor(/results go to/);
    const stdout = () => started.out();
    const url = /http:\/\/127\.0\.0\.1:\d+\/\?host=[0-9a-f]{32}/.exec(stdout())?.[0];
    expect(url, stdout() + started.err()).toBeDefined();
    // The QR code: block characters on several lines.
    expect(
      stdout()
        .split('\n')
        .filter((l) => /[▀▄█]/.test(l)).length,
    ).toBeGreaterThan(10);

    // Without the token: refused, nothing written.
    const origin = new URL(url!).origin;
    const bare = await fetch(`${origin}/__lab/results`, { method: 'POST', body: '{}' });
    expect(bare.status).toBe(403);
    expect(existsSync(join(out, 'results.json'))).toBe(false);

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const offOrigin: string[] = [];
      await guardOrigin(page, origin, offOrigin);
      await page.goto(url!);
      await page.getByTestId('host-status').waitFor();
      await page.getByTestId('model').selectOption('tiny-cnn');
      await page.getByTestId('mode').selectOption('fixed');
      await page.getByTestId('samples').fill('10');
      await page.getByTestId('run').click();
      await page.waitForFunction(
        () => /sent to the host as/.test(document.querySelector('[data-testid=host-status]')?.textContent ?? ''),
        null,
        { timeout: 120_000 },
      );
      expect(offOrigin).toEqual([]);
    } finally {
      await browser.close();
    }
    for (let i = 0; i < 40 && !existsSync(join(out, 'results.json')); i++) await new Promise((r) => setTimeout(r, 250));
    const runs = parseResultFile(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    expect(runs).toHaveLength(1);
    expect(runs[0]!.device).toMatch(/Chrom.* · .* · \d+ cores/);
    expect(runs[0]!.cells.filter((c) => c.status === 'ok').length).toBeGreaterThanOrEqual(2);
    expect(readdirSync(out).sort()).toEqual([
      'device-1.json',
      'report.html',
      'report.md',
      'results.json',
      'samples.csv',
      'summary.csv',
    ]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(runs[0]!.device!);
    expect(stdout()).toMatch(/\[Chrom[^\]]*\] \d+ cells, \d+ ok/);
    expect(started.err()).toMatch(/refused an upload \(403\)/);
  }, 180_000);

  it("--webnn: the cell worker's script may eval (ORT's WebNN provider), the page and every other file stay strict", async () => {
    requireDist();
    const worker = readdirSync(join(distDir, 'assets')).find((f) => CELL_WORKER_SCRIPT.test(`/assets/${f}`))!;
    const webnnHost = startLabCli(['host', '--bind', '127.0.0.1', '--out', join(tmp, 'webnn'), '--webnn']);
    try {
      await webnnHost.waitFor(/results go to/);
      const origin = /http:\/\/127\.0\.0\.1:\d+/.exec(webnnHost.out())?.[0];
      expect(origin, webnnHost.out()).toBeDefined();
      expect(webnnHost.out()).toMatch(/'unsafe-eval'.*WebNN itself must be on in each device's browser/);
      const csp = async (path: string) => (await fetch(origin + path)).headers.get('content-security-policy');
      expect(await csp(`/assets/${worker}`)).toBe(WEBNN_WORKER_CSP_HEADER);
      expect(await csp('/')).toBe(CONTENT_SECURITY_POLICY_HEADER);
    } finally {
      webnnHost.child.kill('SIGINT');
    }
  }, 60_000);
});
