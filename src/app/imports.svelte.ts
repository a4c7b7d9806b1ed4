/**
 * Result files brought into the page to compare (Import and compare): the runs, by name, the first one the
 * baseline; files that don't load are listed with the reason, and the rest still load.
 */
import { errorMessage } from '../lib/errors.ts';
import { parseResultFile, type RunResult } from '../lib/schema.ts';

export interface ImportedRun {
  name: string;
  run: RunResult;
}

export class ImportState {
  imported = $state.raw<ImportedRun[]>([]);
  importErrors = $state<string[]>([]);

  /** `onScreen`: the run the page shows now, which "add the run on screen" adds. */
  constructor(private readonly onScreen: () => RunResult | null) {}

  async importFiles(files: readonly File[]): Promise<void> {
    const errors: string[] = [];
    const added: ImportedRun[] = [];
    for (const f of files) {
      try {
        const runs = parseResultFile(JSON.parse(await f.text()));
        runs.forEach((run, i) =>
          added.push({ name: runs.length > 1 ? `${f.name} [${run.device ?? i}]` : f.name, run }),
        );
      } catch (e) {
        errors.push(`${f.name}: ${errorMessage(e)}`);
      }
    }
    this.imported = [...this.imported, ...added];
    this.importErrors = errors;
  }

  /** Adds the run on screen to the comparison. */
  compareCurrent(): void {
    const run = this.onScreen();
    if (run)
      this.imported = [...this.imported, { name: `this page, ${new Date(run.createdAt).toLocaleString()}`, run }];
  }

  removeImport(index: number): void {
    this.imported = this.imported.filter((_, i) => i !== index);
  }
}
