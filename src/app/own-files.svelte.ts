/**
 * The person's own files in the setup: models and pictures. Both are kept in IndexedDB (by content hash) when
 * added, the one place they are stored: a reload, a resume and a serving run read them back from there.
 */
import { errorMessage } from '../lib/errors.ts';
import { cellImages, type ModelInfo } from '../lib/models/manifest.ts';
import type { ImageFile, Plan } from '../lib/schema.ts';
import { sha256Hex } from '../lib/sha256.ts';
import { loadOwnModel, type OwnModel } from './own-model.ts';
import { runStore, type StoredRun } from './store.ts';

/** An own model with its files read back from IndexedDB, or null when any file is no longer stored. */
export async function loadStoredModel(info: ModelInfo): Promise<OwnModel | null> {
  const files = new Map<string, ArrayBuffer>();
  for (const f of info.formats.flatMap((x) => [x.entry, ...x.weights])) {
    const bytes = await runStore.getFile(f.sha256).catch(() => null);
    if (!bytes) return null;
    files.set(f.path, bytes);
  }
  return { info, files };
}

export class OwnFiles {
  models = $state.raw<OwnModel[]>([]);
  modelError = $state<string | null>(null);
  /** Bytes of the person's own pictures, by the path their image policies name (`own-images/<sha>/<name>`). */
  pictures = $state.raw<Map<string, ArrayBuffer>>(new Map());
  pictureError = $state<string | null>(null);

  /**
   * Reads a model's files (ids in `taken` are renamed); the new model, or null with `modelError` set. `added` runs
   * as soon as it is in the list (the page selects it), before it is kept in IndexedDB.
   */
  async addModel(files: readonly File[], taken: Set<string>, added: (own: OwnModel) => void): Promise<void> {
    this.modelError = null;
    let own: OwnModel;
    try {
      own = await loadOwnModel(files, taken);
    } catch (e) {
      this.modelError = errorMessage(e);
      return;
    }
    this.models = [...this.models, own];
    added(own);
    await this.keep(own);
  }

  /** Marks a symbolic dim of an own model as following the batch size (or not), and keeps that. */
  setBatchFollower(modelId: string, dim: string, follows: boolean): void {
    this.models = this.models.map((o) => {
      if (o.info.id !== modelId) return o;
      const rest = o.info.batchFollowers.filter((d) => d !== dim);
      return { ...o, info: { ...o.info, batchFollowers: follows ? [...rest, dim] : rest } };
    });
    void this.keep();
  }

  /** The models kept from an earlier visit whose files are all still stored (zoo ids skipped); a damaged record's reason. */
  async restore(zooIds: Set<string>): Promise<string | null> {
    const kept = await runStore.getOwnModels().catch(() => ({ models: [], broken: null }));
    for (const info of kept.models) {
      if (this.models.some((o) => o.info.id === info.id) || zooIds.has(info.id)) continue;
      const own = await loadStoredModel(info);
      if (own) this.models = [...this.models, own];
    }
    return kept.broken;
  }

  /** A stored run's own models and pictures back in the setup; what is no longer stored, in words. */
  async restoreFrom(run: StoredRun, pictureFiles: ImageFile[]): Promise<string[]> {
    const missing: string[] = [];
    for (const info of run.ownModels) {
      if (this.models.some((o) => o.info.id === info.id)) continue;
      const own = await loadStoredModel(info);
      if (own) this.models = [...this.models, own];
      else missing.push(`your model '${info.id}' (its files are no longer stored: add it again)`);
    }
    const pictures = new Map(this.pictures);
    for (const f of pictureFiles) {
      if (!f.path.startsWith('own-images/') || pictures.has(f.path)) continue;
      const bytes = await runStore.getFile(f.sha256).catch(() => null);
      if (bytes) pictures.set(f.path, bytes);
      else missing.push(`your picture ${f.name}`);
    }
    this.pictures = pictures;
    return missing;
  }

  /** The person's pictures: read, checked to be pictures by type, and named by content; null with `pictureError`. */
  async addPictures(files: readonly File[]): Promise<ImageFile[] | null> {
    this.pictureError = null;
    const bad = files.filter((f) => f.type && !f.type.startsWith('image/'));
    if (bad.length) {
      this.pictureError = `not pictures: ${bad.map((f) => `${f.name} (${f.type})`).join(', ')}`;
      return null;
    }
    const bytes = new Map(this.pictures);
    const images: ImageFile[] = [];
    for (const f of files) {
      const buf = await f.arrayBuffer();
      if (buf.byteLength === 0) {
        this.pictureError = `${f.name} is empty`;
        return null;
      }
      const sha256 = await sha256Hex(buf);
      const path = `own-images/${sha256.slice(0, 16)}/${encodeURIComponent(f.name)}`;
      bytes.set(path, buf);
      images.push({ name: f.name, path, bytes: buf.byteLength, sha256 });
    }
    this.pictures = bytes;
    return images;
  }

  /** The own models among a plan's models (stored with the run, so it can be shown and resumed after a reload). */
  modelsIn(plan: Plan): ModelInfo[] {
    return this.models.filter((o) => plan.cells.some((c) => c.modelId === o.info.id)).map((o) => o.info);
  }

  /**
   * The files a plan's cells need (own model files, own pictures), by the path the worker asks for. The pictures
   * are kept in IndexedDB here so a resume after a reload finds them.
   */
  async filesFor(plan: Plan, models: readonly ModelInfo[]): Promise<Map<string, ArrayBuffer>> {
    const own = this.models.filter((o) => plan.cells.some((c) => c.modelId === o.info.id));
    const pictures = new Map(
      plan.cells
        .flatMap((c) => {
          const model = models.find((m) => m.id === c.modelId);
          return model ? cellImages(model, c) : [];
        })
        .filter((f) => this.pictures.has(f.path))
        .map((f) => [f.path, f] as const),
    );
    for (const f of pictures.values())
      await runStore.putFile(f.sha256, this.pictures.get(f.path)!).catch(() => undefined);
    return new Map([
      ...own.flatMap((o) => [...o.files]),
      ...[...pictures.keys()].map((p) => [p, this.pictures.get(p)!] as const),
    ]);
  }

  /** Keeps the list of own models (and an added one's files) in IndexedDB, so a reload brings them back. */
  private async keep(added?: OwnModel): Promise<void> {
    try {
      for (const [path, bytes] of added?.files ?? []) await runStore.putFile(shaOf(added!.info, path), bytes);
      await runStore.putOwnModels(this.models.map((o) => o.info));
    } catch {
      // No IndexedDB (private mode, quota): the model still works in this tab, it just won't survive a reload.
    }
  }
}

/** The sha256 a model's file is stored under in IndexedDB. */
function shaOf(info: ModelInfo, path: string): string {
  return info.formats.flatMap((f) => [f.entry, ...f.weights]).find((f) => f.path === path)!.sha256;
}
