/** The latency-lab command as a user runs it: exit codes, messages, and a results file that validates. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunResult, SCHEMA_VERSION } from '../../src/lib/schema.ts';
import { projectRoot, requireDist } from './harness.ts';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(projectRoot, 'bin', 'latency-lab.js'), ...args], { encoding: 'utf8', cwd: projectRoot, timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('latency-lab CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lab-cli-'));

  it('runs a matrix, prints the table and writes a valid results file', () => {
    requireDist();
    const out = join(tmp, 'r.json');
    const r = cli('run', '--models', 'tiny-cnn', '--targets', 'ort:wasm,tfjs:wasm', '--samples', '4', '--warmup', '1', '--out', out);
    expect(r.err).toMatch(/\[\d\/2\] tiny-cnn\/ort:wasm\/b1\/t1/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/tiny-cnn\/tfjs:wasm\/b1\/t1\s+ok/);
    const result = parseRunResult(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.source).toBe('cli');
    expect(result.cells.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(result.environment.browserFlags).toContain('--disable-quic');
    expect(cli('validate', out).code).toBe(0);
  });

  it('exits 3 and says why when a cell fails, keeping the rest', () => {
    const out = join(tmp, 'bad.json');
    const r = cli('run', '--models', 'tiny-cnn,nope', '--targets', 'ort:wasm', '--samples', '2', '--warmup', '0', '--out', out, '--quiet');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/nope\/ort:wasm\/b1\/t1 failed: plan: unknown model id 'nope'/);
    const result = parseRunResult(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.cells.find((c) => c.cell.modelId === 'tiny-cnn')?.status).toBe('ok');
  });

  it('rejects bad flags before any browser starts, naming them (exit 2)', () => {
    const a = cli('run', '--bogus');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--bogus/);
    const b = cli('run', '--targets', 'ort:gpu');
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/runtime 'ort' has no backend 'gpu'; valid: wasm/);
    const c = cli('run', '--batch', '0');
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/batch sizes: 0/);
  });

  it('compare prints every cell against the fastest, and one pair in words', () => {
    const file = join(tmp, 'r.json'); // written by the first test
    const all = cli('compare', file);
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/cell\s+median ms\s+ratio\s+95% CI\s+verdict/);
    expect(all.out).toMatch(/fastest/);
    const pair = cli('compare', file, '--a', 'tiny-cnn/tfjs:wasm/b1/t1', '--b', 'tiny-cnn/ort:wasm/b1/t1', '--threshold', '5');
    expect(pair.code).toBe(0);
    expect(pair.out).toMatch(/tiny-cnn\/tfjs:wasm\/b1\/t1 (is [\d.]+x (faster|slower) than|vs) tiny-cnn\/ort:wasm\/b1\/t1/);
    const bad = cli('compare', file, '--a', 'nope', '--b', 'tiny-cnn/ort:wasm/b1/t1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no ok cell 'nope'.*ok cells: tiny-cnn/);
  });

  it('refuses sampling settings that cannot be met, naming the valid range (exit 2)', () => {
    const a = cli('run', '--target-ci', '0');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/targetCI must be > 0 and <= 0\.5/);
    const b = cli('run', '--min-samples', '50', '--max-samples', '20');
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/maxSamples \(20\) is below minSamples \(50\)/);
    const c = cli('run', '--samples=-3');
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/samples must be in 1\.\.100000/);
  });

  it('validate names the bad field of a broken results file', () => {
    const file = join(tmp, 'broken.json');
    writeFileSync(file, JSON.stringify({ schemaVersion: SCHEMA_VERSION, cells: [] }));
    const r = cli('validate', file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/tool: /);
  });

  it('documents itself', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/latency-lab run \[options\]/);
    expect(r.out).toMatch(/Exit codes/);
  });
});

describe('latency-lab run --measure-memory', () => {
  it('stores the page memory with the model loaded', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lab-mem-')), 'm.json');
    const r = cli('run', '--models', 'tiny-cnn', '--targets', 'tfjs:wasm', '--samples', '2', '--warmup', '0', '--measure-memory', '--out', out, '--quiet');
    expect(r.code).toBe(0);
    const cell = parseRunResult(JSON.parse(readFileSync(out, 'utf8'))).cells[0]!;
    expect(cell.status).toBe('ok');
    if (cell.status !== 'ok') return;
    expect(cell.memory.userAgentNote).toBeNull();
    expect(cell.memory.userAgentBytes).toBeGreaterThan(1_000_000);
    expect(cell.memory.wasmHeapBytes).toBeGreaterThan(0);
  });
});
