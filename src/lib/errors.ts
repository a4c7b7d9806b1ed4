/**
 * An error in words, for a message on screen or in a result: its message (its name when the message is empty), a
 * thrown string as it is, anything else as JSON where it has a form (a worker may post a plain object).
 */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** The first line of errorMessage: a browser's or a tool's error may carry a call log under its first line. */
export function errorLine(e: unknown): string {
  return errorMessage(e).split('\n')[0]!;
}
