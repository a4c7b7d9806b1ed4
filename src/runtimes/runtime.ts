/**
 * One interface for every runtime. The worker's pipeline drives a session through the timing contract's
 * stages (upload -> inference -> readback) and never touches a runtime's own API; each adapter says in its
 * comments where its stage boundaries fall and why.
 */
import type { HostTensor } from '../lib/models/inputs.ts';
import type { TestFaults } from '../lib/contracts/job.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { BackendId, Cell, GpuBusy, ModelFormat, Proof, RuntimeId, StageNote } from '../lib/schema.ts';

/** A model's bytes, fetched (or received) by the worker before the session is created. */
export interface ModelBytes {
  format: ModelFormat;
  /** The .onnx file, or model.json for TF.js. */
  entry: ArrayBuffer;
  /** TF.js weight shards in manifest order; empty for ONNX. */
  weights: ArrayBuffer[];
}

/** The backend can't run here at all: the cell is `unsupported` (not an error) and costs no more time. */
export class BackendUnavailable extends Error {
  override name = 'BackendUnavailable';
}

/** The runtime runs something other than what was asked (tfjs can switch silently): the cell fails with this. */
export class BackendMismatch extends Error {
  override name = 'BackendMismatch';
}

export interface RuntimeSession<Uploaded = unknown, Outputs = unknown> {
  /**
   * Creates the runtime's input tensors from host data; on GPU backends resolves once they are on the device. A
   * runtime whose tensors are made at once returns them, not a promise: each await in a pass is a microtask turn
   * that an app calling the runtime directly doesn't take (on tiny-cnn, ~1 us of a 60 us pass).
   */
  upload(inputs: readonly HostTensor[]): Uploaded | Promise<Uploaded>;
  /** Runs the model; resolves only when the work is finished (not merely queued). */
  infer(inputs: Uploaded): Promise<Outputs>;
  /** Copies outputs into host memory, in the order of the model's declared outputs (at once where they are there). */
  readback(outputs: Outputs): HostTensor[] | Promise<HostTensor[]>;
  /** Frees one sample's tensors; called outside the timed stages. */
  release(inputs: Uploaded, outputs: Outputs): void;
  /**
   * What actually ran, read back from the runtime after sampling. `inputs` (the cell's own) are for a runtime that
   * must run the model once more to be read (ORT's profile); never called inside a timed pass.
   */
  proof(inputs: readonly HostTensor[]): Promise<Proof>;
  /** Stages this backend cannot separate: their time is counted in the stage named and the stage reads null. */
  readonly stageNotes: readonly StageNote[];
  /**
   * Device busy time over extra passes (run after sampling, since timer queries cost time), or the reason the
   * platform can't give it.
   */
  measureGpuBusy(inputs: readonly HostTensor[], passes: number): Promise<GpuBusy | string>;
  dispose(): Promise<void>;
  /** Test hook (device-loss fault tests): destroys the GPU device this session runs on. GPU sessions only. */
  loseDevice?(): void;
}

/** tfjs's own tensor bookkeeping, for leak checks. */
export interface TensorCount {
  tensors: number;
  bytes: number;
}

/**
 * The overhead benchmark's baseline: the same model run by the runtime's own API in the plainest loop an app
 * would write (make input tensors, run, read outputs to CPU), with no lab pipeline around it.
 */
export interface BareRunner {
  pass(inputs: readonly HostTensor[]): Promise<void>;
  dispose(): Promise<void>;
}

export interface RuntimeAdapter {
  readonly id: RuntimeId;
  readonly version: string;
  /**
   * Initialises the backend (wasm compile, setBackend). Throws BackendUnavailable or BackendMismatch. `faults`:
   * test-only injections (a forced fallback), never set in normal runs.
   */
  init(backend: BackendId, cell: Cell, faults?: TestFaults): Promise<void>;
  createSession(model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<RuntimeSession>;
  /** Live tensors, where the runtime counts them (tfjs); null elsewhere. */
  tensorCount?(): TensorCount | null;
  /** A bare loop over a second copy of the model (CPU backends; for the overhead benchmark). */
  createBare?(model: ModelInfo, bytes: ModelBytes, cell: Cell): Promise<BareRunner>;
  /** Size of the runtime's wasm memory, where reachable. */
  wasmHeapBytes(): number | null;
}
