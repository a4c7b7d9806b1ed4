/** The latency-lab command as a user runs it: exit codes, messages, report files, budgets, baselines, devices. */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserServer } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BASE_FLAGS, findChromium, GPU_FLAGS } from '../../src/cli/chromium.ts';
import { parseResultFile, parseRunResult, SCHEMA_VERSION } from '../../src/lib/schema.ts';
import { distDir, labCli, labCliAsync, NIGHTLY, requireDist } from './harness.ts';

const cli = (...args: string[]) => labCli(args, { timeoutMs: 240_000 });

/** Async variant: needed while browser servers started by this test process must keep answering. */
const cliAsync = (...args: string[]) => labCliAsync(args);

const tmp = mkdtempSync(join(tmpdir(), 'lab-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixed = ['--samples', '20', '--warmup', '2'];

describe('latency-lab run', () => {
  const out = join(tmp, 'first');

  it('runs a matrix, prints the table, and writes results.json and every report into --out', () => {
    requireDist();
    const r = cli('run', '--models', 'tiny-cnn', '--targets', 'ort:wasm,tfjs:wasm', ...fixed, '--out', out);
    expect(r.err).toMatch(/\[\d\/2\] tiny-cnn\/ort:wasm@wasm\/b1\/t1/);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/tiny-cnn\/tfjs:wasm\/b1\/t1\s+ok/);
    for (const f of ['results.json', 'summary.csv', 'samples.csv', 'report.md', 'report.html'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    expect(result.source).toBe('cli');
    expect(result.cells.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(result.environment.browserFlags).toContain('--disable-quic');
    expect(readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(readFileSync(join(out, 'samples.csv'), 'utf8').trim().split('\n')).toHaveLength(41);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| tiny-cnn\/ort:wasm@wasm\/b1\/t1 \| ok \|/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<svg[\s\S]*tiny-cnn\/tfjs:wasm\/b1\/t1/);
    expect(cli('validate', join(out, 'results.json')).code).toBe(0);
  });

  it('--ort-build wasm,default: one cell per build, told apart by id, proof, the wasm each fetched, and a comparison', () => {
    const dir = join(tmp, 'builds');
    const r = cli(
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm',
      '--ort-build',
      'wasm,default',
      ...fixed,
      '--out',
      dir,
    );
    expect(r.code, r.err).toBe(0);
    const result = parseRunResult(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    const cells = result.cells.flatMap((c) => (c.status === 'ok' ? [c] : []));
    expect(cells.map((c) => c.cell.id).sort()).toEqual([
      'tiny-cnn/ort:wasm@default/b1/t1',
      'tiny-cnn/ort:wasm@wasm/b1/t1',
    ]);
    for (const c of cells) {
      expect(c.proof.details.build).toBe(c.cell.build);
      expect(c.proof.details.entry).toBe(c.cell.build === 'wasm' ? 'onnxruntime-web/wasm' : 'onnxruntime-web');
    }
    const wasm = cells.find((c) => c.cell.build === 'wasm')!.coldStart.runtimeWasm!;
    const jsep = cells.find((c) => c.cell.build === 'default')!.coldStart.runtimeWasm!;
    // Each worker loaded only its own build's wasm: the plain one, and the larger JSEP one.
    expect(wasm.file).toMatch(/^ort-wasm-simd-threaded-[\w-]+\.wasm$/);
    expect(jsep.file).toMatch(/^ort-wasm-simd-threaded\.jsep-[\w-]+\.wasm$/);
    expect(jsep.bytes).toBeGreaterThan(wasm.bytes * 1.5);
    expect(r.out).toMatch(/tiny-cnn\/ort:wasm@default\/b1\/t1\s+ok/);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/## Cold start[\s\S]*ort:wasm@default[\s\S]*jsep/);
    const pair = cli(
      'compare',
      join(dir, 'results.json'),
      '--a',
      'tiny-cnn/ort:wasm@default/b1/t1',
      '--b',
      'tiny-cnn/ort:wasm@wasm/b1/t1',
    );
    expect(pair.code, pair.err).toBe(0);
    expect(pair.out).toMatch(/95% CI/);
  });

  it('budgets: a breach is listed and exits 1; met budgets exit 0; a rule that names no cell is a warning', () => {
    const breach = cli(
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm',
      ...fixed,
      '--out',
      join(tmp, 'b1'),
      '--quiet',
      '--budget',
      'tiny-cnn ort:wasm median <= 1us',
      '--budget',
      'nothing-here p95 <= 1ms',
    );
    expect(breach.code).toBe(1);
    expect(breach.out).toMatch(/budgets: 1 BREACHED/);
    expect(breach.out).toMatch(
      /tiny-cnn ort:wasm median <= 0\.001ms\s+tiny-cnn\/ort:wasm@wasm\/b1\/t1\s+[\d.]+\s+0\.0010\s+BREACH/,
    );
    expect(breach.err).toMatch(/warning: budget 'nothing-here p95 <= 1ms' names no cell/);
    expect(readFileSync(join(tmp, 'b1', 'report.md'), 'utf8')).toMatch(/## Budgets: 1 breached/);
    const met = cli(
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm',
      ...fixed,
      '--out',
      join(tmp, 'b2'),
      '--quiet',
      '--budget',
      'tiny-cnn median <= 10s',
    );
    expect(met.code).toBe(0);
    expect(met.out).toMatch(/budgets: all met/);
  });

  it('baselines: slower than a faster baseline beyond the threshold exits 1; against a slower one it is an improvement', () => {
    const base = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const scaled = (k: number) => {
      const copy = structuredClone(base);
      for (const c of copy.cells)
        for (const s of c.samples)
          for (const key of ['preprocess', 'upload', 'inference', 'readback', 'postprocess', 'total'])
            if (s[key] !== null) s[key] *= k;
      return copy;
    };
    writeFileSync(join(tmp, 'fast.json'), JSON.stringify(scaled(0.05)));
    writeFileSync(join(tmp, 'slow.json'), JSON.stringify(scaled(20)));
    const reg = cli(
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm',
      ...fixed,
      '--out',
      join(tmp, 'r1'),
      '--quiet',
      '--baseline',
      join(tmp, 'fast.json'),
    );
    expect(reg.code).toBe(1);
    expect(reg.out).toMatch(/tiny-cnn\/ort:wasm@wasm\/b1\/t1\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+-[\d.]+\s+regression/);
    expect(reg.out).toMatch(/tiny-cnn\/tfjs:wasm\/b1\/t1\s+[\d.]+\s+–\s+\s+missing/);
    expect(reg.err).toMatch(/1 regression\(s\) against/);
    const imp = cli(
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'ort:wasm',
      ...fixed,
      '--out',
      join(tmp, 'r2'),
      '--quiet',
      '--baseline',
      join(tmp, 'slow.json'),
    );
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/improvement/);
  });

  it('exits 3 and says why when a cell fails, keeping the rest', () => {
    const dir = join(tmp, 'bad');
    const r = cli(
      'run',
      '--models',
      'tiny-cnn,nope',
      '--targets',
      'ort:wasm',
      '--samples',
      '2',
      '--warmup',
      '0',
      '--out',
      dir,
      '--quiet',
    );
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/nope\/ort:wasm@wasm\/b1\/t1 failed: plan: unknown model id 'nope'/);
    const result = parseRunResult(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    expect(result.cells.find((c) => c.cell.modelId === 'tiny-cnn')?.status).toBe('ok');
  });
});

describe("latency-lab run on a person's own model files", () => {
  const own = join(tmp, 'own');
  cpSync(join(distDir, 'models', 'tiny-cnn', 'model.onnx'), join(own, 'My Net.onnx'));
  cpSync(join(distDir, 'models', 'tiny-cnn', 'tfjs'), join(own, 'tfjs-net'), { recursive: true });

  it('an ONNX file and a TF.js folder run like zoo models', () => {
    const dir = join(tmp, 'own-out');
    const r = cli(
      'run',
      '--models',
      join(own, 'My Net.onnx'),
      '--targets',
      'ort:wasm',
      ...fixed,
      '--out',
      dir,
      '--quiet',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/my-net\/ort:wasm@wasm\/b1\/t1\s+ok/);
    const t = cli(
      'run',
      '--models',
      join(own, 'tfjs-net'),
      '--targets',
      'tfjs:wasm',
      '--batch',
      '1,3',
      ...fixed,
      '--out',
      join(tmp, 'own-out2'),
      '--quiet',
    );
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/tfjs-net\/tfjs:wasm\/b3\/t1\s+ok/);
  });

  it('a path that is missing or not a model, or a TF.js model missing a shard, fails before any browser starts (exit 2)', () => {
    const missing = cli('run', '--models', join(own, 'nope.onnx'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/model path '.*nope\.onnx' does not exist/);
    writeFileSync(join(own, 'notes.onnx'), 'these are my notes, not a model');
    const notModel = cli('run', '--models', join(own, 'notes.onnx'));
    expect(notModel.code).toBe(2);
    expect(notModel.err).toMatch(/notes\.onnx: not an ONNX/);
    cpSync(join(own, 'tfjs-net'), join(own, 'broken'), { recursive: true });
    rmSync(join(own, 'broken', 'weights.bin'));
    const shard = cli('run', '--models', join(own, 'broken'));
    expect(shard.code).toBe(2);
    expect(shard.err).toMatch(/weight shard\(s\) that are not there: weights\.bin/);
  });
});

describe('latency-lab config and usage errors', () => {
  it('takes a config file; flags override it', () => {
    const cfg = join(tmp, 'lab.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        $schema: './lab-config.schema.json',
        models: ['tiny-cnn'],
        targets: ['tfjs:wasm', 'ort:wasm'],
        sampling: { mode: 'fixed', samples: 7, warmup: 1 },
        budgets: ['tiny-cnn median <= 10s'],
      }),
    );
    const dir = join(tmp, 'cfg-out');
    const r = cli('run', '--config', cfg, '--targets', 'ort:wasm', '--out', dir, '--quiet');
    expect(r.code, r.err).toBe(0);
    const result = parseRunResult(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    expect(result.cells.map((c) => c.cell.id)).toEqual(['tiny-cnn/ort:wasm@wasm/b1/t1']);
    const cell = result.cells[0]!;
    expect(cell.status === 'ok' && cell.samples.length).toBe(7);
    expect(r.out).toMatch(/budgets: all met/);
  });

  it('an unknown config key or flag is named, with the valid ones (exit 2)', () => {
    const cfg = join(tmp, 'typo.json');
    writeFileSync(cfg, JSON.stringify({ models: ['tiny-cnn'], sampling: { sample: 3 } }));
    const a = cli('run', '--config', cfg);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/sampling: Unrecognized key: "sample"; valid keys here: mode, samples/);
    const b = cli('run', '--bogus');
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--bogus[\s\S]*valid options: --config --models/);
    const c = cli('run', '--targets', 'ort:gpu');
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/runtime 'ort' has no backend 'gpu'; valid: wasm/);
    expect(cli('run', '--batch', '0').err).toMatch(/batch sizes: 0/);
    expect(cli('run', '--out', join(tmp, 'x.json')).err).toMatch(/--out takes a folder/);
    expect(cli('run', '--budget', 'quick please').code).toBe(2);
  });

  it('refuses sampling settings that cannot be met, naming the valid range (exit 2)', () => {
    const a = cli('run', '--target-ci', '0');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/targetCI must be > 0 and <= 0\.5/);
    const b = cli('run', '--min-samples', '50', '--max-samples', '20');
    expect(b.err).toMatch(/maxSamples \(20\) is below minSamples \(50\)/);
    expect(cli('run', '--samples=-3').err).toMatch(/samples must be in 1\.\.100000/);
  });

  it('compare prints every cell against the fastest, and one pair in words', () => {
    const file = join(tmp, 'first', 'results.json');
    const all = cli('compare', file);
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/cell\s+median ms\s+ratio\s+95% CI\s+verdict/);
    expect(all.out).toMatch(/fastest/);
    const pair = cli(
      'compare',
      file,
      '--a',
      'tiny-cnn/tfjs:wasm/b1/t1',
      '--b',
      'tiny-cnn/ort:wasm@wasm/b1/t1',
      '--threshold',
      '5',
    );
    expect(pair.code).toBe(0);
    expect(pair.out).toMatch(
      /tiny-cnn\/tfjs:wasm\/b1\/t1 (is [\d.]+x (faster|slower) than|vs) tiny-cnn\/ort:wasm@wasm\/b1\/t1/,
    );
    const bad = cli('compare', file, '--a', 'nope', '--b', 'tiny-cnn/ort:wasm@wasm/b1/t1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no ok cell 'nope'.*ok cells: tiny-cnn/);
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
    expect(r.out).toMatch(/Exit codes: 0 ok, 1 budget breached or regression, 2 usage or config error, 3 run failure/);
  });
});

describe('latency-lab run on several browsers (remote devices)', () => {
  const servers: BrowserServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('two browser servers and a CDP endpoint give one merged report; an unreachable one is reported and does not sink them', async () => {
    for (let i = 0; i < 2; i++)
      servers.push(
        await chromium.launchServer({ executablePath: findChromium(), args: [...BASE_FLAGS, ...GPU_FLAGS] }),
      );
    // A Chromium with its DevTools port open, as a Selenium Grid 4 node or a cloud grid offers.
    const port = 9300 + Math.floor(Math.random() * 500);
    const cdpBrowser = await chromium.launch({
      executablePath: findChromium(),
      args: [...BASE_FLAGS, ...GPU_FLAGS, `--remote-debugging-port=${port}`],
    });
    try {
      const dir = join(tmp, 'devices');
      const r = await cliAsync(
        'run',
        '--models',
        'tiny-cnn',
        '--targets',
        'ort:wasm',
        '--samples',
        '8',
        '--warmup',
        '1',
        '--out',
        dir,
        '--quiet',
        '--connect',
        `alpha=${servers[0]!.wsEndpoint()}`,
        '--connect',
        `beta=${servers[1]!.wsEndpoint()}`,
        '--connect',
        'gone=ws://127.0.0.1:9/none',
        '--cdp',
        `gamma=http://127.0.0.1:${port}`,
      );
      expect(r.err).toMatch(/device gone: cannot reach the browser at ws:\/\/127\.0\.0\.1:9\/none/);
      expect(r.code).toBe(3);
      const runs = parseResultFile(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
      expect(runs.map((x) => x.device)).toEqual(['alpha', 'beta', 'gamma']);
      checkMerged(runs, dir);
    } finally {
      await cdpBrowser.close();
    }
  }, 180_000);

  function checkMerged(runs: ReturnType<typeof parseResultFile>, dir: string) {
    for (const x of runs) expect(x.cells[0]!.status).toBe('ok');
    const csv = readFileSync(join(dir, 'summary.csv'), 'utf8');
    expect(csv).toMatch(/^alpha,tiny-cnn\/ort:wasm@wasm\/b1\/t1,/m);
    expect(csv).toMatch(/^beta,tiny-cnn\/ort:wasm@wasm\/b1\/t1,/m);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/\| device \| cell \|[\s\S]*\| alpha \| tiny-cnn/);
  }
});

describe('latency-lab run --measure-memory', () => {
  // ~30 s: Chromium answers measureUserAgentSpecificMemory at its next garbage collection.
  it.runIf(NIGHTLY)('(nightly) stores the page memory with the model loaded', () => {
    const dir = join(tmp, 'mem');
    const r = cli(
      'run',
      '--models',
      'tiny-cnn',
      '--targets',
      'tfjs:wasm',
      '--samples',
      '2',
      '--warmup',
      '0',
      '--measure-memory',
      '--out',
      dir,
      '--quiet',
    );
    expect(r.code).toBe(0);
    const cell = parseRunResult(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))).cells[0]!;
    expect(cell.status).toBe('ok');
    if (cell.status !== 'ok') return;
    expect(cell.memory.userAgentNote).toBeNull();
    expect(cell.memory.userAgentBytes).toBeGreaterThan(1_000_000);
    expect(cell.memory.wasmHeapBytes).toBeGreaterThan(0);
  });
});
