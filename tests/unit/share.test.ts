/** Result links: the summary a link carries, its round trip through the fragment, and damaged links. */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readResultLink, resultLink } from '../../src/app/share-link.ts';
import type { RunResult } from '../../src/lib/schema.ts';
import { compareWithShared, summariseForLink } from '../../src/lib/plan/share.ts';
import { fakeRun, okCell } from './fixtures.ts';
import { SHARE_PREFIX } from '../../src/lib/plan/setup-url.ts';

const a = okCell('m/ort:wasm/b1', 4, 1, 200);
const b = okCell('m/tfjs:wasm/b1', 6, 2, 200);
const run: RunResult = fakeRun(
  [
    a,
    b,
    {
      status: 'unsupported',
      cell: { ...a.cell, id: 'm/ort:webnn/b1' },
      startedAt: '',
      durationMs: 0,
      reason: 'navigator.ml is missing',
    },
  ],
  { tool: { name: 'inference-latency-lab', version: '0.1.0' }, createdAt: '2026-12-02T00:00:00Z', source: 'page' },
);

describe('result links', () => {
  it('carry medians, CIs, p95 and the environment, not samples', () => {
    const s = summariseForLink(run);
    expect(s.cells.map((c) => [c.id, c.status])).toEqual([
      ['m/ort:wasm/b1', 'ok'],
      ['m/tfjs:wasm/b1', 'ok'],
      ['m/ort:webnn/b1', 'unsupported'],
    ]);
    expect(s.cells[0]!.median).toBe(a.summary.total.median);
    expect(s.cells[0]!.ci).toEqual(a.summary.total.medianCI95);
    expect(s.cells[2]!.reason).toBe('navigator.ml is missing');
    expect(JSON.stringify(s)).not.toContain('"samples"');
  });

  it('survive the fragment round trip, small enough for a URL', async () => {
    const link = await resultLink(run, 'https://lab.example/');
    expect(link.startsWith(`https://lab.example/${SHARE_PREFIX}`)).toBe(true);
    expect(link).toMatch(/^[^#]*#result=[A-Za-z0-9_-]+$/);
    expect(link.length).toBeLessThan(1500);
    expect(await readResultLink(link.slice(link.indexOf('#')))).toEqual(summariseForLink(run));
  });

  it('say what is wrong with a damaged or foreign link', async () => {
    const link = await resultLink(run, 'x');
    const hash = link.slice(link.indexOf('#'));
    await expect(readResultLink(hash.slice(0, hash.length - 20))).rejects.toThrow(/damaged/);
    await expect(readResultLink(`${SHARE_PREFIX}%%%`)).rejects.toThrow(/damaged/);
    // Well-formed data that isn't a result summary: named as such, with the fields that are wrong.
    const foreign = deflateSync(Buffer.from(JSON.stringify({ hello: 'world' }))).toString('base64url');
    await expect(readResultLink(`${SHARE_PREFIX}${foreign}`)).rejects.toThrow(/does not hold a result summary: v: /);
  });

  it('compare with the run on screen by cell id, saying when the CIs lie apart', () => {
    const shared = summariseForLink(run);
    const slower = okCell('m/ort:wasm/b1', 5, 3, 200);
    const rows = compareWithShared(shared, [slower, okCell('m/other/b1', 1, 4)]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ratio).toBeGreaterThan(1.2);
    expect(rows[0]!.distinct).toBe(true);
    expect(compareWithShared(shared, [a])[0]).toMatchObject({ ratio: 1, distinct: false });
  });
});
