/** Issue 29's pure parts: the model's own work beside the total, the runtime-failure input hint, PNG title lines. */
import { describe, expect, it } from 'vitest';
import { compareModelWork, modelWorkMs, modelWorkVsFastest } from '../../src/lib/measure/model-work.ts';
import { describeRandomSettings, randomSettingHint, randomSettingInputs } from '../../src/lib/models/input-hints.ts';
import { wrapText } from '../../src/app/charts/png.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import type { OkCellResult, Sample } from '../../src/lib/schema.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';

/** A cell whose passes are 7.2 ms of decoding plus `inference` ms (±2% noise), one invocation. */
function decodeHeavy(id: string, inference: number, seed: number): OkCellResult {
  const rng = mulberry32(seed);
  const samples: Sample[] = Array.from({ length: 60 }, () => {
    const pre = 7.2 * (1 + 0.2 * (rng() - 0.5));
    const inf = inference * (1 + 0.02 * (rng() - 0.5));
    return {
      preprocess: pre,
      upload: null,
      inference: inf,
      readback: 0.01,
      postprocess: null,
      total: pre + inf + 0.01,
      iterations: 1,
      at: null,
      segment: null,
      parts: null,
      invocation: 0,
    };
  });
  return {
    cell: { id, modelId: 'm', batch: 1, dims: {}, runtime: id.startsWith('ort') ? 'ort' : 'tfjs' },
    samples,
    steadyState: { steadyStart: 0 },
    invocations: [],
  } as unknown as OkCellResult;
}

describe("the model's own work", () => {
  it('tells apart what the total hides: 0.35 vs 0.81 ms of inference under 7.2 ms of decoding', () => {
    const fast = decodeHeavy('ort:wasm', 0.35, 1);
    const slow = decodeHeavy('tfjs:wasm', 0.81, 2);
    expect(modelWorkMs(fast)).toBeCloseTo(0.36, 1);
    expect(modelWorkMs(slow)).toBeCloseTo(0.82, 1);
    const c = compareModelWork(slow, fast);
    expect(c.verdict).toBe('slower');
    expect(c.ratio).toBeGreaterThan(2.1);
    expect(c.ci95[0]).toBeLessThanOrEqual(c.ratio);
    expect(c.ci95[1]).toBeGreaterThanOrEqual(c.ratio);
    const table = modelWorkVsFastest([slow, fast]);
    expect(table.get('ort:wasm')).toBeNull();
    expect(table.get('tfjs:wasm')?.verdict).toBe('slower');
  });
});

describe('a runtime failure names the inputs that ran on random settings', () => {
  const model = {
    inputs: [
      { name: 'input', dtype: 'float32', shape: ['batch', 512] },
      { name: 'state', dtype: 'float32', shape: [2, 'batch', 128] },
      { name: 'sr', dtype: 'int64', shape: [] },
    ],
    batchDim: 'batch',
    batchFollowers: [],
    dimDefaults: {},
    valueDefaults: {},
  } as unknown as ModelInfo;

  it("Silero VAD's int64 scalar sr, random by default, is named with the fix", () => {
    const suspects = randomSettingInputs(model, 1, {});
    expect(suspects.map((s) => s.name)).toEqual(['sr']);
    expect(describeRandomSettings(suspects)).toMatch(/input 'sr' \(int64 scalar\) ran on random values.*constant/);
  });

  it('a constant sr is no suspect, and no suspect is no hint', () => {
    const suspects = randomSettingInputs(model, 1, { sr: { values: { kind: 'constant', value: 16000 } } });
    expect(suspects).toEqual([]);
    expect(describeRandomSettings(suspects)).toBe('');
    expect(randomSettingHint({ model, cell: { batch: 1, inputOverrides: {} } })).toMatch(/'sr'/);
  });
});

describe('PNG titles wrap inside the image', () => {
  it('no line is wider than the width, and no word is lost', () => {
    const text = 'Per-pass timeline: flat: no level change after the first 10 passes; 11 steady samples over 173 ms';
    const measure = (t: string) => t.length * 10;
    const lines = wrapText(measure, text, 300);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(measure(l)).toBeLessThanOrEqual(300);
    expect(lines.join(' ')).toBe(text);
  });
});

describe('the median chart holds its whiskers', () => {
  it("the value axis reaches every CI's upper end, on a linear and on a log axis", async () => {
    const { medianChart } = await import('../../src/app/charts/configs.ts');
    const { okCell } = await import('./fixtures.ts');
    const theme = { fg: '#000', muted: '#666', grid: '#ddd' } as unknown as Parameters<typeof medianChart>[0];
    for (const cells of [
      [okCell('m/ort:wasm/b1', 4, 1, 8), okCell('m/tfjs:wasm/b1', 4.2, 2, 8)],
      [okCell('m/ort:wasm/b1', 0.4, 1, 8), okCell('m/tfjs:webgl/b1', 280, 2, 8)],
    ]) {
      const config = medianChart(theme, cells, () => null, '') as {
        data: { datasets: { whiskers: { lo: number | null; hi: number | null }[] }[] };
        options: { scales: { x: { suggestedMax?: number; suggestedMin?: number; type: string } } };
      };
      const whiskers = config.data.datasets[0]!.whiskers;
      const x = config.options.scales.x;
      expect(whiskers.every((w) => w.hi !== null)).toBe(true);
      for (const w of whiskers) expect(x.suggestedMax).toBeGreaterThanOrEqual(w.hi!);
      if (x.type === 'logarithmic') for (const w of whiskers) expect(x.suggestedMin).toBeLessThanOrEqual(w.lo!);
    }
  });
});

describe('integer image inputs', () => {
  it("MoveNet's int32 [1, 192, 192, 3] takes pictures, as pixel values 0..255", async () => {
    const { integerPixelRange, looksLikeImage, writePixels } = await import('../../src/lib/models/image-input.ts');
    const spec = { name: 'input', dtype: 'int32', shape: [1, 192, 192, 3] } as const;
    expect(looksLikeImage(spec as never)).toBe(true);
    expect(integerPixelRange('int32')).toBe('0..255');
    expect(integerPixelRange('float32')).toBeNull();
    const out = new Int32Array(3);
    const g = { layout: 'NHWC', channels: 3, height: 1, width: 1 } as const;
    writePixels(
      new Uint8Array([200, 100, 7, 255]),
      g,
      { mean: [0, 0, 0], std: [1, 1, 1], order: 'RGB' },
      'int32',
      out,
      0,
    );
    expect([...out]).toEqual([200, 100, 7]);
  });
});
