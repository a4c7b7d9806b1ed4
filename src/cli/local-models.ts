/**
 * A person's own models named on the command line (`--models ./net.onnx,./tfjs-model/,./net.tflite`): read and checked here,
 * before any browser starts, then served beside the build under /__local/<id>/ and described to the page as
 * ModelInfo entries. A path that doesn't exist or isn't a model is an error that names it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ModelFile, ModelInfo } from '../lib/models/manifest.ts';
import { modelIdFrom, notAModel, ownModelInfo } from '../lib/models/model-signature.ts';
import { checkShards, expectedShards, parseModelJson, readTfjsSignature } from '../lib/models/tfjs-signature.ts';
import { ModelFileError } from '../lib/models/model-file.ts';
import { readOnnxSignature } from '../lib/models/onnx-signature.ts';
import { readTfliteSignature } from '../lib/models/tflite-signature.ts';

export interface LocalModels {
  models: ModelInfo[];
  /** URL path -> file on disk, for the static server. */
  files: Map<string, string>;
}

/** An argument is a local path (not a zoo id) when it looks like one. */
export function isLocalPath(arg: string): boolean {
  return /[/\\]/.test(arg) || /\.(onnx|json|tflite)$/i.test(arg);
}

function describeFile(urlBase: string, file: string): ModelFile & { file: string } {
  const bytes = readFileSync(file);
  // Paths in a manifest are relative to the models folder; local files live beside it, under /__local/.
  return {
    path: `../__local/${urlBase}/${encodeURIComponent(basename(file))}`,
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    file,
  };
}

export function loadLocalModels(paths: readonly string[], takenIds: ReadonlySet<string>): LocalModels {
  const taken = new Set(takenIds);
  const out: LocalModels = { models: [], files: new Map() };
  for (const arg of paths) {
    const entry = entryFile(arg);
    const isJson = entry.toLowerCase().endsWith('.json');
    const kind = isJson ? 'json' : entry.toLowerCase().endsWith('.tflite') ? 'tflite' : 'onnx';
    const plainly = notAModel(basename(entry), readFileSync(entry), kind);
    if (plainly) throw new ModelFileError(`${arg}: ${plainly}`);
    const id = modelIdFrom(isJson ? basename(dirname(entry)) : basename(entry), taken);
    taken.add(id);
    try {
      out.models.push(
        kind === 'json' ? tfjsModel(arg, id, entry, out.files) : singleFileModel(arg, id, entry, kind, out.files),
      );
    } catch (e) {
      if (e instanceof ModelFileError) throw new ModelFileError(`${arg}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/** The model file a path names: the file itself, or a folder's model.json or only .onnx (or .tflite) file. */
function entryFile(arg: string): string {
  const abs = resolve(arg);
  if (!existsSync(abs)) throw new ModelFileError(`model path '${arg}' does not exist`);
  if (!statSync(abs).isDirectory()) return abs;
  const names = readdirSync(abs);
  const single = names.filter((n) => /\.(onnx|tflite)$/i.test(n));
  if (names.includes('model.json')) return join(abs, 'model.json');
  if (single.length === 1) return join(abs, single[0]!);
  throw new ModelFileError(
    `folder '${arg}' holds no model.json and ${single.length ? 'several' : 'no'} .onnx or .tflite file(s): name the model file`,
  );
}

const strip = ({ file: _f, ...rest }: ModelFile & { file: string }): ModelFile => rest;

/** A TF.js model.json with its shards (all present, each its size); its files served under /__local/<id>/. */
function tfjsModel(arg: string, id: string, entry: string, files: LocalModels['files']): ModelInfo {
  const json = parseModelJson(readFileSync(entry, 'utf8'));
  const shards = expectedShards(json).map((s) => join(dirname(entry), s.path));
  const missing = shards.filter((s) => !existsSync(s));
  if (missing.length)
    throw new ModelFileError(
      `model.json names weight shard(s) that are not there: ${missing.map((m) => basename(m)).join(', ')}`,
    );
  checkShards(json, new Map(shards.map((s) => [basename(s), statSync(s).size])));
  const main = describeFile(id, entry);
  const weights = shards.map((s) => describeFile(id, s));
  for (const f of [main, ...weights]) files.set(`/__local/${id}/${basename(f.file)}`, f.file);
  const format = { format: json.kind, entry: strip(main), weights: weights.map(strip) };
  return ownModelInfo(id, basename(dirname(entry)), readTfjsSignature(json), format, arg);
}

/** An ONNX or TFLite file; served under /__local/<id>/. */
function singleFileModel(
  arg: string,
  id: string,
  entry: string,
  format: 'onnx' | 'tflite',
  files: LocalModels['files'],
): ModelInfo {
  const main = describeFile(id, entry);
  const signature = (format === 'tflite' ? readTfliteSignature : readOnnxSignature)(readFileSync(entry));
  files.set(`/__local/${id}/${basename(entry)}`, entry);
  return ownModelInfo(id, basename(entry), signature, { format, entry: strip(main), weights: [] }, arg);
}
