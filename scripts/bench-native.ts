/**
 * Does the lab's native reference add anything to what onnxruntime-node itself measures? For each model, in one
 * Node thread, alternating blocks: the lab's cell pipeline with the onnxruntime-node adapter (what a `--native`
 * cell runs), and a bare loop of the runtime's own API (make input tensors, session.run, read the outputs), each on
 * its own session of the same bytes, on the same seeded inputs, intra-op threads 1. Prints per model the medians
 * and lab work / bare with a bootstrap 95% CI (target ~1.00).
 *
 *   npm run bench:native [-- --models tiny-cnn,ocr-cls,mobilenet-v2 --rounds 30 --block 20]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrtNode, ortNodeAdapter } from '../src/cli/native/ort-node.ts';
import { ratioOfMedians } from '../src/lib/measure/compare.ts';
import { fmtMs, textTable } from '../src/lib/report/format.ts';
import type { HostTensor } from '../src/lib/models/inputs.ts';
import { modelInputs, parseManifest } from '../src/lib/models/manifest.ts';
import { buildPlan } from '../src/lib/plan/plan.ts';
import { median } from '../src/lib/measure/stats.ts';
import { CellRun } from '../src/worker/pipeline.ts';

const { values: v } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny-cnn,ocr-cls,mobilenet-v2' },
    rounds: { type: 'string', default: '30' },
    block: { type: 'string', default: '20' },
  },
});
const dist = resolve(join(import.meta.dirname, '..', 'dist'));
const manifest = parseManifest(JSON.parse(readFileSync(join(dist, 'models', 'manifest.json'), 'utf8')));
const ort = await loadOrtNode();
const rounds = Number(v.rounds);
const block = Number(v.block);
const rows: string[][] = [];

for (const id of v.models.split(',')) {
  const model = manifest.models.find((m) => m.id === id);
  const onnx = model?.formats.find((f) => f.format === 'onnx');
  if (!model || !onnx) throw new Error(`'${id}' is not a zoo model with an ONNX file`);
  const bytes = readFileSync(join(dist, 'models', onnx.entry.path));
  // Random values for every input: pictures need a browser to decode, and the model does not care.
  const values = Object.fromEntries(model.inputs.map((i) => [i.name, { values: { kind: 'random' as const } }]));
  const plan = buildPlan(
    {
      models: [id],
      targets: ['ort-node:cpu'],
      batches: [1],
      inputOverrides: { [id]: values },
      sampling: { mode: 'fixed', samples: rounds * block, warmup: 50, iterations: 1 },
    },
    manifest.models,
  );
  const cell = plan.cells[0]!;
  const raw: HostTensor[] = modelInputs(model, 1, cell.inputSeed, cell.inputOverrides);
  const job = {
    cell,
    model,
    sampling: plan.sampling,
    modelsBaseUrl: 'http://unused/',
    files: { [onnx.entry.path]: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
  };
  const lab = new CellRun(job, () => undefined, undefined, { adapter: ortNodeAdapter(ort), inputSets: [raw] });
  const prepared = await lab.prepare();
  if (!prepared.ok) throw new Error(`${id}: ${JSON.stringify(prepared.outcome.result)}`);
  const warm = await lab.warmup();
  if (!warm.ok) throw new Error(`${id}: warm-up failed`);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const bare: number[] = [];
  const barePass = async () => {
    const t = performance.now();
    const feeds = Object.fromEntries(raw.map((x) => [x.name, new ort.Tensor(x.dtype as 'float32', x.data, x.shape)]));
    const out = await session.run(feeds);
    for (const name of session.outputNames) void out[name]!.data;
    return performance.now() - t;
  };
  for (let i = 0; i < 50; i++) await barePass();
  const work: number[] = [];
  const total: number[] = [];
  process.stderr.write(`${id} ...\n`);
  for (let r = 0; r < rounds; r++) {
    // Which goes first alternates, so neither always follows the other.
    const labBlock = async () => {
      const step = await lab.sample(block);
      if (!step.ok) throw new Error(`${id}: sampling failed`);
      for (const s of step.value.samples) {
        work.push((s.upload ?? 0) + (s.inference ?? 0) + (s.readback ?? 0));
        total.push(s.total);
      }
    };
    const bareBlock = async () => {
      for (let i = 0; i < block; i++) bare.push(await barePass());
    };
    if (r % 2) await labBlock().then(bareBlock);
    else await bareBlock().then(labBlock);
  }
  await session.release();
  const ci = (c: ReturnType<typeof ratioOfMedians>) =>
    `${c.ratio.toFixed(3)} (${c.ci95[0].toFixed(3)}-${c.ci95[1].toFixed(3)})`;
  rows.push([
    id,
    String(bare.length),
    fmtMs(median(bare)),
    fmtMs(median(work)),
    fmtMs(median(total)),
    ci(ratioOfMedians(work, bare, 7)),
    ci(ratioOfMedians(total, bare, 7)),
  ]);
}
console.log(
  `\nNative reference vs a bare onnxruntime-node loop (${ort.env.versions?.node}), alternating blocks of ${block} in one thread, intra-op threads 1 (medians in ms)\n`,
);
console.log(
  textTable(
    ['model', 'n', 'bare', 'lab work', 'lab total', 'lab work / bare (95% CI)', 'lab total / bare (95% CI)'],
    rows,
  ),
);
console.log(
  '\nlab work = upload + inference + readback (as the browser tax counts it); lab total adds the input copy and postprocess.',
);
