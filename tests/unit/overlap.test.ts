/**
 * What overlapped a measurement (src/app/overlap.ts): measurements hear each other on a BroadcastChannel (Node has
 * one too, shared by the channel objects of one process, as a page's are), on a clock the test moves.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MeasurementWatch, NO_OVERLAP } from '../../src/app/overlap.ts';

/** Waits until `cond` holds: messages arrive as tasks, a 'who' answer after two hops (at most 2 s on a busy machine). */
const heard = (cond: () => boolean) =>
  vi.waitFor(
    () => {
      if (!cond()) throw new Error('not heard yet');
    },
    { timeout: 2000, interval: 10 },
  );

describe('overlap watch', () => {
  let clock = 0;
  const now = () => clock;
  const open: MeasurementWatch[] = [];
  const watch = (what: string) => {
    const w = new MeasurementWatch(what, now);
    open.push(w);
    return w;
  };
  afterEach(() => {
    for (const w of open.splice(0)) w.end();
    clock = 0;
  });

  it('a measurement hears one that started after it, and one that was already running', async () => {
    const run = watch('a run');
    const mark = run.mark();
    clock = 100;
    const sweep = watch('a serving load sweep');
    await heard(() => run.since(mark)?.length === 1 && sweep.since(0)?.length === 1);
    expect(run.since(mark)).toEqual(['a serving load sweep on this page']);
    // The sweep started second: the run answered its 'who' at once, so the sweep knows it too.
    expect(sweep.since(sweep.mark())).toEqual(['a run on this page']);
  });

  it('one that ended before the mark, or was only ever heard ending, is not an overlap', async () => {
    const first = watch('a run');
    const second = watch('a scripted run');
    await heard(() => second.since(0)?.length === 1);
    clock = 50;
    first.end();
    const ended = () => [...(second as unknown as { heard: Map<string, { ended: number | null }> }).heard.values()];
    await heard(() => ended()[0]?.ended === 50);
    clock = 200;
    expect(second.since(100)).toEqual([]);
    expect(second.since(0)).toEqual(['a run on this page']);
  });

  it('a measurement not heard from for a minute is gone (its tab crashed without a word)', async () => {
    const run = watch('a run');
    const other = watch('the serving monitor');
    await heard(() => run.since(0)?.length === 1);
    // Silence the other without an 'end', as a crashed tab would be.
    (other as unknown as { channel: BroadcastChannel }).channel.close();
    clock = 100_000;
    expect(run.since(70_000)).toEqual([]);
    expect(run.since(50_000)).toEqual(['the serving monitor on this page']);
  });

  it('without a channel nothing is watched, and that is not "alone"', () => {
    expect(NO_OVERLAP.since(NO_OVERLAP.mark())).toBeNull();
  });
});
