/**
 * One measurement at a time. Two measurements at once (a run and a serving sweep, or runs in two tabs of the lab)
 * share the same cores, and each one's numbers would carry the other's load without saying so. On this page the
 * buttons are disabled while something measures (LabState.busyReason); across this browser's tabs of the lab the
 * Web Locks API tells: a second measurement waits for the first to end (navigator.locks is shared by the tabs of
 * one origin). A browser without Web Locks (any page not in a secure context) guards this page only, and what
 * overlaps there is marked (overlap.ts).
 */
import { MeasurementWatch, type OverlapProbe } from './overlap.ts';

const LOCK_NAME = 'inference-latency-lab:measurement';

/** Whether the browser can tell about the lab's other tabs. */
export function locksAvailable(): boolean {
  return typeof navigator !== 'undefined' && navigator.locks !== undefined;
}

/**
 * Runs `measure` holding the measurement lock, announced to the lab's other measurements (overlap.ts) for as long
 * as it runs; `measure` gets the watch, to mark what overlapped it where prevention didn't reach (no Web Locks). If
 * another tab holds the lock, `onWait` is called and the measurement waits for it (an abort of `signal` while
 * waiting rejects with the signal's reason, nothing measured). `what` names it to the others ('a run', ...).
 */
export async function oneMeasurementAtATime<T>(
  what: string,
  measure: (watch: OverlapProbe) => Promise<T>,
  onWait: () => void,
  signal?: AbortSignal,
): Promise<T> {
  const announced = async () => {
    const watch = new MeasurementWatch(what);
    try {
      return await measure(watch);
    } finally {
      watch.end();
    }
  };
  if (!locksAvailable()) return announced();
  let result: { value: T } | null = null;
  await navigator.locks.request(LOCK_NAME, { ifAvailable: true }, async (lock) => {
    if (lock) result = { value: await announced() };
  });
  if (result) return (result as { value: T }).value;
  onWait();
  return navigator.locks.request(LOCK_NAME, signal ? { signal } : {}, () => announced());
}
