import { describe, expect, it } from 'vitest';
import { compareOutputs } from '../../src/lib/report/parity.ts';
import { fmtMs, textTable } from '../../src/lib/report/format.ts';

const out = (values: number[], shape = [1, values.length]) => ({ name: 'y', shape, values: Float32Array.from(values) });

describe('compareOutputs', () => {
  it('reports the max abs difference and tolerance verdict', () => {
    const p = compareOutputs([out([1, 2, 3])], [out([1, 2.5, 3])], 'ref');
    expect(p.maxAbsDiff).toBe(0.5);
    expect(p.comparedValues).toBe(3);
    expect(p.withinTolerance).toBe(false);
    expect(compareOutputs([out([1, 2])], [out([1, 2.00001])], 'ref').withinTolerance).toBe(true);
  });
  it('flags shape and count mismatches and NaN instead of inventing a number', () => {
    expect(compareOutputs([out([1, 2], [2, 1])], [out([1, 2])], 'ref').mismatch).toMatch(/shape \[2,1\] vs \[1,2\]/);
    expect(compareOutputs([], [out([1])], 'ref').mismatch).toMatch(/0 outputs vs 1/);
    const nan = compareOutputs([out([NaN])], [out([1])], 'ref');
    expect(nan.maxAbsDiff).toBeNull();
    expect(nan.withinTolerance).toBe(false);
  });
});

describe('format', () => {
  it('formats milliseconds by magnitude', () => {
    expect(fmtMs(0.01234)).toBe('0.0123');
    expect(fmtMs(1.23456)).toBe('1.235');
    expect(fmtMs(12.345)).toBe('12.35');
    expect(fmtMs(1234.5)).toBe('1235');
    expect(fmtMs(null)).toBe('–');
  });
  it('aligns a text table', () => {
    expect(textTable(['a', 'bb'], [['xyz', '1']])).toBe('a    bb\n---  --\nxyz   1');
  });
});
