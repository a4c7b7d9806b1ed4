/**
 * Every backend, honestly timed: the small zoo models on all ORT backends (wasm with 1 and 2 threads, webgl,
 * webgpu) and all tfjs backends (cpu, wasm, webgl, webgpu), on SwiftShader here. MobileNetV2 on the software GPU
 * backends takes minutes, so it lives in the nightly suite (npm run test:nightly).
 */
import { validityFlags } from '../../src/lib/measure/validity.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInBrowser, type DriverResult } from '../../src/cli/driver.ts';
import type { CellResult, OkCellResult } from '../../src/lib/schema.ts';
import { distDir, requireDist } from './harness.ts';

const TARGETS = [
  'ort:wasm',
  'ort:webgl',
  'ort:webgpu',
  'ort:webgpu@default',
  'ort:webnn',
  'tfjs:cpu',
  'tfjs:wasm',
  'tfjs:webgl',
  'tfjs:webgpu',
];
const ok = (cells: CellResult[]) => cells.filter((c): c is OkCellResult => c.status === 'ok');
const find = (cells: CellResult[], id: string) => cells.find((c) => c.cell.id === id);

describe('every backend on tiny-cnn and ocr-cls', () => {
  let run: DriverResult;
  beforeAll(async () => {
    requireDist();
    run = await runInBrowser({
      distDir,
      softwareGpu: true,
      request: {
        models: ['tiny-cnn', 'ocr-cls'],
        targets: TARGETS,
        batches: [1],
        threads: [1, 2],
        sampling: { mode: 'fixed', samples: 3, warmup: 1, cellTimeoutMs: 240_000, gpuBusyPasses: 1 },
        skipMissingFormats: true,
      },
    });
  }, 900_000);

  it('ends every cell ok or unsupported with a reason', () => {
    const bad = run.result.cells
      .filter((c) => c.status !== 'ok' && c.status !== 'unsupported')
      .map((c) => JSON.stringify(c).slice(0, 300));
    expect(bad).toEqual([]);
    for (const c of run.result.cells) if (c.status === 'unsupported') expect(c.reason.length).toBeGreaterThan(10);
    // what must run here
    for (const id of [
      'tiny-cnn/ort:wasm@wasm/b1/t2',
      'tiny-cnn/ort:webgl@webgl/b1/t1',
      'tiny-cnn/ort:webgpu@webgpu/b1/t1',
      'tiny-cnn/tfjs:webgl/b1/t1',
      'tiny-cnn/tfjs:webgpu/b1/t1',
      'ocr-cls/ort:webgpu@webgpu/b1/t1',
    ]) {
      expect(find(run.result.cells, id)?.status, id).toBe('ok');
    }
  });

  it('records what the browser lacks as unsupported, without starting a worker', () => {
    const webnn = find(run.result.cells, 'tiny-cnn/ort:webnn@default/b1/t1')!;
    expect(webnn.status === 'unsupported' && webnn.reason).toMatch(/WebNN/);
    expect(webnn.durationMs).toBe(0);
    const cap = run.result.environment.capabilities.find((c) => c.target === 'ort:webnn')!;
    expect(cap.available).toBe(false);
  });

  it('a backend that lacks an operator says so in the runtime words, and the run goes on', () => {
    const c = find(run.result.cells, 'ocr-cls/ort:webgl@webgl/b1/t1')!;
    expect(c.status === 'unsupported' && c.reason).toMatch(/cannot resolve operator 'HardSigmoid'/);
  });

  it('proves what ran: threads in effect, the WebGPU adapter, the WebGL renderer', () => {
    const cells = ok(run.result.cells);
    expect(find(cells, 'tiny-cnn/ort:wasm@wasm/b1/t2')).toMatchObject({ proof: { threads: 2, backendInUse: 'wasm' } });
    for (const c of cells) expect(c.proof.backendInUse).toBe(c.cell.backend);
    const webgpu = find(cells, 'tiny-cnn/ort:webgpu@webgpu/b1/t1') as OkCellResult;
    expect(webgpu.proof.details.isFallbackAdapter).toBe(true);
    expect(webgpu.proof.details.outputLocation).toBe('gpu-buffer');
    expect(String((find(cells, 'tiny-cnn/tfjs:webgl/b1/t1') as OkCellResult).proof.details.webglRenderer)).toMatch(
      /SwiftShader/i,
    );
  });

  it('says the GPU is software, in the environment and on every GPU cell', () => {
    const env = run.result.environment;
    expect(env.gpu?.software).toBe(true);
    expect(env.gpu?.webgpu?.isFallbackAdapter).toBe(true);
    expect(env.browserFlags).toEqual(expect.arrayContaining(['--enable-unsafe-webgpu', '--use-angle=swiftshader']));
    for (const c of ok(run.result.cells)) {
      const gpu = c.cell.backend === 'webgl' || c.cell.backend === 'webgpu';
      expect(c.validity.softwareGpu, c.cell.id).toBe(gpu);
      if (gpu) expect(validityFlags(c.validity).join(' ')).toMatch(/software GPU: correctness, not GPU speed/);
    }
  });

  it('times GPU stages apart where the backend allows, and names the folded ones', () => {
    for (const c of ok(run.result.cells)) {
      const gpuResident =
        (c.cell.runtime === 'ort' && c.cell.backend === 'webgpu') ||
        (c.cell.runtime === 'tfjs' && (c.cell.backend === 'webgl' || c.cell.backend === 'webgpu'));
      if (gpuResident) {
        expect(c.summary.upload, c.cell.id).not.toBeNull();
        expect(c.summary.readback, c.cell.id).not.toBeNull();
        expect(c.stageNotes.filter((n) => n.includedIn)).toEqual([]);
      }
      if (c.cell.runtime === 'ort' && (c.cell.backend === 'webgl' || c.cell.backend === 'wasm')) {
        expect(c.summary.readback).toBeNull();
        expect(c.stageNotes.find((n) => n.stage === 'readback')?.includedIn).toBe('inference');
      }
      for (const s of c.samples) expect(s.inference).toBeGreaterThan(0);
    }
  });

  it('stores GPU busy time beside wall time where the platform has timers', () => {
    // The JSEP build's WebGPU has per-kernel timestamps; the native WebGPU EP (/webgpu) says it has none.
    const native = find(run.result.cells, 'tiny-cnn/ort:webgpu@webgpu/b1/t1') as OkCellResult;
    expect(native.gpuBusy).toBeNull();
    expect(native.warnings.join(' ')).toMatch(/native WebGPU EP .* reports no per-kernel timestamps/);
    for (const id of ['tiny-cnn/ort:webgpu@default/b1/t1', 'tiny-cnn/tfjs:webgl/b1/t1', 'tiny-cnn/tfjs:webgpu/b1/t1']) {
      const c = find(run.result.cells, id) as OkCellResult;
      expect(c.gpuBusy, id).not.toBeNull();
      expect(c.gpuBusy!.medianMs).toBeGreaterThan(0);
      expect(c.gpuBusy!.wallMedianMs).toBeGreaterThan(0);
    }
    const webgl = find(run.result.cells, 'tiny-cnn/ort:webgl@webgl/b1/t1') as OkCellResult;
    expect(webgl.gpuBusy).toBeNull();
    expect(webgl.warnings.join(' ')).toMatch(/no GPU busy time: ORT webgl/);
  });

  it('agrees with the CPU reference on every backend, and leaks no tensors', () => {
    for (const c of ok(run.result.cells)) {
      if (!c.parity) continue;
      expect(c.parity.withinTolerance, `${c.cell.id} ${c.parity.maxAbsDiff}`).toBe(true);
    }
    expect(ok(run.result.cells).filter((c) => c.parity).length).toBeGreaterThanOrEqual(8);
    for (const c of ok(run.result.cells).filter((x) => x.cell.runtime === 'tfjs')) {
      expect(c.memory.leak, c.cell.id).toBe(false);
      expect(c.memory.tfjsTensorsAfter).toBe(c.memory.tfjsTensorsBefore);
    }
    expect(run.offOrigin).toEqual([]);
  });
});

describe('tfjs-wasm threads in the production bundle', () => {
  // The threaded build's pthread workers run the Emscripten factory's source text; minified, it hung forever.
  // scripts/vite-plugin-tfjs-threads.ts keeps that text whole. A 60 s cell timeout turns a hang into a failure.
  it('runs 2 threads with the recorded core override (tfjs caps at half the cores), and says so without it', async () => {
    requireDist();
    const sampling = { mode: 'fixed' as const, samples: 5, warmup: 2, cellTimeoutMs: 60_000 };
    const withOverride = await runInBrowser({
      distDir,
      request: { models: ['tiny-cnn'], targets: ['tfjs:wasm'], batches: [1], threads: [2], tfjsCores: 4, sampling },
    });
    const c = withOverride.result.cells[0]!;
    expect(c.status, JSON.stringify(c).slice(0, 400)).toBe('ok');
    const cell = c as OkCellResult;
    expect(cell.proof.threads).toBe(2);
    expect(cell.proof.details).toMatchObject({ wasmBuild: 'threaded-simd', coresOverride: 4 });
    // Read from the file tfjs fetched, not derived from the thread count asked.
    expect(cell.proof.details.wasmFile).toMatch(/^tfjs-backend-wasm-threaded-simd-[\w-]{8}\.wasm$/);
    expect(cell.proof.simd).toBe(true);
    expect(cell.cell.coresOverride).toBe(4);
    expect(cell.coldStart.runtimeWasm?.file).toMatch(/^tfjs-backend-wasm-threaded-simd-/);
    expect(cell.parity).toBeNull(); // the only cell: it is its own reference
    expect(withOverride.offOrigin).toEqual([]);
    // This machine has 2 cores: without the override tfjs runs 1 thread, and the cell says why instead of timing it.
    const plain = await runInBrowser({
      distDir,
      request: { models: ['tiny-cnn'], targets: ['tfjs:wasm'], batches: [1], threads: [2], sampling },
    });
    const u = plain.result.cells[0]!;
    if (u.status === 'unsupported')
      expect(u.reason).toMatch(/asked tfjs-wasm for 2 threads, it runs 1: tfjs caps threads at half of the 2 cores/);
    else expect(u.status === 'ok' && u.proof.threads).toBe(2); // a machine with 4+ cores runs 2 without help
  }, 180_000);
});
