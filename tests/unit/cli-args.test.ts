import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/lib/models/manifest.ts';
import { buildOverrides, parseDims, parsePolicy } from '../../src/cli/args.ts';

const manifest = {
  manifestVersion: 1,
  models: [
    { id: 'ocr', inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 'height', 'width'] }] },
    { id: 'cnn', inputs: [{ name: 'input', dtype: 'float32', shape: ['batch', 32, 32, 3] }] },
  ],
} as unknown as Manifest;

describe('CLI input overrides', () => {
  it('parses value policies', () => {
    expect(parsePolicy('zeros')).toEqual({ kind: 'zeros' });
    expect(parsePolicy('const:2.5')).toEqual({ kind: 'constant', value: 2.5 });
    expect(parsePolicy('range:-1:1')).toEqual({ kind: 'range', min: -1, max: 1 });
    expect(() => parsePolicy('const:abc')).toThrow(/'abc' is not a number/);
    expect(() => parsePolicy('gauss')).toThrow(/random \| zeros/);
  });
  it('applies --values only to models that have the input', () => {
    expect(buildOverrides(manifest, ['ocr', 'cnn'], ['x=zeros'])).toEqual({
      ocr: { x: { values: { kind: 'zeros' } } },
    });
  });
  it('rejects inputs no selected model has', () => {
    expect(() => buildOverrides(manifest, ['cnn'], ['x=zeros'])).toThrow(/no selected model has an input named x/);
  });
  it('parses --dim as one value or a sweep, and names a bad one', () => {
    expect(parseDims(['width=320'])).toEqual({ width: [320] });
    expect(parseDims(['seq=16,64,256', 'height=48'])).toEqual({ seq: [16, 64, 256], height: [48] });
    expect(parseDims(['seq=16,16,64'])).toEqual({ seq: [16, 64] });
    expect(() => parseDims(['width=0'])).toThrow(/NAME=N/);
    expect(() => parseDims(['seq=16,x'])).toThrow(/'seq=16,x'/);
    expect(() => parseDims(['seq=16', 'seq=64'])).toThrow(/given twice.*seq=16,64/);
  });
});
