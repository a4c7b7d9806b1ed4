/**
 * The page's automation API (`window.latencyLab`): a contract between the page (src/app/automation.ts implements it)
 * and whoever drives it (the CLI through Playwright, the benchmark scripts, a person's own scripts). It lives in
 * src/lib so the drivers depend on the contract, not on the page's code.
 */
import type { CellEvent, TestFaults } from './job.ts';
import type { ModelInfo, Manifest } from '../models/manifest.ts';
import type { PlanRequest } from '../plan/plan.ts';
import type { VariantFiles } from '../models/variants/variant-file.ts';
import type { CellResult, ColdStart, Environment, Plan, RunResult, ValuePolicy } from '../schema.ts';
import type { MonitorConfig, ServingConfig } from '../serving/config.ts';

/** ORT webgpu three ways, per round (src/worker/bench-gpu-sync.ts). */
export interface GpuSyncRounds {
  labUpload: number[];
  labInference: number[];
  labReadback: number[];
  plain: number[];
  unsynced: number[];
  /** The ORT build all three ran on (one build, one GPUDevice). */
  build: string;
}

/** The lab's pipeline against a bare runtime loop, per pass (src/worker/bench-overhead.ts). */
export interface OverheadRounds {
  /** Lab total per pass (preprocess + upload + inference + readback + postprocess). */
  lab: number[];
  /** Lab upload + inference + readback: the same work the bare loop does (no app-side pre/postprocess). */
  labWork: number[];
  bare: number[];
  /**
   * The bare loop fed a fresh copy of its inputs each pass (copied before its clock starts), as the lab's
   * preprocess and an app with new data each inference do: what fresh buffers cost the runtime (allocation, cache).
   */
  bareFresh: number[];
}

export interface AutomationRunOptions {
  browserFlags?: string[];
  source?: RunResult['source'];
  /** The plan, and the environment it runs in, before the first cell (a driver can then keep finished cells if the run dies). */
  onPlan?: (plan: Plan, environment: Environment) => void;
  onCellStart?: (index: number, total: number, cellId: string) => void;
  onCellEvent?: (index: number, event: CellEvent) => void;
  onCellDone?: (index: number, result: CellResult) => void;
  /** Models beyond the zoo (a person's own), their files reachable from the models folder's URL. */
  extraModels?: ModelInfo[];
  /** Model variants made by the driver (the CLI, in Node) and reachable from the models folder's URL. */
  variantFiles?: VariantFiles;
  /** Test-only fault injection (tests/e2e/faults.e2e.ts). */
  faults?: TestFaults;
}

export interface LatencyLabApi {
  version: string;
  manifest(): Promise<Manifest>;
  environment(browserFlags?: string[]): Promise<Environment>;
  /** Builds the plan from the request (throws PlanError with the bad value named) and runs it. */
  run(request: PlanRequest, options?: AutomationRunOptions): Promise<RunResult>;
  /** Interleaved rounds of ORT webgpu run three ways (see src/worker/bench-gpu-sync.ts). */
  benchGpuSync(modelId: string, batch: number, rounds: number): Promise<GpuSyncRounds>;
  /** Serving simulator: offered-load sweep with dynamic batching and worker pools, then capacity under a budget. */
  serve(
    config: ServingConfig,
    options?: { onStatus?: (text: string) => void; source?: RunResult['source'] },
  ): Promise<RunResult>;
  /** Monitor mode: steady cadence, rolling windows, drift and memory. */
  monitor(
    config: MonitorConfig,
    options?: { onStatus?: (text: string) => void; source?: RunResult['source'] },
  ): Promise<RunResult>;
  /** Lab pipeline against a bare runtime loop, alternating blocks (see src/worker/bench-overhead.ts). */
  /** `values`: value policies by input name (e.g. random values instead of pictures), for both loops. */
  benchOverhead(
    modelId: string,
    target: string,
    batch: number,
    rounds: number,
    block: number,
    values?: Record<string, ValuePolicy>,
    /** Passes timed together per sample on every arm (values per pass): resolves a pass far below one tick. */
    iterations?: number,
  ): Promise<OverheadBench>;
  /** Every pass time of a bare loop of the runtime's API for `seconds`, in a fresh worker (src/worker/bench-bare-loop.ts). */
  benchBareLoop(modelId: string, target: string, seconds: number, threads?: number): Promise<number[]>;
  /**
   * One cell of the request's plan, in a fresh worker, up to its first result only: its cold start, and this page's
   * own load for context (the CLI's first visits, src/cli/first-visit.ts).
   */
  firstResult(
    request: PlanRequest,
    cellId: string,
    options?: { extraModels?: ModelInfo[]; variantFiles?: VariantFiles; timeoutMs?: number },
  ): Promise<FirstResult>;
}

export interface FirstResult {
  status: 'ok' | 'failed' | 'unsupported' | 'aborted';
  reason: string | null;
  coldStart: Partial<ColdStart> | null;
  /** This page's navigation start to load end (the lab's own page, not part of the cell's first result). */
  pageLoadMs: number | null;
}

export interface OverheadBench extends OverheadRounds {
  /** Round trips of one sample-sized message page -> worker -> page, in ms. */
  boundary: number[];
  crossOriginIsolated: boolean;
}

declare global {
  interface Window {
    latencyLab?: LatencyLabApi;
  }
}
