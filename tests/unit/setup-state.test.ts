/**
 * SetupState, the page's setup form (a Svelte 5 rune class, compiled by the svelte plugin in vitest.config.ts): a
 * setup survives its link (setup -> link -> setup) and comes back from a stored run, without a browser.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SetupState } from '../../src/app/setup.svelte.ts';
import type { StoredRun } from '../../src/app/store.ts';
import { encodeSetup } from '../../src/lib/plan/setup-url.ts';
import type { Manifest } from '../../src/lib/models/manifest.ts';
import { fakeEnvironment, fakeModel } from './fixtures.ts';

const zoo: Manifest = {
  manifestVersion: 1,
  models: [fakeModel('tiny-cnn', ['onnx', 'tfjs-layers']), fakeModel('other', ['onnx'])],
  images: [],
};
const fresh = () => new SetupState({ manifest: () => zoo, environment: () => null });

/** A setup with every kind of field moved off its default: lists, numbers, a flag, text, dims and values. */
function edited(): SetupState {
  const s = fresh();
  s.selectModel('other');
  s.targets = ['ort:wasm', 'tfjs:webgl'];
  s.batchText = '1, 4';
  s.threadsText = '2';
  s.ortBuilds = ['wasm'];
  s.mode = 'fixed';
  s.samples = 37;
  s.warmup = 7;
  s.coldStarts = 3;
  s.targetPct = 1.5;
  s.minSamples = 11;
  s.maxSamples = 222;
  s.maxSamplingS = 9;
  s.invocations = 4;
  s.interleave = true;
  s.seedText = '1234';
  s.budgetText = 'p95 <= 16ms';
  s.dims = { seq: [8, 16] };
  s.values = { x: { kind: 'constant', value: 0.5 } };
  return s;
}

beforeAll(() => vi.stubGlobal('location', { origin: 'http://lab.test', pathname: '/lab/' }));
afterAll(() => vi.unstubAllGlobals());

describe('the setup link', () => {
  it('puts every field back: setup -> link -> setup', () => {
    const before = edited();
    const link = before.link();
    expect(link.startsWith('http://lab.test/lab/#')).toBe(true);
    const after = fresh();
    expect(after.snapshot()).not.toEqual(before.snapshot());
    after.applyLink(new URL(link).hash);
    expect(after.linkErrors).toEqual([]);
    expect(after.snapshot()).toEqual(before.snapshot());
    // The restored setup asks for the same plan (the seed is in the link, so the order is the same too).
    expect(after.plan()).toEqual(before.plan());
  });

  it("names a model or target this lab doesn't have, and applies the rest", () => {
    const s = fresh();
    s.applyLink('#model=gone&targets=ort:wasm,nope:cpu&batch=8');
    expect(s.linkErrors).toEqual([
      "link: model 'gone' is not in this lab's zoo (your own models can't travel in a link; add the file again)",
      'link: unknown target(s) nope:cpu (ignored)',
    ]);
    expect(s.modelId).toBe('tiny-cnn');
    expect(s.targets).toEqual(['ort:wasm']);
    expect(s.batchText).toBe('8');
  });
});

describe('a stored run', () => {
  const run = (over: Partial<StoredRun>): StoredRun => ({
    id: 'r1',
    createdAt: '2026-12-03T00:00:00Z',
    status: 'done',
    plan: edited().plan(),
    environment: fakeEnvironment(),
    ownModels: [],
    cells: [],
    parity: {},
    result: null,
    ...over,
  });

  it('brings back the setup it ran with, value policies in full', async () => {
    const before = edited();
    const s = fresh();
    await s.restore(run({ setupLink: encodeSetup(before.snapshot()), setupValues: before.snapshot().values }));
    expect(s.linkErrors).toEqual([]);
    expect(s.snapshot()).toEqual(before.snapshot());
  });

  it('names an own picture that is no longer stored, and restores the rest', async () => {
    const picture = { name: 'cat.png', path: 'own-images/cat.png', bytes: 10, sha256: 'b'.repeat(64) };
    const values = {
      x: {
        kind: 'image' as const,
        images: [picture],
        layout: null,
        fit: 'fill' as const,
        mean: [0, 0, 0] as [number, number, number],
        std: [1, 1, 1] as [number, number, number],
        order: 'RGB' as const,
      },
    };
    const s = fresh();
    await s.restore(run({ setupLink: encodeSetup({ ...edited().snapshot(), values }), setupValues: values }));
    expect(s.linkErrors).toEqual(['the setup of this run is back, except your picture cat.png']);
    expect(s.modelId).toBe('other');
    expect(s.values).toEqual(values);
  });
});
