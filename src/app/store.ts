/**
 * Runs kept in IndexedDB (through idb): each finished cell is written as it completes, so a reload loses nothing
 * and the unfinished cells can be resumed. A person's own model files are kept beside the runs that used them
 * (they never leave the device). Every record is validated when read back, like any result file.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ParityData } from '../lib/report/parity.ts';
import { ModelInfo } from '../lib/models/manifest.ts';
import { errorLine } from '../lib/errors.ts';
import {
  CellResult,
  Environment,
  Plan,
  parseRunResult,
  parseWith,
  ValuePolicy,
  type RunResult,
} from '../lib/schema.ts';
import { z } from 'zod';

export type RunStatus = 'running' | 'done' | 'cancelled';

export interface StoredRun {
  id: string;
  createdAt: string;
  /** 'running' read back after a reload means the page went away mid-run: its unfinished cells can resume. */
  status: RunStatus;
  plan: Plan;
  environment: Environment;
  /** The person's own models the plan uses (their files are in the files store). */
  ownModels: ModelInfo[];
  cells: CellResult[];
  /** Output prefixes per finished ok cell, so parity still works across a resume. */
  parity: Record<string, ParityData[]>;
  /** The final, validated result once the run is done. */
  result: RunResult | null;
  /**
   * The setup on screen when the run started, as its link text (the link's own validation reads it back), and its
   * value policies in full (own pictures don't travel in a link): a reload shows the setup behind the results.
   */
  setupLink?: string;
  setupValues?: Record<string, ValuePolicy>;
}

interface LabDb extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { createdAt: string } };
  files: { key: string; value: { key: string; bytes: ArrayBuffer } };
  /** The setup's own models (their files are in `files`), so a reload brings back models added but not yet run. */
  setup: { key: string; value: { key: string; ownModels: ModelInfo[] } };
}

const Stored = z.object({
  id: z.string(),
  createdAt: z.string(),
  status: z.enum(['running', 'done', 'cancelled']),
  plan: Plan,
  environment: Environment,
  ownModels: z.array(ModelInfo),
  cells: z.array(CellResult),
  parity: z.record(z.string(), z.array(z.any())),
  result: z.any(),
  setupLink: z.string().optional(),
  setupValues: z.record(z.string(), ValuePolicy).optional(),
});

let db: Promise<IDBPDatabase<LabDb>> | null = null;

function open(): Promise<IDBPDatabase<LabDb>> {
  db ??= openDB<LabDb>('inference-latency-lab', 2, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        d.createObjectStore('runs', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
        d.createObjectStore('files', { keyPath: 'key' });
      }
      if (oldVersion < 2) d.createObjectStore('setup', { keyPath: 'key' });
    },
  });
  return db;
}

/** A stored record read back: validated, so a damaged or older record is reported, not half-shown. */
function check(raw: StoredRun): StoredRun {
  const r = parseWith(Stored, `stored run ${raw?.id ?? '?'}`, raw) as StoredRun;
  if (r.result) r.result = parseRunResult(r.result);
  return r;
}

export const runStore = {
  async put(run: StoredRun): Promise<void> {
    await (await open()).put('runs', run);
  },
  async get(id: string): Promise<StoredRun | null> {
    const raw = await (await open()).get('runs', id);
    return raw ? check(raw) : null;
  },
  /** Newest first; records that fail validation are listed in `broken` instead of thrown. */
  async list(): Promise<{ runs: StoredRun[]; broken: string[] }> {
    const all = await (await open()).getAllFromIndex('runs', 'createdAt');
    const runs: StoredRun[] = [];
    const broken: string[] = [];
    for (const raw of all.reverse()) {
      try {
        runs.push(check(raw));
      } catch (e) {
        broken.push(errorLine(e));
      }
    }
    return { runs, broken };
  },
  async delete(id: string): Promise<void> {
    const d = await open();
    const run = await d.get('runs', id);
    await d.delete('runs', id);
    // Files go with the last run that used them, unless the setup still holds their model.
    const rest = await d.getAll('runs');
    const inSetup = (await d.get('setup', OWN_MODELS))?.ownModels ?? [];
    const keep = new Set(
      [...rest.flatMap((r) => r.ownModels), ...inSetup].flatMap((m) =>
        m.formats.flatMap((f) => [f.entry, ...f.weights].map((x) => x.sha256)),
      ),
    );
    for (const m of run?.ownModels ?? [])
      for (const f of m.formats)
        for (const x of [f.entry, ...f.weights]) if (!keep.has(x.sha256)) await d.delete('files', x.sha256);
  },
  async putFile(sha256: string, bytes: ArrayBuffer): Promise<void> {
    await (await open()).put('files', { key: sha256, bytes });
  },
  async getFile(sha256: string): Promise<ArrayBuffer | null> {
    return (await (await open()).get('files', sha256))?.bytes ?? null;
  },
  /** The own models in the setup now (files put apart with putFile). */
  async putOwnModels(models: readonly ModelInfo[]): Promise<void> {
    await (await open()).put('setup', { key: OWN_MODELS, ownModels: [...models] });
  },
  /** The setup's own models as last put; a damaged record reads as none, with the reason. */
  async getOwnModels(): Promise<{ models: ModelInfo[]; broken: string | null }> {
    const raw = await (await open()).get('setup', OWN_MODELS);
    try {
      return { models: raw ? parseWith(z.array(ModelInfo), 'stored own models', raw.ownModels) : [], broken: null };
    } catch (e) {
      return { models: [], broken: errorLine(e) };
    }
  },
};

const OWN_MODELS = 'own-models';
