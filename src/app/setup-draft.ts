/**
 * The setup on screen, kept in localStorage as it is edited, so a reload brings back the latest edits and not only
 * the setup of the last run (which a reload used to restore, dropping whatever was changed after it).
 */
import type { Setup } from '../lib/plan/setup-url.ts';

const KEY = 'inference-latency-lab:setup-draft';

export interface SetupDraft {
  setup: Setup;
  /** ISO time of the last edit: a run started after it made its setup the newer one. */
  savedAt: string;
}

export function saveSetupDraft(setup: Setup): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ setup, savedAt: new Date().toISOString() } satisfies SetupDraft));
  } catch {
    // Storage full or switched off: a reload falls back to the last run's setup, as before.
  }
}

export function loadSetupDraft(): SetupDraft | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const draft = JSON.parse(raw) as Partial<SetupDraft>;
    return draft.setup && typeof draft.savedAt === 'string' ? (draft as SetupDraft) : null;
  } catch {
    return null;
  }
}
