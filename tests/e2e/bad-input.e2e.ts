/**
 * Bad input never sinks a run: each broken cell ends as failed or unsupported with a message that names the
 * cause, and the good cells of the same run still finish.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInBrowser, type DriverResult } from '../../src/cli/driver.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import type { CellResult } from '../../src/lib/schema.ts';
import { distDir, distWithExtraModels, readDistManifest, requireDist, sha256 } from './harness.ts';

function byId(cells: CellResult[], id: string): CellResult {
  const c = cells.find((x) => x.cell.id === id);
  if (!c) throw new Error(`no cell ${id} in ${cells.map((x) => x.cell.id).join(', ')}`);
  return c;
}

describe('bad input', () => {
  let dir: string;
  let run: DriverResult;

  beforeAll(async () => {
    requireDist();
    const tiny = readDistManifest().models.find((m) => m.id === 'tiny-cnn')!;
    const onnxBytes = new Uint8Array(readFileSync(join(distDir, 'models', 'tiny-cnn', 'model.onnx')));
    const garbage = new Uint8Array(4096).map((_, i) => (i * 131 + 7) % 251);
    const json = new TextEncoder().encode('{ this is not json');
    const onnxEntry = (path: string, bytes: Uint8Array, claimed = bytes) => ({
      format: 'onnx' as const,
      entry: { path, bytes: claimed.byteLength, sha256: sha256(claimed) },
      weights: [],
    });
    const variant = (id: string, over: Partial<ModelInfo>): ModelInfo => ({ ...tiny, id, title: id, ...over });
    dir = distWithExtraModels([
      // exported with a fixed batch of 1
      {
        info: variant('tiny-fixed', {
          batchDim: null,
          inputs: [{ ...tiny.inputs[0]!, shape: [1, 32, 32, 3] }],
          formats: [onnxEntry('tiny-fixed/model.onnx', onnxBytes)],
        }),
        files: { 'tiny-fixed/model.onnx': onnxBytes },
      },
      // the file on the server is cut in half; the manifest describes the whole file
      {
        info: variant('tiny-truncated', {
          formats: [onnxEntry('tiny-truncated/model.onnx', onnxBytes.slice(0, 3000), onnxBytes)],
        }),
        files: { 'tiny-truncated/model.onnx': onnxBytes.slice(0, 3000) },
      },
      // intact bytes that are not a model at all
      {
        info: variant('garbage-onnx', { formats: [onnxEntry('garbage/model.onnx', garbage)] }),
        files: { 'garbage/model.onnx': garbage },
      },
      {
        info: variant('broken-json', {
          formats: [
            {
              format: 'tfjs-layers',
              entry: { path: 'broken/model.json', bytes: json.byteLength, sha256: sha256(json) },
              weights: [],
            },
          ],
        }),
        files: { 'broken/model.json': json },
      },
    ]);
    run = await runInBrowser({
      distDir: dir,
      request: {
        models: ['tiny-fixed', 'tiny-truncated', 'garbage-onnx', 'broken-json', 'nope', 'tiny-cnn'],
        targets: ['ort:wasm', 'tfjs:cpu', 'ort:webnn'],
        batches: [1, 4],
        sampling: { mode: 'fixed', samples: 3, warmup: 0, cellTimeoutMs: 120_000 },
        inputOverrides: { 'tiny-cnn': { input: { values: { kind: 'constant', value: 1e39 } } } },
        skipMissingFormats: true,
      },
    });
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the good cells of the same run', () => {
    expect(byId(run.result.cells, 'tiny-fixed/ort:wasm@wasm/b1/t1').status).toBe('ok');
  });

  it('a batch the model cannot take is unsupported, with the reason', () => {
    const c = byId(run.result.cells, 'tiny-fixed/ort:wasm@wasm/b4/t1');
    expect(c.status).toBe('unsupported');
    expect(c.status === 'unsupported' && c.reason).toMatch(/no batch dim.*only batch 1 can run, not 4/);
  });

  it('a truncated file fails at fetch, naming the file', () => {
    const c = byId(run.result.cells, 'tiny-truncated/ort:wasm@wasm/b1/t1');
    expect(c.status === 'failed' && [c.phase, c.error]).toEqual([
      'fetch',
      expect.stringMatching(/tiny-truncated\/model\.onnx is 3000 bytes.*truncated or corrupt/),
    ]);
  });

  it('a file that is not a model fails at session creation with the runtime message', () => {
    const c = byId(run.result.cells, 'garbage-onnx/ort:wasm@wasm/b1/t1');
    expect(c.status).toBe('failed');
    expect(c.status === 'failed' && c.phase).toBe('session');
    expect(c.status === 'failed' && c.error.length).toBeGreaterThan(10);
    const j = byId(run.result.cells, 'broken-json/tfjs:cpu/b1/t1');
    expect(j.status === 'failed' && j.error).toMatch(/model\.json is not valid JSON/);
  });

  it('an unknown model id fails with the ids the zoo has', () => {
    const c = byId(run.result.cells, 'nope/ort:wasm@wasm/b1/t1');
    expect(c.status === 'failed' && c.error).toMatch(/unknown model id 'nope'; the zoo has: tiny-cnn, mobilenet-v2/);
  });

  it('an input override that does not fit the dtype fails naming the input', () => {
    const c = byId(run.result.cells, 'tiny-cnn/ort:wasm@wasm/b1/t1');
    expect(c.status === 'failed' && [c.phase, c.error]).toEqual([
      'inputs',
      expect.stringMatching(/input 'input' is float32: constant 1e\+39 is outside/),
    ]);
  });

  it('a backend the lab cannot use here is unsupported, not an error', () => {
    const c = byId(run.result.cells, 'tiny-fixed/ort:webnn@default/b1/t1');
    expect(c.status).toBe('unsupported');
  });

  it('a cell that runs past its timeout is ended and keeps its samples', async () => {
    const slow = await runInBrowser({
      distDir,
      request: {
        models: ['tiny-cnn'],
        targets: ['tfjs:cpu'],
        batches: [1],
        sampling: { mode: 'fixed', samples: 20_000, warmup: 0, cellTimeoutMs: 4_000 },
      },
    });
    const c = slow.result.cells[0]!;
    expect(c.status).toBe('failed');
    expect(c.status === 'failed' && c.error).toMatch(/timed out after 4 s/);
    expect(c.status === 'failed' && c.samples.length).toBeGreaterThan(0);
  }, 120_000);
});
