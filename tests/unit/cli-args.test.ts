import { describe, expect, it } from 'vitest';
import { buildOverrides, parsePolicy } from '../../src/cli/main.ts';
import type { Manifest } from '../../src/lib/manifest.ts';

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
  it('applies --dim and --values only to models that have them', () => {
    expect(buildOverrides(manifest, ['ocr', 'cnn'], ['width=320'], ['x=zeros'])).toEqual({ ocr: { x: { dims: { width: 320 }, values: { kind: 'zeros' } } } });
  });
  it('rejects dims and inputs no selected model has', () => {
    expect(() => buildOverrides(manifest, ['cnn'], ['width=320'], [])).toThrow(/no selected model has a symbolic dim named width/);
    expect(() => buildOverrides(manifest, ['cnn'], [], ['x=zeros'])).toThrow(/no selected model has an input named x/);
    expect(() => buildOverrides(manifest, ['ocr'], ['width=0'], [])).toThrow(/NAME=N/);
  });
});
