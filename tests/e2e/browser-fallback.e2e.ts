/**
 * A machine without a system browser: the CLI finds none (its search pointed at nothing) and falls back to the
 * headless Chromium inside the optional dependency @sparticuz/chromium, says so once, and runs; a backend that
 * doesn't start there is an unsupported cell with the reason, not a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSystemChromium } from '../../src/cli/chromium.ts';
import { parseRunResult } from '../../src/lib/schema.ts';
import { projectRoot, requireDist } from './harness.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-fallback-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const hidden = { LATENCY_LAB_BROWSER_SEARCH: 'none', LATENCY_LAB_CHROMIUM: '' };

describe('no system browser', () => {
  it('the search finds nothing when pointed at nothing', () => {
    const saved = process.env.LATENCY_LAB_BROWSER_SEARCH;
    process.env.LATENCY_LAB_BROWSER_SEARCH = 'none';
    try {
      expect(findSystemChromium()).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.LATENCY_LAB_BROWSER_SEARCH;
      else process.env.LATENCY_LAB_BROWSER_SEARCH = saved;
    }
  });

  it('runs on the bundled headless Chromium, says what it lacks, and ends cells that cannot start as unsupported', () => {
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
        'ort:wasm,ort:webgpu,tfjs:webgl',
        '--samples',
        '8',
        '--warmup',
        '2',
        '--allow-unsupported',
        '--out',
        out,
      ],
      {
        encoding: 'utf8',
        cwd: projectRoot,
        timeout: 240_000,
        env: { ...process.env, CI: '1', ...hidden },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(
      r.stderr.match(/no system Chromium found: using the headless Chromium bundled in @sparticuz\/chromium/g),
    ).toHaveLength(1);
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    // Not the system's browser: the bundled build's own version, headless.
    const system = findSystemChromium();
    if (system)
      expect(result.environment.userAgent).not.toContain(
        spawnSync(system, ['--version'], { encoding: 'utf8' }).stdout.match(/\d+\.\d+\.\d+\.\d+/)?.[0] ?? 'none',
      );
    expect(result.environment.crossOriginIsolated).toBe(true);
    const wasm = result.cells.find((c) => c.cell.id === 'tiny-cnn/ort:wasm@wasm/b1/t1');
    expect(wasm?.status).toBe('ok');
    for (const c of result.cells) {
      expect(['ok', 'unsupported'], c.cell.id).toContain(c.status);
      if (c.status === 'unsupported') expect(c.reason.length, c.cell.id).toBeGreaterThan(10);
    }
    // tfjs asks WebGL for a context without a major performance caveat, which this build refuses for its SwiftShader
    // WebGL (ORT's WebGL asks no caveat and ran): the lab lets tfjs take the software context and says so.
    const tfjsWebgl = result.cells.find((c) => c.cell.id === 'tiny-cnn/tfjs:webgl/b1/t1');
    expect(tfjsWebgl?.status, JSON.stringify(tfjsWebgl).slice(0, 400)).toBe('ok');
    if (tfjsWebgl?.status === 'ok' && tfjsWebgl.proof.details.tfjsSoftwareWebgl) {
      expect(tfjsWebgl.proof.details.webglCaveatRefusal).toMatch(/Could not create a WebGL context/);
      expect(tfjsWebgl.warnings.join(' ')).toMatch(/an app with tfjs's defaults would not get webgl here/);
    }
    // No hardware GPU there: whatever GPU backend started ran on a software renderer, and says so.
    expect(result.environment.gpu?.software).toBe(true);
  });

  it('--headed needs a system browser, and says so', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(projectRoot, 'bin', 'latency-lab.js'),
        'run',
        '--models',
        'tiny-cnn',
        '--targets',
        'ort:wasm',
        '--samples',
        '3',
        '--headed',
      ],
      { encoding: 'utf8', cwd: projectRoot, timeout: 120_000, env: { ...process.env, CI: '1', ...hidden } },
    );
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/--headed needs a system Chromium/);
  });
});
