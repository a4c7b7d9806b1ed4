import { describe, expect, it } from 'vitest';
import { describePredictions, predictionTables } from '../../src/lib/report/predictions.ts';
import type { OkCellResult } from '../../src/lib/schema.ts';
import {
  fitRect,
  imageGeometry,
  imagePolicyText,
  looksLikeImage,
  parseImageOptions,
  writePixels,
  DEFAULT_IMAGE_OPTIONS,
} from '../../src/lib/models/image-input.ts';
import { applyImages } from '../../src/cli/local-images.ts';
import type { ModelInfo } from '../../src/lib/models/manifest.ts';
import type { TensorSpec } from '../../src/lib/schema.ts';

const nhwc: TensorSpec = { name: 'img', dtype: 'float32', shape: ['batch', 4, 6, 3] };
const nchw: TensorSpec = { name: 'x', dtype: 'float32', shape: ['batch', 3, 'h', 'w'] };

describe('image inputs', () => {
  it('reads layout, channels and size from the shape, and names an input that cannot hold pictures', () => {
    expect(imageGeometry(nhwc, [2, 4, 6, 3], { layout: null })).toEqual({
      layout: 'NHWC',
      channels: 3,
      height: 4,
      width: 6,
    });
    expect(imageGeometry(nchw, [1, 3, 48, 192], { layout: null })).toEqual({
      layout: 'NCHW',
      channels: 3,
      height: 48,
      width: 192,
    });
    expect(imageGeometry(nchw, [1, 1, 28, 28], { layout: null })).toEqual({
      layout: 'NCHW',
      channels: 1,
      height: 28,
      width: 28,
    });
    expect(() => imageGeometry(nchw, [1, 3, 48, 192], { layout: 'NHWC' })).toThrow(/as NHWC has 192 channels/);
    expect(() => imageGeometry({ name: 'ids', dtype: 'int64', shape: ['b', 's'] }, [1, 8], { layout: null })).toThrow(
      /int64: image values need a float32/,
    );
    expect(() => imageGeometry({ ...nchw, shape: [1, 5, 5, 5] }, [1, 5, 5, 5], { layout: null })).toThrow(
      /no axis of size 3 or 1/,
    );
    expect(looksLikeImage(nhwc)).toBe(true);
    expect(looksLikeImage({ name: 'ids', dtype: 'int64', shape: ['b', 3, 3, 3] })).toBe(false);
    expect(looksLikeImage({ name: 'v', dtype: 'float32', shape: ['b', 16] })).toBe(false);
  });

  it('fits like CSS object-fit: fill stretches, cover crops the centre, contain pads', () => {
    expect(fitRect(400, 200, 100, 100, 'fill')).toEqual({
      sx: 0,
      sy: 0,
      sw: 400,
      sh: 200,
      dx: 0,
      dy: 0,
      dw: 100,
      dh: 100,
    });
    expect(fitRect(400, 200, 100, 100, 'cover')).toEqual({
      sx: 100,
      sy: 0,
      sw: 200,
      sh: 200,
      dx: 0,
      dy: 0,
      dw: 100,
      dh: 100,
    });
    expect(fitRect(400, 200, 100, 100, 'contain')).toEqual({
      sx: 0,
      sy: 0,
      sw: 400,
      sh: 200,
      dx: 0,
      dy: 25,
      dw: 100,
      dh: 50,
    });
  });

  it('writes pixels in the layout, order, dtype and normalisation asked for', () => {
    // A 1x2 picture: red, then blue (RGBA).
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]);
    const g = { layout: 'NHWC' as const, channels: 3 as const, height: 1, width: 2 };
    const out = new Float32Array(2 * 6);
    writePixels(rgba, g, { mean: [0, 0, 0], std: [1, 1, 1], order: 'RGB' }, 'float32', out, 1);
    expect([...out.subarray(6)]).toEqual([1, 0, 0, 0, 0, 1]); // batch item 1, NHWC
    const chw = new Float32Array(6);
    writePixels(
      rgba,
      { ...g, layout: 'NCHW' },
      { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], order: 'BGR' },
      'float32',
      chw,
      0,
    );
    expect([...chw]).toEqual([-1, 1, -1, -1, 1, -1]); // B plane, G plane, R plane in -1..1
    const u8 = new Uint8Array(6);
    writePixels(rgba, g, DEFAULT_IMAGE_OPTIONS, 'uint8', u8, 0);
    expect([...u8]).toEqual([255, 0, 0, 0, 0, 255]);
    const grey = new Float32Array(2);
    writePixels(rgba, { ...g, channels: 1 }, { mean: [0, 0, 0], std: [1, 1, 1], order: 'RGB' }, 'float32', grey, 0);
    expect(grey[0]).toBeCloseTo(0.299);
    expect(grey[1]).toBeCloseTo(0.114);
  });

  it('round-trips settings as text, and names a bad setting', () => {
    for (const text of [
      'image',
      'image:layout=NCHW,fit=cover,norm=imagenet',
      'image:norm=-1..1,order=BGR',
      'image:mean=1/2/3,std=4/5/6',
    ]) {
      expect(imagePolicyText(parseImageOptions(text.replace(/^image:?/, '')))).toBe(text);
    }
    expect(() => parseImageOptions('fit=squash')).toThrow(
      /'fit=squash' is not one of layout=NHWC\|NCHW, fit=fill\|cover\|contain/,
    );
    expect(() => parseImageOptions('std=1/0/1')).toThrow(/three positive numbers/);
  });
});

describe('--images', () => {
  const pictures = [{ name: 'a.png', path: '../__local/images/a.png', bytes: 10, sha256: 'a'.repeat(64) }];
  const model = (id: string, inputs: TensorSpec[], valueDefaults: ModelInfo['valueDefaults'] = {}) =>
    ({ id, inputs, valueDefaults }) as unknown as ModelInfo;
  it('gives own models an image policy, keeps zoo settings with new pictures, and fills --values image policies', () => {
    const zooPolicy = {
      kind: 'image' as const,
      images: [],
      layout: 'NCHW' as const,
      fit: 'contain' as const,
      mean: [0.5, 0.5, 0.5] as [number, number, number],
      std: [0.5, 0.5, 0.5] as [number, number, number],
      order: 'RGB' as const,
    };
    const out = applyImages(
      [
        model('own', [nhwc]),
        model('zoo', [nchw], { x: zooPolicy }),
        model('text', [{ name: 'ids', dtype: 'int64', shape: ['b', 's'] }]),
      ],
      {},
      pictures,
      true,
    );
    expect(out.own!.img!.values).toEqual({ kind: 'image', images: pictures, ...DEFAULT_IMAGE_OPTIONS });
    expect(out.zoo!.x!.values).toEqual({ ...zooPolicy, images: pictures });
    expect(out.text).toBeUndefined();
    const viaValues = applyImages(
      [model('own', [nhwc])],
      { own: { img: { values: { kind: 'image', images: [], ...DEFAULT_IMAGE_OPTIONS, fit: 'cover' } } } },
      pictures,
      false,
    );
    expect(viaValues.own!.img!.values).toMatchObject({ fit: 'cover', images: pictures });
  });
  it('refuses --images when no selected model takes pictures', () => {
    expect(() =>
      applyImages([model('text', [{ name: 'ids', dtype: 'int64', shape: ['b', 's'] }])], {}, pictures, true),
    ).toThrow(/none of the selected models has an input that takes pictures.*text \[ids int64\[b,s\]\]/);
  });
});

describe('predictions across cells', () => {
  const labels = ['cat', 'dog', 'cup'];
  const cellWith = (id: string, tops: number[], named = true) =>
    ({
      cell: { id, modelId: 'm' },
      predictions: tops.map((index, i) => ({
        image: `p${i}.png`,
        top: [{ index, label: named ? labels[index] : null, score: 0.9 }],
      })),
    }) as unknown as OkCellResult;
  it('names the top-1 class per picture and cell, and says where cells disagree', () => {
    const tables = predictionTables([cellWith('m/a', [2, 0]), cellWith('m/b', [2, 1])]);
    expect(tables[0]!.rows.map((r) => [r.image, r.top1.map((t) => t?.label), r.agree])).toEqual([
      ['p0.png', ['cup', 'cup'], true],
      ['p1.png', ['cat', 'dog'], false],
    ]);
    expect(describePredictions(tables)).toEqual(['m top-1: p0.png cup, p1.png cat (cells disagree on p1.png)']);
    expect(describePredictions(predictionTables([cellWith('m/a', [2], false)]))).toEqual([
      'm top-1: p0.png class 2 (one cell)',
    ]);
  });
});
