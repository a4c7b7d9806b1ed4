/**
 * The lab's static server under hostile requests (issue 14): bad URLs, traversal, NUL, a 64 KB path, other methods
 * and a symlink out of the served folder all get 4xx answers, nothing throws, and a CLI run on a fixed --port
 * finishes with exit 0 while such requests arrive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveStatic } from '../../src/cli/server.ts';
import { distDir, openLab, projectRoot, requireDist } from './harness.ts';

/** One raw request (the path sent exactly as given, no client-side normalising): the status code. */
function status(port: number, path: string, method = 'GET'): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.on('error', fail);
    req.end();
  });
}

const HOSTILE = [
  '/%',
  '//',
  '/..%2f..%2fetc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/%00',
  '/index.html%00.js',
  `/${'a'.repeat(64 * 1024)}`,
];

describe('the static server under hostile requests', () => {
  it('answers every one with 4xx, refuses other methods and links out of the root, and keeps serving', async () => {
    requireDist();
    const root = mkdtempSync(join(tmpdir(), 'lab-root-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>ok</title>');
    const secret = join(mkdtempSync(join(tmpdir(), 'lab-secret-')), 'secret.txt');
    writeFileSync(secret, 'not for the network');
    symlinkSync(secret, join(root, 'leak.txt'));
    const server = await serveStatic(root);
    const port = Number(new URL(server.url).port);
    try {
      for (const path of HOSTILE) {
        const code = await status(port, path);
        expect(code, `${path.slice(0, 40)} -> ${code}`).toBeGreaterThanOrEqual(400);
        expect(code, path.slice(0, 40)).toBeLessThan(500);
      }
      expect(await status(port, '/index.html', 'POST')).toBe(405);
      expect(await status(port, '/index.html', 'DELETE')).toBe(405);
      expect(await status(port, '/leak.txt')).toBe(403);
      // Still serving, and what it served is listed once, however often it was asked for.
      expect(await status(port, '/index.html')).toBe(200);
      expect(await status(port, '/index.html', 'HEAD')).toBe(200);
      expect(await status(port, '/')).toBe(200);
      expect(server.served.filter((p) => p === '/index.html')).toHaveLength(1);
      expect(server.served).not.toContain('/leak.txt');
    } finally {
      await server.close();
    }
  });

  it('a CLI run on --port finishes with exit 0 while hostile requests arrive', async () => {
    requireDist();
    const port = 4700 + Math.floor(Math.random() * 200);
    const child = spawn(
      process.execPath,
      [
        join(projectRoot, 'bin', 'latency-lab.js'),
        'run',
        '--models',
        'calibration',
        '--targets',
        'calib:cpu',
        '--samples',
        '20',
        '--port',
        String(port),
        '--out',
        mkdtempSync(join(tmpdir(), 'lab-port-')),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exit = new Promise<number | null>((ok) => child.on('exit', ok));
    // Wait for the server to listen, then send every hostile request while the run goes on.
    let codes: number[] = [];
    for (let i = 0; i < 100 && !codes.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      codes = await Promise.all(HOSTILE.map((p) => status(port, p))).catch(() => []);
    }
    expect(codes.length, out).toBe(HOSTILE.length);
    for (const c of codes) expect(c).toBeGreaterThanOrEqual(400);
    expect(await status(port, '/', 'POST')).toBe(405);
    expect(await exit, out).toBe(0);
    expect(out).toMatch(/calibration\/calib:cpu\/b1\/t1\s+ok/);
    void distDir;
  }, 120_000);
});

describe('Content-Security-Policy', () => {
  it('is sent with the page and built into it; markup slipped into the page runs no script', async () => {
    requireDist();
    // In the build itself, for static hosts that send no headers.
    expect(readFileSync(join(distDir, 'index.html'), 'utf8')).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src &#39;self&#39;; script-src &#39;self&#39; &#39;wasm-unsafe-eval&#39; blob:;/,
    );
    const lab = await openLab();
    try {
      const { page } = lab;
      const res = await page.request.get(lab.server.url);
      expect(res.headers()['content-security-policy']).toMatch(
        /^default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:;.*frame-ancestors 'none'$/,
      );
      // What a component that put an imported name into the page as HTML would let through: none of it runs.
      const outcome = await page.evaluate(async () => {
        const violations: string[] = [];
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
        const w = window as unknown as Record<string, unknown>;
        const box = document.createElement('div');
        box.innerHTML =
          '<img src="data:," onerror="window.__viaAttr = 1"><a href="javascript:window.__viaLink=1">x</a>';
        document.body.append(box);
        (box.querySelector('a') as HTMLAnchorElement).click();
        const script = document.createElement('script');
        script.textContent = 'window.__viaInline = 1';
        document.body.append(script);
        // A string timer is eval (code evaluated here by the test itself is exempt from CSP; the timer's is not).
        (setTimeout as unknown as (code: string, ms: number) => void)('window.__viaTimer = 1', 0);
        await new Promise((r) => setTimeout(r, 200));
        return { attr: w.__viaAttr, link: w.__viaLink, inline: w.__viaInline, timer: w.__viaTimer, violations };
      });
      expect(outcome).toMatchObject({ attr: undefined, link: undefined, inline: undefined, timer: undefined });
      expect(outcome.violations).toContain('script-src-attr');
      expect(outcome.violations.some((v) => v.startsWith('script-src'))).toBe(true);
      expect(lab.offOrigin).toEqual([]);
    } finally {
      await lab.close();
    }
  }, 60_000);
});
