/**
 * A person's own model, picked or dropped on the page: one .onnx or .tflite file, or a TF.js model.json with its
 * weight shards. Checked here (signature, shards present and the right size) before it is offered to run; the bytes stay
 * in this tab (and in IndexedDB for resuming), never uploaded anywhere.
 */
import { errorMessage } from '../lib/errors.ts';
import type { ModelFile, ModelInfo } from '../lib/models/manifest.ts';
import { modelIdFrom, notAModel, ownModelInfo } from '../lib/models/model-signature.ts';
import { sha256Hex } from '../lib/sha256.ts';
import { checkShards, parseModelJson, readTfjsSignature } from '../lib/models/tfjs-signature.ts';
import { ModelFileError } from '../lib/models/model-file.ts';
import { readOnnxSignature } from '../lib/models/onnx-signature.ts';
import { readTfliteSignature } from '../lib/models/tflite-signature.ts';

export interface OwnModel {
  info: ModelInfo;
  /** Bytes by manifest path (own/<id>/<file name>). */
  files: Map<string, ArrayBuffer>;
}

async function describe(id: string, name: string, bytes: ArrayBuffer): Promise<ModelFile> {
  return { path: `own/${id}/${name}`, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
}

export async function loadOwnModel(picked: readonly File[], takenIds: ReadonlySet<string>): Promise<OwnModel> {
  if (picked.length === 0) throw new ModelFileError('no files were given');
  // A single-file model: ONNX or TFLite, told apart by the extension.
  const single = picked.filter((f) => /\.(onnx|tflite)$/i.test(f.name));
  const json = picked.filter((f) => /\.json$/i.test(f.name));
  if (single.length > 1 || (single.length === 1 && picked.length > 1)) {
    throw new ModelFileError(
      `give one .onnx or .tflite file on its own, or a model.json with its weight shards (got ${picked.map((f) => f.name).join(', ')})`,
    );
  }
  if (single.length === 1) return singleFileModel(single[0]!, takenIds);
  if (json.length !== 1) {
    throw new ModelFileError(
      `${picked.map((f) => f.name).join(', ')}: not a model (give an .onnx or .tflite file, or one TF.js model.json with its .bin weight shards)`,
    );
  }
  return tfjsModel(json[0]!, picked, takenIds);
}

/** The reader's message says what is wrong; the person needs to know which file. */
function named<T>(file: File, read: () => T): T {
  try {
    return read();
  } catch (e) {
    const why = errorMessage(e);
    // A reader that already names the file ("model.json is not JSON") is not prefixed with it again.
    throw new ModelFileError(why.startsWith(file.name) ? why : `${file.name}: ${why}`);
  }
}

async function singleFileModel(file: File, takenIds: ReadonlySet<string>): Promise<OwnModel> {
  const format = /\.tflite$/i.test(file.name) ? 'tflite' : 'onnx';
  const bytes = await file.arrayBuffer();
  const plainly = notAModel(file.name, new Uint8Array(bytes), format);
  if (plainly) throw new ModelFileError(plainly);
  const read = format === 'tflite' ? readTfliteSignature : readOnnxSignature;
  const signature = named(file, () => read(new Uint8Array(bytes)));
  const id = modelIdFrom(file.name, takenIds);
  const entry = await describe(id, file.name, bytes);
  return {
    info: ownModelInfo(id, file.name, signature, { format, entry, weights: [] }, file.name),
    files: new Map([[entry.path, bytes]]),
  };
}

/** A model.json and its shards (every other picked file), checked present and of the right size. */
async function tfjsModel(jsonFile: File, picked: readonly File[], takenIds: ReadonlySet<string>): Promise<OwnModel> {
  const entryBytes = await jsonFile.arrayBuffer();
  const plainly = notAModel(jsonFile.name, new Uint8Array(entryBytes), 'json');
  if (plainly) throw new ModelFileError(plainly);
  const modelJson = named(jsonFile, () => parseModelJson(new TextDecoder().decode(new Uint8Array(entryBytes))));
  const shards = picked.filter((f) => f !== jsonFile);
  checkShards(modelJson, new Map(shards.map((f) => [f.name, f.size])));
  const byName = new Map(shards.map((f) => [f.name, f]));
  // model.json says nothing about its name; a renamed one (mobilenet.json) does.
  const id = modelIdFrom(jsonFile.name === 'model.json' ? 'tfjs-model' : jsonFile.name, takenIds);
  const entry = await describe(id, jsonFile.name, entryBytes);
  const files = new Map<string, ArrayBuffer>([[entry.path, entryBytes]]);
  const weights: ModelFile[] = [];
  // Shards in the order model.json lists them: tfjs concatenates them in that order.
  for (const group of modelJson.weightsManifest ?? []) {
    for (const p of group.paths) {
      const f = byName.get(p.split('/').pop()!)!;
      const bytes = await f.arrayBuffer();
      const w = await describe(id, f.name, bytes);
      weights.push(w);
      files.set(w.path, bytes);
    }
  }
  const format = { format: modelJson.kind, entry, weights };
  const from = picked.map((f) => f.name).join(' + ');
  return { info: ownModelInfo(id, jsonFile.name, readTfjsSignature(modelJson), format, from), files };
}
