/**
 * Native reference cells on the page's side. The CLI (`latency-lab run --native`) exposes NATIVE_BINDING on the
 * page; a native cell is driven through it by the same CellDriver as a browser cell (timeout, abort, samples kept),
 * so it takes turns with browser cells in one interleaved schedule. Its inputs are made first in a cell worker, by
 * the code the browser cells run (pictures decoded, resized and normalised in this browser), and sent once: the
 * native runtime is fed the very bytes the browser cells are fed.
 */
import { NATIVE_BINDING, type CellEvent, type CellJob } from '../lib/contracts/job.ts';
import { outcomeFromWire, stepFromWire, type NativeReplies, type NativeRequest } from '../lib/contracts/native-wire.ts';
import { startCellWorker, withWorker, type CellChannel, type CellSteps } from './worker-bridge.ts';

type Binding = (req: NativeRequest) => Promise<NativeReplies[keyof NativeReplies]>;

function call<K extends keyof NativeReplies>(req: NativeRequest & { op: K }): Promise<NativeReplies[K]> {
  const fn = (globalThis as unknown as Record<string, unknown>)[NATIVE_BINDING];
  if (typeof fn !== 'function')
    return Promise.reject(
      new Error('no native host: native reference cells run from the CLI (latency-lab run --native)'),
    );
  return (fn as Binding)(req) as Promise<NativeReplies[K]>;
}

/** The input sets, made in a throwaway cell worker (pictures need createImageBitmap and OffscreenCanvas). */
function inputSets(job: CellJob) {
  return withWorker(startCellWorker(), (api) => api.nativeInputs(job));
}

/** A native cell's channel: its steps go to the CLI, which runs them in a Node worker thread. */
export function nativeChannel(job: CellJob): CellChannel {
  let handle: number | null = null;
  let received = 0;
  let emit: (e: CellEvent) => void = () => undefined;
  const steps = {
    async prepare(_job: CellJob, onEvent: (e: CellEvent) => void) {
      emit = onEvent;
      emit({ type: 'phase', phase: 'init' });
      const { files: _files, ...rest } = job;
      const opened = await call({ op: 'open', job: rest, inputSets: await inputSets(job) });
      handle = opened.handle;
      return stepFromWire(opened.prepared);
    },
    async warmup() {
      return stepFromWire(await call({ op: 'warmup', handle: handle! }));
    },
    async sample(count: number) {
      const step = stepFromWire(await call({ op: 'sample', handle: handle!, count }));
      if (step.ok) {
        // As a worker streams them: progress, and the samples kept if the cell fails later.
        emit({ type: 'samples', from: received, samples: step.value.samples });
        received += step.value.samples.length;
      }
      return step;
    },
    async finish(facts) {
      return outcomeFromWire(await call({ op: 'finish', handle: handle!, facts }));
    },
  } as CellSteps;
  return {
    steps,
    onError: () => undefined, // a dead thread rejects the step waiting on it: the driver ends the cell with that
    terminate: () => {
      if (handle !== null) void call({ op: 'close', handle }).catch(() => undefined);
      handle = null;
    },
  };
}
