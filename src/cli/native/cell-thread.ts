/**
 * One native reference cell in its own Node worker thread (as each browser cell has its own Web Worker): the
 * lab's own cell pipeline (src/worker/pipeline.ts, the same stages, timer guard and sampling steps) with
 * onnxruntime-node as its runtime and the page's input sets as its inputs. The CLI's main thread keeps serving the
 * browser while this thread times; the page drives the steps, so native blocks take turns with browser blocks.
 */
import { errorMessage } from '../../lib/errors.ts';
import { parentPort } from 'node:worker_threads';
import {
  fromWire,
  outcomeToWire,
  stepToWire,
  type NativeJob,
  type WireTensor,
} from '../../lib/contracts/native-wire.ts';
import type { FinishFacts } from '../../lib/contracts/job.ts';
import { CellRun } from '../../worker/pipeline.ts';
import { loadOrtNode, ortNodeAdapter } from './ort-node.ts';

export type ThreadRequest =
  | { id: number; op: 'prepare'; job: NativeJob; inputSets: WireTensor[][] }
  | { id: number; op: 'warmup' }
  | { id: number; op: 'sample'; count: number }
  | { id: number; op: 'finish'; facts: FinishFacts };
export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

const port = parentPort;
if (!port) throw new Error('cell-thread.ts runs as a worker thread');
let run: CellRun | null = null;

async function handle(req: ThreadRequest): Promise<unknown> {
  switch (req.op) {
    case 'prepare': {
      const unbase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
      const inputSets = req.inputSets.map((set) => set.map((t) => fromWire(t, unbase64)));
      const adapter = ortNodeAdapter(await loadOrtNode());
      // Samples come back with each step; nothing streams from here.
      run = new CellRun(req.job, () => undefined, undefined, { adapter, inputSets });
      return stepToWire(await run.prepare());
    }
    case 'warmup':
      return stepToWire(await current().warmup());
    case 'sample':
      return stepToWire(await current().sample(req.count));
    case 'finish': {
      const outcome = await current().finish(req.facts);
      run = null;
      return outcomeToWire(outcome);
    }
  }
}

function current(): CellRun {
  if (!run) throw new Error('no native cell is prepared in this thread');
  return run;
}

port.on('message', (req: ThreadRequest) => {
  handle(req).then(
    (value) => port.postMessage({ id: req.id, ok: true, value } satisfies ThreadReply),
    (e: unknown) =>
      port.postMessage({
        id: req.id,
        ok: false,
        error: errorMessage(e),
      } satisfies ThreadReply),
  );
});
