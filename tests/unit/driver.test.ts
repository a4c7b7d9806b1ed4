import { describe, expect, it } from 'vitest';
import { lostRun, type RunSoFar } from '../../src/cli/driver.ts';
import { SamplingSettings, type Plan } from '../../src/lib/schema.ts';
import { fakeEnvironment, okCell } from './fixtures.ts';

const cellA = okCell('m/ort:wasm/b1', 5, 1);
const cellB = okCell('m/ort:wasm/b2', 9, 2);
const plan: Plan = {
  seed: 1,
  order: 'matrix',
  schedule: 'sequential',
  liveCells: 4,
  sampling: SamplingSettings.parse({ mode: 'fixed', samples: 60, warmup: 0 }),
  cells: [cellA.cell, cellB.cell],
  nativeSkipped: [],
};
const environment = fakeEnvironment();

describe('a run whose browser is lost', () => {
  it('keeps the finished cells and every request blocked before the end, for the exit code', () => {
    const so: RunSoFar = { started: { plan, environment }, finished: new Map([[0, cellA]]), offOrigin: [] };
    // As withLabPage's origin guard records them while the page runs.
    so.offOrigin.push('https://cdn.example.com/ort.wasm');
    const out = lostRun(so, new Error('the page crashed\n    at stack'), '1.2.3');
    expect(out.offOrigin).toEqual(['https://cdn.example.com/ort.wasm']);
    expect(out.lost).toBe('the browser ended mid-run (the page crashed)');
    expect(out.result.cells.map((c) => c.status)).toEqual(['ok', 'aborted']);
    expect(out.result.cells[1]).toMatchObject({ reason: `lost: ${out.lost}`, cell: { id: 'm/ort:wasm/b2' } });
    expect(out.result.tool.version).toBe('1.2.3');
  });
  it('has nothing to keep before the plan came: the error goes on', () => {
    const error = new Error('net::ERR_CONNECTION_REFUSED');
    expect(() =>
      lostRun({ started: null, finished: new Map(), offOrigin: ['https://x.example/'] }, error, '1'),
    ).toThrow(error);
  });
});
