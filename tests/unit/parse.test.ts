import { describe, expect, it } from 'vitest';
import { parseCountList } from '../../src/lib/parse.ts';
import { parseDims } from '../../src/cli/args.ts';
import { decodeSetup } from '../../src/lib/plan/setup-url.ts';

describe('one list-of-counts parser for page, link and CLI', () => {
  it('reads commas and spaces, and names the first bad part', () => {
    expect(parseCountList('1, 4,16 64')).toEqual({ ok: true, values: [1, 4, 16, 64] });
    expect(parseCountList('  ')).toEqual({ ok: false, bad: null });
    expect(parseCountList('1, 4x, 0')).toEqual({ ok: false, bad: '4x' });
    expect(parseCountList('2, 0')).toEqual({ ok: false, bad: '0' });
    expect(parseCountList('1.5')).toEqual({ ok: false, bad: '1.5' });
  });
  it('gives the same answer through --dim and a setup link', () => {
    expect(parseDims(['seq=16, 64,256'])).toEqual({ seq: [16, 64, 256] });
    expect(() => parseDims(['seq=16,-1'])).toThrow(/--dim: 'seq=16,-1'/);
    expect(decodeSetup('#dim.seq=16,64,256').setup.dims).toEqual({ seq: [16, 64, 256] });
    expect(decodeSetup('#dim.seq=16,-1').errors.join()).toMatch(/dim\.seq=16,-1: not a comma-separated list/);
  });
});
