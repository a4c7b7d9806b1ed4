/**
 * The CLI side of native reference cells: answers the page's requests (through the function the driver exposes as
 * NATIVE_BINDING) by running each native cell in its own worker thread, started on `open` and ended on `close`
 * or when the run ends. The page owns the schedule, the cell timeout and the sampling decisions, as it does for
 * browser cells; this only carries steps.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { NativeReplies, NativeRequest } from '../../lib/contracts/native-wire.ts';
import type { ThreadReply, ThreadRequest } from './cell-thread.ts';
import { loadOrtNode } from './ort-node.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type ThreadRequestBody = ThreadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

const ENTRY = fileURLToPath(new URL('../../../bin/native-cell.js', import.meta.url));

class CellThread {
  private readonly worker = new Worker(ENTRY);
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | null = null;

  constructor() {
    const die = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('message', (m: ThreadReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    this.worker.on('error', (e) => die(new Error(`native cell thread crashed: ${e.message}`)));
    this.worker.on('exit', (code) => die(new Error(`native cell thread exited (code ${code})`)));
  }

  call(req: ThreadRequestBody): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  async close(): Promise<void> {
    this.dead ??= new Error('closed');
    await this.worker.terminate();
  }
}

export class NativeHost {
  private readonly threads = new Map<number, CellThread>();
  private nextHandle = 1;

  /** Checks that onnxruntime-node loads here (a usage error before any browser starts, if it doesn't). */
  static async check(): Promise<void> {
    await loadOrtNode();
  }

  /** One request from the page. Errors travel back as rejections: the page ends the cell with them. */
  async handle(req: NativeRequest): Promise<NativeReplies[keyof NativeReplies]> {
    if (req.op === 'open') {
      const handle = this.nextHandle++;
      const thread = new CellThread();
      this.threads.set(handle, thread);
      // The inputs travel once, with the job; every later step is a few numbers.
      const prepared = (await thread.call({
        op: 'prepare',
        job: req.job,
        inputSets: req.inputSets,
      })) as NativeReplies['open']['prepared'];
      return { handle, prepared };
    }
    const thread = this.threads.get(req.handle);
    if (!thread) throw new Error(`no native cell ${req.handle} (closed, or never opened)`);
    switch (req.op) {
      case 'warmup':
        return (await thread.call({ op: 'warmup' })) as NativeReplies['warmup'];
      case 'sample':
        return (await thread.call({ op: 'sample', count: req.count })) as NativeReplies['sample'];
      case 'finish':
        return (await thread.call({ op: 'finish', facts: req.facts })) as NativeReplies['finish'];
      case 'close':
        this.threads.delete(req.handle);
        await thread.close();
        return null;
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.threads.values()].map((t) => t.close()));
    this.threads.clear();
  }
}
