/**
 * The smallest step performance.now() takes in this worker: 5 us when cross-origin isolated, 100 us
 * otherwise (Chromium coarsens the clock). Stored with every result so sub-tick medians can be spotted.
 */
export function measureTimerResolution(iterations = 200): number {
  let smallest = Infinity;
  let last = performance.now();
  for (let i = 0; i < iterations; i++) {
    let now = performance.now();
    // Spin until the clock moves: the step it moves by is the resolution.
    while (now === last) now = performance.now();
    smallest = Math.min(smallest, now - last);
    last = now;
  }
  return smallest;
}
