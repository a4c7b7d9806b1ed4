import { describe, expect, it } from 'vitest';
import { guessBatchFollowers, notAModel } from '../../src/lib/models/model-signature.ts';
import { checkPolicy, makeValues, resolveShape, synthesizeInputs, toFloat16Bits } from '../../src/lib/models/inputs.ts';
import type { TensorSpec } from '../../src/lib/schema.ts';

const img: TensorSpec = { name: 'x', dtype: 'float32', shape: ['batch', 3, 'height', 'width'] };

describe('resolveShape', () => {
  it('fills the batch dim and other symbolic dims from overrides, then defaults', () => {
    expect(resolveShape(img, 'batch', 4, { dims: { height: 48, width: 64 } })).toEqual([4, 3, 48, 64]);
    expect(resolveShape(img, 'batch', 2, { dims: { width: 10 } }, { height: 48, width: 192 })).toEqual([2, 3, 48, 10]);
  });
  it('names a symbolic dim that has no value', () => {
    expect(() => resolveShape(img, 'batch', 1)).toThrow(/symbolic dim 'height' \(axis 2\)/);
  });
  it('refuses batch > 1 on a model without a batch dim', () => {
    const fixed: TensorSpec = { name: 'x', dtype: 'float32', shape: [1, 3] };
    expect(resolveShape(fixed, null, 1)).toEqual([1, 3]);
    expect(() => resolveShape(fixed, null, 4)).toThrow(/no batch dim.*only batch 1/);
  });
  it('keeps scalars scalar', () => {
    expect(resolveShape({ name: 's', dtype: 'int64', shape: [] }, 'batch', 8)).toEqual([]);
  });
});

describe('makeValues', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    const a = makeValues('x', 'float32', 16, { kind: 'random' }, 7) as Float32Array;
    const b = makeValues('x', 'float32', 16, { kind: 'random' }, 7) as Float32Array;
    const c = makeValues('x', 'float32', 16, { kind: 'random' }, 8) as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
  });
  it('makes the typed array each dtype needs', () => {
    expect(makeValues('x', 'int64', 3, { kind: 'constant', value: 5 }, 1)).toEqual(new BigInt64Array([5n, 5n, 5n]));
    expect(makeValues('x', 'int32', 2, { kind: 'zeros' }, 1)).toBeInstanceOf(Int32Array);
    expect(makeValues('x', 'bool', 2, { kind: 'random' }, 1)).toBeInstanceOf(Uint8Array);
    expect(makeValues('x', 'float16', 1, { kind: 'constant', value: 1 }, 1)).toEqual(new Uint16Array([0x3c00]));
  });
  it('draws integers from the inclusive range', () => {
    const v = makeValues('ids', 'int32', 2000, { kind: 'range', min: 3, max: 5 }, 9) as Int32Array;
    expect(new Set(v)).toEqual(new Set([3, 4, 5]));
  });
  it('rejects overrides that do not fit the dtype, naming the input', () => {
    expect(() => checkPolicy('mask', 'uint8', { kind: 'constant', value: 300 })).toThrow(
      /input 'mask' is uint8: constant 300 is outside \[0, 255\]/,
    );
    expect(() => checkPolicy('ids', 'int64', { kind: 'constant', value: 1.5 })).toThrow(/not an integer/);
    expect(() => checkPolicy('x', 'float32', { kind: 'range', min: 2, max: 1 })).toThrow(/min 2 is above max 1/);
    expect(() => checkPolicy('x', 'float32', { kind: 'constant', value: Infinity })).toThrow(/not a finite/);
  });
});

describe('float16 bits', () => {
  it('encodes known values', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(0.5)).toBe(0x3800);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
  });
});

describe('synthesizeInputs', () => {
  it('gives each input its own values and rejects overrides for unknown inputs', () => {
    const specs: TensorSpec[] = [
      { name: 'a', dtype: 'float32', shape: ['batch', 4] },
      { name: 'b', dtype: 'float32', shape: ['batch', 4] },
      { name: 'n', dtype: 'int64', shape: [] },
    ];
    const t = synthesizeInputs(specs, 'batch', 2, 1, { n: { values: { kind: 'constant', value: 3 } } });
    expect(t.map((x) => x.shape)).toEqual([[2, 4], [2, 4], []]);
    expect(Array.from(t[0]!.data as Float32Array)).not.toEqual(Array.from(t[1]!.data as Float32Array));
    expect(t[2]!.data).toEqual(new BigInt64Array([3n]));
    expect(() => synthesizeInputs(specs, 'batch', 1, 1, { nope: {} })).toThrow(/names 'nope'.*a, b, n/);
  });
});

describe('dims that follow the batch', () => {
  it('fills every batch symbol with the batch size', () => {
    expect(
      resolveShape({ name: 'state', dtype: 'float32', shape: [2, 'batch_size', 8] }, ['batch', 'batch_size'], 4),
    ).toEqual([2, 4, 8]);
    expect(() => resolveShape({ name: 'state', dtype: 'float32', shape: [2, 'batch_size', 8] }, 'batch', 4)).toThrow(
      /symbolic dim 'batch_size'/,
    );
  });
  it('guesses followers by name, and every unnamed first axis when the batch dim is one', () => {
    expect(
      guessBatchFollowers(
        [
          { name: 'x', dtype: 'float32', shape: ['batch', 16] },
          { name: 'state', dtype: 'float32', shape: [2, 'batch_size', 128] },
          { name: 'len', dtype: 'int64', shape: ['seq'] },
        ],
        'batch',
      ),
    ).toEqual(['batch_size']);
    expect(
      guessBatchFollowers(
        [
          { name: 'a', dtype: 'float32', shape: ['a_d0', 4] },
          { name: 'b', dtype: 'float32', shape: ['b_d0', 'b_d1'] },
        ],
        'a_d0',
      ),
    ).toEqual(['b_d0']);
    expect(guessBatchFollowers([{ name: 'x', dtype: 'float32', shape: [1, 4] }], null)).toEqual([]);
  });
});

describe('files that are plainly not models', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  it('names an empty file, an HTML page and JSON given as ONNX', () => {
    expect(notAModel('m.onnx', new Uint8Array(0), 'onnx')).toBe('m.onnx is empty (0 bytes)');
    expect(notAModel('m.onnx', text('  <!DOCTYPE html><html>sign in</html>'), 'onnx')).toMatch(
      /m\.onnx is an HTML page, not a model/,
    );
    expect(notAModel('m.onnx', text('{"format":"layers-model"}'), 'onnx')).toMatch(
      /m\.onnx is JSON, not an ONNX model/,
    );
    expect(notAModel('model.json', text('{"format":"layers-model"}'), 'json')).toBeNull();
    expect(notAModel('m.onnx', new Uint8Array([0x08, 0x07, 0x12]), 'onnx')).toBeNull();
  });
});

describe('absurd input sizes', () => {
  it('refuses an input over 4 GiB by name, before allocating anything', async () => {
    const { checkInputSize, MAX_INPUT_BYTES } = await import('../../src/lib/models/inputs.ts');
    expect(() => checkInputSize('x', 'float32', [1_000_000, 1_000_000, 1_000_000])).toThrow(
      /input 'x' \[1000000, 1000000, 1000000\] float32 would take 3.64e\+6 TiB: more than the 4 GiB/,
    );
    expect(() => checkInputSize('ids', 'int64', [1, 600_000_000])).toThrow(/would take 4.47 GiB/);
    expect(() => checkInputSize('x', 'float32', [1, MAX_INPUT_BYTES / 4])).not.toThrow();
  });
});
