/** An error in words, for a message on screen or in a result: its message, or the value itself. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
