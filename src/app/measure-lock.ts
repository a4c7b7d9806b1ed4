/**
 * One measurement at a time. Two measurements at once (a run and a serving sweep, or runs in two tabs of the lab)
 * share the same cores, and each one's numbers would carry the other's load without saying so. On this page the
 * buttons are disabled while something measures (LabState.busyReason); across this browser's tabs of the lab the
 * Web Locks API tells: a second measurement waits for the first to end (navigator.locks is shared by the tabs of
 * one origin). A browser without Web Locks guards this page only.
 */
const LOCK_NAME = 'inference-latency-lab:measurement';

/** Whether the browser can tell about the lab's other tabs. */
export function locksAvailable(): boolean {
  return typeof navigator !== 'undefined' && navigator.locks !== undefined;
}

/**
 * Runs `measure` holding the measurement lock. If another tab holds it, `onWait` is called and the measurement waits
 * for it (an abort of `signal` while waiting rejects with the signal's reason, nothing measured).
 */
export async function oneMeasurementAtATime<T>(
  measure: () => Promise<T>,
  onWait: () => void,
  signal?: AbortSignal,
): Promise<T> {
  if (!locksAvailable()) return measure();
  let result: { value: T } | null = null;
  await navigator.locks.request(LOCK_NAME, { ifAvailable: true }, async (lock) => {
    if (lock) result = { value: await measure() };
  });
  if (result) return (result as { value: T }).value;
  onWait();
  return navigator.locks.request(LOCK_NAME, signal ? { signal } : {}, () => measure());
}
