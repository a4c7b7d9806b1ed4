/**
 * The inputs a native reference cell is fed, made in a cell worker by the same code the browser cells run: pictures
 * through decode/resize/normalise (pass i shows pictures i x batch ...), every other input the seeded synthesis.
 * One set per pass of a picture cycle; one set when no input is a picture. Returned as wire tensors (base64), ready
 * for the CLI.
 */
import { pictureCycle } from '../lib/image-input.ts';
import type { HostTensor } from '../lib/inputs.ts';
import type { CellJob } from '../lib/job.ts';
import { modelInputs, type ModelFile } from '../lib/manifest.ts';
import { toWire, type WireTensor } from '../lib/native-wire.ts';
import { sha256Hex } from '../lib/sha256.ts';
import { imagePolicyIn, Preprocessor } from './preprocess.ts';

function base64(bytes: Uint8Array): string {
  let text = '';
  // In slices: String.fromCharCode with a whole tensor's bytes as arguments overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function fileBytes(job: CellJob, f: Pick<ModelFile, 'path' | 'bytes' | 'sha256'>): Promise<ArrayBuffer> {
  const buf = job.files?.[f.path] ?? (await (await fetch(new URL(f.path, job.modelsBaseUrl))).arrayBuffer());
  if (buf.byteLength !== f.bytes || (await sha256Hex(buf)) !== f.sha256) throw new Error(`picture ${f.path} does not match its recorded size and sha256`);
  return buf;
}

export async function nativeInputs(job: CellJob): Promise<WireTensor[][]> {
  const { model, cell } = job;
  const raw = modelInputs(model, cell.batch, cell.inputSeed, cell.inputOverrides);
  const pre = await Preprocessor.create(model.inputs, raw, (spec) => imagePolicyIn(job, spec), (f) => fileBytes(job, f));
  const sets: HostTensor[][] = [];
  if (!pre.hasImages) sets.push(raw);
  else for (let pass = 0; pass < pictureCycle(pre.pictures.length, cell.batch); pass++) sets.push((await pre.run(raw, pass)).inputs);
  return sets.map((set) => set.map((t) => toWire(t, base64)));
}
