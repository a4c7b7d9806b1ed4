/**
 * The inputs a native reference cell is fed, made in a cell worker by the same code the browser cells run: pictures
 * through decode/resize/normalise (pass i shows pictures i x batch ...), every other input the seeded synthesis.
 * One set per pass of a picture cycle; one set when no input is a picture. Returned as wire tensors (base64), ready
 * for the CLI.
 */
import { pictureCycle } from '../lib/models/image-input.ts';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { CellJob } from '../lib/contracts/job.ts';
import { modelInputs } from '../lib/models/manifest.ts';
import { toWire, type WireTensor } from '../lib/contracts/native-wire.ts';
import { toBase64 } from '../lib/base64.ts';
import { checkSha, getFile } from './cell-io.ts';
import { imagePolicyIn, Preprocessor } from './preprocess.ts';

export async function nativeInputs(job: CellJob): Promise<WireTensor[][]> {
  const { model, cell } = job;
  const raw = modelInputs(model, cell.batch, cell.inputSeed, cell.inputOverrides);
  const pre = await Preprocessor.create(
    model.inputs,
    raw,
    (spec) => imagePolicyIn(job, spec),
    async (f) => checkSha(await getFile(job, f), f, `picture ${f.name} (${f.path})`),
  );
  const sets: HostTensor[][] = [];
  if (!pre.hasImages) sets.push(raw);
  else
    for (let pass = 0; pass < pictureCycle(pre.pictures.length, cell.batch); pass++)
      sets.push((await pre.run(raw, pass)).inputs);
  return sets.map((set) => set.map((t) => toWire(t, toBase64)));
}
