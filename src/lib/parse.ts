/**
 * Parsers shared by the page, its setup links and the CLI, so "1, 4, 16" means the same everywhere and a typo is
 * an error that names the bad part, never a silent drop.
 */

/** The result of reading a list of counts: the values, or the first part that isn't one (null: the list is empty). */
export type CountList = { ok: true; values: number[] } | { ok: false; bad: string | null };

/** Whole numbers of at least 1, separated by commas and/or spaces ("1, 4, 16", "1,4,16", "1 4 16"). */
export function parseCountList(text: string): CountList {
  const parts = text.split(/[,\s]+/).filter(Boolean);
  if (!parts.length) return { ok: false, bad: null };
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1) return { ok: false, bad: p };
  }
  return { ok: true, values: parts.map(Number) };
}
