/**
 * A corpus of bad model files (issue 14): each one through the CLI's path loading and, for those caught on
 * loading, through the page's file input. Every file gets a message that names it and says what is wrong; files
 * that load but can't run end as cells with a reason while the rest of the run goes on; nothing hangs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxGraph } from '../../scripts/zoo/onnx-graph.ts';
import { parseRunResult } from '../../src/lib/schema.ts';
import { distDir, labCli, labForSuite, NIGHTLY, projectRoot, requireDist } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'lab-corpus-'));
const tinyOnnx = () => readFileSync(join(distDir, 'models', 'tiny-cnn', 'model.onnx'));
const relu = (shape: (number | string)[], opset = 13, op = 'Relu') => {
  const g = new OnnxGraph();
  g.addInput('x', shape, 1);
  g.node(op, ['x'], ['y']);
  g.addOutput('y', shape);
  return g.encode('bad', 'corpus', opset);
};

/** Files refused while loading: name on disk, bytes, and what the message must say (besides the name). */
const REFUSED_ON_LOAD: { name: string; bytes: () => Uint8Array | string; says: RegExp }[] = [
  { name: 'empty.onnx', bytes: () => new Uint8Array(0), says: /is empty \(0 bytes\)/ },
  {
    name: 'login-page.onnx',
    bytes: () => '<!DOCTYPE html><html><body>Please sign in</body></html>',
    says: /HTML page, not a model/,
  },
  { name: 'notes.onnx', bytes: () => 'these are my notes, not a model', says: /not an ONNX file/ },
  { name: 'random.onnx', bytes: () => new Uint8Array(4096).map((_, i) => (i * 7919) % 251), says: /not an ONNX file/ },
  {
    name: 'truncated.onnx',
    bytes: () => tinyOnnx().subarray(0, Math.floor(tinyOnnx().length * 0.6)),
    says: /truncated/,
  },
  {
    name: 'photo.onnx',
    bytes: () => readFileSync(join(distDir, 'models', 'images', 'chelsea.png')),
    says: /not an ONNX file/,
  },
  { name: 'config.onnx', bytes: () => '{"format": "layers-model"}', says: /is JSON, not an ONNX model/ },
];

describe('bad model files through the CLI', () => {
  it('refuses each unloadable file before a browser starts, naming the file and the cause (exit 2)', () => {
    requireDist();
    for (const f of REFUSED_ON_LOAD) {
      const path = join(dir, f.name);
      writeFileSync(path, f.bytes());
      const r = spawnSync(
        process.execPath,
        [join(projectRoot, 'bin', 'latency-lab.js'), 'run', '--models', path, '--targets', 'ort:wasm'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status, `${f.name}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(f.name);
      expect(r.stderr, f.name).toMatch(f.says);
    }
  });

  it('refuses a TF.js model.json that is not a model, or whose shard is missing or short', () => {
    const notModel = join(dir, 'not-a-model');
    mkdirSync(notModel);
    writeFileSync(join(notModel, 'model.json'), '{"hello": "world"}');
    const json = JSON.parse(readFileSync(join(distDir, 'models', 'tiny-cnn', 'tfjs', 'model.json'), 'utf8'));
    const short = join(dir, 'short-shard');
    mkdirSync(short);
    writeFileSync(join(short, 'model.json'), JSON.stringify(json));
    writeFileSync(
      join(short, json.weightsManifest[0].paths[0]),
      readFileSync(join(distDir, 'models', 'tiny-cnn', 'tfjs', json.weightsManifest[0].paths[0])).subarray(0, 100),
    );
    const missing = join(dir, 'missing-shard');
    mkdirSync(missing);
    writeFileSync(join(missing, 'model.json'), JSON.stringify(json));
    // A shard with bytes beyond what model.json's weights need (padded, or from a bigger model).
    const padded = join(dir, 'padded-shard');
    mkdirSync(padded);
    writeFileSync(join(padded, 'model.json'), JSON.stringify(json));
    const shard = readFileSync(join(distDir, 'models', 'tiny-cnn', 'tfjs', json.weightsManifest[0].paths[0]));
    writeFileSync(join(padded, json.weightsManifest[0].paths[0]), Buffer.concat([shard, Buffer.alloc(64)]));
    for (const [folder, says] of [
      [notModel, /model\.json/],
      [short, /bytes|size|short/i],
      [missing, /not there/],
      [padded, /bytes|size|padded/i],
    ] as const) {
      const r = spawnSync(
        process.execPath,
        [join(projectRoot, 'bin', 'latency-lab.js'), 'run', '--models', folder, '--targets', 'tfjs:cpu'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status, `${folder}: ${r.stderr}`).toBe(2);
      expect(r.stderr, folder).toMatch(says);
    }
  });

  it('runs the loadable but broken ones as cells with reasons, and the good one beside them still runs', () => {
    const files: Record<string, Uint8Array> = {
      'unknown-op.onnx': relu([1, 4], 13, 'NoSuchOperator'),
      'future-opset.onnx': relu([1, 4], 999),
      'absurd-shape.onnx': relu([1_000_000, 1_000_000, 1_000_000]),
      'free-dim.onnx': relu(['batch', 'len']),
      'nan-constant.onnx': (() => {
        const g = new OnnxGraph();
        g.addInput('x', [1, 4], 1);
        g.node('Add', ['x', g.floatInit('c', [4], new Float32Array([1, NaN, Infinity, 2]))], ['y']);
        g.addOutput('y', [1, 4]);
        return g.encode('nan', 'corpus');
      })(),
    };
    const paths = Object.entries(files).map(([name, bytes]) => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    });
    copyFileSync(join(distDir, 'models', 'tiny-cnn', 'model.onnx'), join(dir, 'good.onnx'));
    // free-dim.onnx has a symbolic dim with no value: refused up front, naming it, until it gets one.
    const refused = spawnSync(
      process.execPath,
      [join(projectRoot, 'bin', 'latency-lab.js'), 'run', '--models', paths.join(','), '--targets', 'ort:wasm'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /model 'free-dim' has symbolic dim with no value: len; give each a value: --dim len=N/,
    );
    // An absurd value for it (1e9) is refused up front too, naming the range.
    const absurd = spawnSync(
      process.execPath,
      [
        join(projectRoot, 'bin', 'latency-lab.js'),
        'run',
        '--models',
        join(dir, 'free-dim.onnx'),
        '--dim',
        'len=1000000000',
        '--targets',
        'ort:wasm',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(absurd.status).toBe(2);
    expect(absurd.stderr).toMatch(/dim len: 1000000000 is not a whole number in 1\.\.1000000/);
    const out = join(dir, 'out');
    const r = spawnSync(
      process.execPath,
      [
        join(projectRoot, 'bin', 'latency-lab.js'),
        'run',
        '--models',
        [...paths, join(dir, 'good.onnx')].join(','),
        '--dim',
        'len=8',
        '--targets',
        'ort:wasm',
        '--samples',
        '5',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(r.status, r.stderr).toBe(3); // some cells could not run: said, and the report is written
    const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
    const byModel = Object.fromEntries(result.cells.map((c) => [c.cell.modelId, c]));
    expect(byModel.good!.status).toBe('ok');
    expect(byModel['free-dim']!.status).toBe('ok');
    const reason = (id: string) => {
      const c = byModel[id]!;
      return c.status === 'failed' ? `${c.phase}: ${c.error}` : c.status === 'unsupported' ? c.reason : c.status;
    };
    expect(byModel['unknown-op']!.status).not.toBe('ok');
    expect(reason('unknown-op')).toMatch(/NoSuchOperator/);
    expect(byModel['future-opset']!.status).not.toBe('ok');
    expect(reason('future-opset')).toMatch(/opset|999/i);
    // NaN and Inf in the outputs: the cell runs and the result file stays valid (its digest says what came out).
    const nan = byModel['nan-constant']!;
    expect(nan.status).toBe('ok');
    if (nan.status === 'ok') {
      expect(nan.outputs[0]).toMatchObject({
        nonFinite: 2,
        min: expect.any(Number),
        head: [expect.any(Number), null, null, expect.any(Number)],
      });
      expect(nan.warnings.join(' ')).toMatch(/output 'y' holds 2 NaN or infinite values \(of 4\)/);
    }
    // 10^18 values declared: refused by name before anything is allocated, and the run goes on.
    expect(byModel['absurd-shape']!.status).toBe('failed');
    expect(reason('absurd-shape')).toMatch(
      /^inputs: input 'x' \[1000000, 1000000, 1000000\] float32 would take .* TiB: more than the 4 GiB/,
    );
  }, 300_000);

  // 4 GB of float32: the page allocates it, the runtime can't take it (wasm memory): a failed cell with its words,
  // and the good model beside it still runs. ~50 s of allocating and copying 4 GB: nightly.
  it.runIf(NIGHTLY)(
    '(nightly) a 4 GB input fails in the runtime, named, and the run goes on',
    () => {
      writeFileSync(join(dir, 'huge-input.onnx'), relu([1, 1_000_000_000]));
      copyFileSync(join(distDir, 'models', 'tiny-cnn', 'model.onnx'), join(dir, 'good.onnx'));
      const out = join(dir, 'out-huge');
      const models = [join(dir, 'huge-input.onnx'), join(dir, 'good.onnx')].join(',');
      const r = labCli(['run', '--models', models, '--targets', 'ort:wasm', '--samples', '5', '--out', out], {
        timeoutMs: 240_000,
      });
      expect(r.code, r.err).toBe(3);
      const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
      const byModel = Object.fromEntries(result.cells.map((c) => [c.cell.modelId, c]));
      expect(byModel.good!.status).toBe('ok');
      const huge = byModel['huge-input']!;
      expect(huge.status).toBe('failed');
      if (huge.status === 'failed') expect(`${huge.phase}: ${huge.error}`).toMatch(/^(inputs|warmup|session): .{10,}/);
    },
    300_000,
  );
});

describe('bad model files through the page', () => {
  const lab = labForSuite();
  it('names each unloadable file and what is wrong with it, and the page stays usable', async () => {
    const { page } = lab();
    for (const f of REFUSED_ON_LOAD) {
      const bytes = f.bytes();
      await page.getByTestId('own-model-input').setInputFiles({
        name: f.name,
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(typeof bytes === 'string' ? bytes : bytes),
      });
      const error = page.getByTestId('own-error');
      await error.waitFor();
      const text = (await error.textContent()) ?? '';
      expect(text, f.name).toContain(f.name);
      expect(text, f.name).toMatch(f.says);
    }
    // Still usable: a zoo model can be picked and the Run button is there.
    await page.getByTestId('model').selectOption('tiny-cnn');
    expect(await page.getByTestId('run').isEnabled()).toBe(true);
  }, 120_000);
});
