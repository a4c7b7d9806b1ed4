/**
 * The runs kept in this browser (IndexedDB), newest first: cell runs and serving runs side by side. Records that
 * fail validation are named, not half-shown. The serving result on show lives here too: it is picked from the
 * history as often as it is run.
 */
import { errorMessage } from '../lib/errors.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { RunResult } from '../lib/schema.ts';
import { runStore, type StoredRun } from './store.ts';

export class HistoryState {
  runs = $state.raw<StoredRun[]>([]);
  errors = $state<string[]>([]);
  /** The serving or monitor result on show in the serving panel (the last one run, or one picked from the history). */
  servingResult = $state.raw<RunResult | null>(null);

  async refresh(): Promise<void> {
    try {
      const { runs, broken } = await runStore.list();
      this.runs = runs;
      this.errors = broken;
    } catch (e) {
      this.errors = [`IndexedDB is not available here: ${errorMessage(e)}`];
    }
  }

  /** A stored run read back, or null (with the reason shown). */
  async get(id: string): Promise<StoredRun | null> {
    return runStore.get(id).catch((e: unknown) => {
      this.errors = [errorMessage(e)];
      return null;
    });
  }

  /** A finished serving or monitor run, kept beside the cell runs; `ownModels`: the own models it ran. */
  async keepServingRun(result: RunResult, ownModels: ModelInfo[]): Promise<void> {
    const stored: StoredRun = {
      id: `serving-${result.createdAt}`,
      createdAt: result.createdAt,
      status: 'done',
      plan: result.plan,
      environment: result.environment,
      ownModels,
      cells: [],
      parity: {},
      result,
    };
    try {
      await runStore.put(stored);
    } catch (e) {
      this.errors = [`the serving run was not kept: ${errorMessage(e)}`];
    }
    await this.refresh();
  }

  /** Deletes a run (and the files only it used); a deleted serving run leaves the serving panel. */
  async remove(id: string): Promise<void> {
    const gone = this.runs.find((h) => h.id === id);
    await runStore.delete(id);
    if (gone?.result?.serving && gone.result.createdAt === this.servingResult?.createdAt) this.servingResult = null;
    await this.refresh();
  }
}
