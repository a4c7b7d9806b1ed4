/**
 * WebNN through ORT (`latency-lab run --webnn`). ORT's WebNN execution provider builds functions from strings
 * (Emscripten's embind), so a --webnn run serves the cell worker's script with 'unsafe-eval' in script-src; every
 * other response, and every run without --webnn, keeps the strict policy (src/lib/csp.ts). Only the Chromium bundled
 * in @sparticuz/chromium gives WebNN contexts here (Debian's refuses them: docs/platform.md), so the run is skipped,
 * saying why, where that browser can't be unpacked.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CELL_WORKER_SCRIPT } from '../../src/cli/serve-headers.ts';
import { serveStatic } from '../../src/cli/server.ts';
import { CONTENT_SECURITY_POLICY_HEADER, WEBNN_WORKER_CSP_HEADER } from '../../src/lib/csp.ts';
import { parseRunResult, type OkCellResult } from '../../src/lib/schema.ts';
import { distDir, projectRoot, requireDist } from './harness.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-webnn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Why the bundled Chromium can't be used here, or null when it unpacks. */
const bundledMissing: string | null = await import('@sparticuz/chromium')
  .then((m) => (m as { default: { executablePath(): Promise<string> } }).default.executablePath())
  .then(
    () => null,
    (e: unknown) => `the bundled @sparticuz/chromium could not be unpacked (${String(e)})`,
  );
if (bundledMissing) console.warn(`webnn.e2e: skipping the WebNN run: ${bundledMissing}`);

async function cspOf(url: string): Promise<string | null> {
  return (await fetch(url)).headers.get('content-security-policy');
}

describe('the cell worker policy', () => {
  it("is strict unless the run asked for WebNN, and then only the cell worker's script allows eval", async () => {
    requireDist();
    const workers = readdirSync(join(distDir, 'assets')).filter((f) => CELL_WORKER_SCRIPT.test(`/assets/${f}`));
    // The pattern names the build's one cell worker: if Vite renamed it, the relaxation would reach nothing.
    expect(workers).toHaveLength(1);
    const worker = `assets/${workers[0]}`;
    const other = readdirSync(join(distDir, 'assets')).find((f) => f.startsWith('probe-worker-'))!;
    const plain = await serveStatic(distDir);
    const webnn = await serveStatic(distDir, { evalScripts: CELL_WORKER_SCRIPT });
    try {
      expect(CONTENT_SECURITY_POLICY_HEADER).not.toContain("'unsafe-eval'");
      expect(await cspOf(plain.url + worker)).toBe(CONTENT_SECURITY_POLICY_HEADER);
      expect(await cspOf(plain.url)).toBe(CONTENT_SECURITY_POLICY_HEADER);
      expect(await cspOf(webnn.url + worker)).toBe(WEBNN_WORKER_CSP_HEADER);
      expect(WEBNN_WORKER_CSP_HEADER).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval' blob:;/);
      expect(await cspOf(webnn.url)).toBe(CONTENT_SECURITY_POLICY_HEADER);
      expect(await cspOf(`${webnn.url}assets/${other}`)).toBe(CONTENT_SECURITY_POLICY_HEADER);
    } finally {
      await plain.close();
      await webnn.close();
    }
  });
});

describe.skipIf(bundledMissing !== null)('ort:webnn on the bundled Chromium with --webnn', () => {
  it('runs on WebNN (ORT profile: the WebNN provider ran the graph), agrees with ort:wasm, and records the relaxed policy', () => {
    requireDist();
    const out = join(tmp, 'run');
    const r = spawnSync(
      process.execPath,
      [
        join(projectRoot, 'bin', 'latency-lab.js'),
        'run',
        '--models',
        'tiny-cnn',
        '--targets',
        'ort:wasm,ort:webnn',
        '--samples',
        '8',
        '--warmup',
        '2',
        '--webnn',
        '--out',
        out,
      ],
      {
        encoding: 'utf8',
        cwd: projectRoot,
        timeout: 240_000,
        // No system browser: the CLI falls back to the bundled one, the one whose WebNN gives contexts.
        env: { ...process.env, CI: '1', LATENCY_LAB_BROWSER_SEARCH: 'none', LATENCY_LAB_CHROMIUM: '' },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    const cell = result.cells.find((c) => c.cell.id === 'tiny-cnn/ort:webnn@default/b1/t1');
    expect(cell?.status, JSON.stringify(cell).slice(0, 600)).toBe('ok');
    const ok = cell as OkCellResult;
    expect(ok.proof.backendInUse).toBe('webnn');
    // Read from ORT's profile: every kernel ran on the WebNN provider (none left on the CPU provider).
    expect(ok.proof.details.executedProviders).toMatch(/^WebNNExecutionProvider:\d+$/);
    expect(ok.proof.details.webnnContextOptions).toMatch(/no options|deviceType/);
    expect(ok.proof.details.workerCsp).toBe(WEBNN_WORKER_CSP_HEADER);
    expect(ok.warnings.join(' ')).toMatch(/'unsafe-eval' allowed/);
    expect(ok.parity).toMatchObject({ referenceCellId: 'tiny-cnn/ort:wasm@wasm/b1/t1', withinTolerance: true });
  });
});
