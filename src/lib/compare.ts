/**
 * Comparing two sets of timings: ratio of medians with a bootstrap 95% CI. Pure and seeded, so a printed
 * interval reproduces.
 */
import { mulberry32 } from './rng.ts';
import { median } from './stats.ts';

export interface RatioCI {
  ratio: number;
  ci95: [number, number];
  resamples: number;
}

/** Ratio median(a) / median(b), CI from resampling each set with replacement (percentile bootstrap). */
export function ratioOfMedians(a: readonly number[], b: readonly number[], seed = 1, resamples = 2000): RatioCI {
  if (!a.length || !b.length) throw new RangeError('both sets need samples');
  const rng = mulberry32(seed);
  const draw = (xs: readonly number[]) => median(Array.from(xs, () => xs[Math.floor(rng() * xs.length)]!));
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i++) ratios.push(draw(a) / draw(b));
  ratios.sort((x, y) => x - y);
  const at = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))]!;
  return { ratio: median(a) / median(b), ci95: [at(0.025), at(0.975)], resamples };
}
