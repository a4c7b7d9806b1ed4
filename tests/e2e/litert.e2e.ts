/**
 * LiteRT.js end to end, on tiny-cnn's .tflite file (from the zoo build): litert:wasm at 1 and 2 threads and
 * litert:webgpu (SwiftShader) run through the lab's pipeline with the proof read from LiteRT, stage times, the wasm
 * served by the lab, and parity against ort:wasm on the same input bytes. Then the format rules: a .tflite-only model
 * is unsupported on ort and tfjs, an ONNX-only one on litert, each with the reason. Short budget: fixed samples.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInBrowser, type DriverResult } from '../../src/cli/driver.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import type { CellResult, OkCellResult } from '../../src/lib/schema.ts';
import { distDir, distWithExtraModels, readDistManifest, requireDist } from './harness.ts';

const SAMPLING = { mode: 'fixed', samples: 3, warmup: 1, cellTimeoutMs: 180_000, gpuBusyPasses: 0 } as const;
const find = (cells: CellResult[], id: string) => cells.find((c) => c.cell.id === id);
const okCell = (cells: CellResult[], id: string): OkCellResult => {
  const c = find(cells, id);
  expect(c?.status, `${id}: ${JSON.stringify(c).slice(0, 400)}`).toBe('ok');
  return c as OkCellResult;
};

/** tiny-cnn with only one of its formats, as a model of its own. */
function onlyFormat(
  tiny: ModelInfo,
  id: string,
  format: 'tflite' | 'onnx',
): { info: ModelInfo; files: Record<string, Uint8Array> } {
  const entry = tiny.formats.find((f) => f.format === format)!;
  const path = `${id}/model.${format}`;
  return {
    info: { ...tiny, id, formats: [{ format, entry: { ...entry.entry, path }, weights: [] }] },
    files: { [path]: readFileSync(join(distDir, 'models', entry.entry.path)) },
  };
}

describe('LiteRT.js on tiny-cnn', () => {
  let run: DriverResult;
  beforeAll(async () => {
    requireDist();
    const tiny = readDistManifest().models.find((m) => m.id === 'tiny-cnn')!;
    if (!tiny.formats.some((f) => f.format === 'tflite'))
      throw new Error("the zoo build has no tiny-cnn .tflite file (format 'tflite' in models/manifest.json)");
    run = await runInBrowser({
      distDir,
      softwareGpu: true,
      request: {
        models: ['tiny-cnn'],
        targets: ['ort:wasm', 'litert:wasm', 'litert:webgpu'],
        batches: [1],
        threads: [1, 2],
        sampling: SAMPLING,
      },
    });
  }, 600_000);

  it('runs litert:wasm at 1 and 2 threads, with the build and threads LiteRT reports', () => {
    const one = okCell(run.result.cells, 'tiny-cnn/litert:wasm/b1/t1');
    expect(one.proof).toMatchObject({ runtime: 'litert', backendInUse: 'wasm', threads: 1, simd: true });
    expect(one.proof.details).toMatchObject({ build: 'plain', compiledFor: 'wasm', outputsOn: 'wasm' });
    expect(String(one.proof.details.wasmFile)).toMatch(/^litert_wasm_internal-[\w-]{8}\.wasm$/);
    const two = okCell(run.result.cells, 'tiny-cnn/litert:wasm/b1/t2');
    expect(two.proof).toMatchObject({ backendInUse: 'wasm', threads: 2 });
    expect(two.proof.details.build).toBe('threaded');
    expect(two.coldStart.runtimeWasm?.file).toMatch(/^litert_wasm_threaded_internal-/);
  });

  it('runs litert:webgpu on the GPU, fully accelerated, with outputs on the GPU', () => {
    const gpu = okCell(run.result.cells, 'tiny-cnn/litert:webgpu/b1/t1');
    expect(gpu.proof.backendInUse).toBe('webgpu');
    // Inputs were moved to the GPU in the upload stage, outputs came back on it.
    expect(gpu.proof.details).toMatchObject({
      compiledFor: 'webgpu',
      fullyAccelerated: true,
      inputsOn: 'webgpu',
      outputsOn: 'webgpu',
    });
    expect(gpu.proof.details.webgpuArchitecture).toBe('swiftshader');
    expect(gpu.validity.softwareGpu).toBe(true);
  });

  it('times upload, inference and readback apart, and agrees with ort:wasm on the same input bytes', () => {
    const ref = okCell(run.result.cells, 'tiny-cnn/ort:wasm@wasm/b1/t1');
    for (const id of ['tiny-cnn/litert:wasm/b1/t1', 'tiny-cnn/litert:wasm/b1/t2', 'tiny-cnn/litert:webgpu/b1/t1']) {
      const c = okCell(run.result.cells, id);
      for (const stage of ['upload', 'inference', 'readback'] as const)
        expect(c.summary[stage], `${id} ${stage}`).not.toBeNull();
      expect(c.stageNotes.filter((n) => n.includedIn)).toEqual([]);
      expect(c.inputDigest).toBe(ref.inputDigest);
      expect(c.parity?.referenceCellId, id).toMatch(/^tiny-cnn\/ort:wasm/);
      expect(c.parity?.withinTolerance, `${id} ${c.parity?.maxAbsDiff}`).toBe(true);
    }
  });

  it('fetches nothing from another origin', () => {
    expect(run.offOrigin).toEqual([]);
  });
});

describe('formats decide which runtime may load a model', () => {
  let run: DriverResult;
  beforeAll(async () => {
    requireDist();
    const tiny = readDistManifest().models.find((m) => m.id === 'tiny-cnn')!;
    const dir = distWithExtraModels([onlyFormat(tiny, 'tflite-only', 'tflite'), onlyFormat(tiny, 'onnx-only', 'onnx')]);
    run = await runInBrowser({
      distDir: dir,
      request: {
        models: ['tflite-only', 'onnx-only'],
        targets: ['ort:wasm', 'tfjs:wasm', 'litert:wasm'],
        batches: [1],
        threads: [1],
        sampling: SAMPLING,
      },
    });
  }, 300_000);

  it('a .tflite-only model runs on litert only; an ONNX-only one is unsupported there, each with the reason', () => {
    okCell(run.result.cells, 'tflite-only/litert:wasm/b1/t1');
    okCell(run.result.cells, 'onnx-only/ort:wasm@wasm/b1/t1');
    for (const id of [
      'tflite-only/ort:wasm@wasm/b1/t1',
      'tflite-only/tfjs:wasm/b1/t1',
      'onnx-only/litert:wasm/b1/t1',
    ]) {
      const c = find(run.result.cells, id)!;
      expect(c.status, id).toBe('unsupported');
      expect(c.status === 'unsupported' && c.reason, id).toMatch(/has no format that (ort|tfjs|litert) loads/);
    }
  });
});
