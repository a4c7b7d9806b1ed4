/**
 * What starting a cell takes, apart from the run's procedure (plan-run.ts): the options a run is given, whether a
 * cell can start in this browser, the channel its driver talks through, and the extra cold starts.
 */
import { NATIVE_BINDING, type CellEvent, type CellJob, type TestFaults } from '../lib/contracts/job.ts';
import type { ParityData } from '../lib/report/parity.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';
import type { VariantFiles } from '../lib/models/variants/variant-file.ts';
import type { Cell, CellResult, ColdStart, Environment, Plan, RunResult } from '../lib/schema.ts';
import { nativeChannel } from './native-bridge.ts';
import type { OverlapProbe } from './overlap.ts';
import { CellDriver, type CellChannel, type CellDriverOptions } from './worker-bridge.ts';

export interface RunCallbacks {
  onCellStart?: (index: number, total: number, cell: Cell) => void;
  onCellEvent?: (index: number, event: CellEvent) => void;
  onCellDone?: (index: number, result: CellResult, parity: ParityData[]) => void;
  /** A variant file the page made (its bytes, by variantKey), kept so a person can download the one to ship. */
  onVariantMade?: (key: string, bytes: ArrayBuffer) => void;
}

export interface RunOptions extends RunCallbacks {
  modelsBaseUrl: string;
  source: RunResult['source'];
  signal?: AbortSignal;
  browserFlags?: string[];
  environment?: Environment;
  /** Bytes of a person's own model files, by manifest path; copied into each job (jobs transfer them away). */
  files?: ReadonlyMap<string, ArrayBuffer>;
  /** Variant files the CLI made and serves (by model/variant); without them the page makes its own. */
  variantFiles?: VariantFiles;
  /** Test-only faults, copied into every job (tests/e2e/faults.e2e.ts). */
  faults?: TestFaults;
  /** Cells finished before (a resumed run): kept as they are, not run again, and part of parity. */
  prior?: { cells: readonly CellResult[]; parity: Readonly<Record<string, ParityData[]>> };
  /**
   * Where a cell's invocation runs instead of a fresh Web Worker (tests/unit/plan-run.test.ts gives a fake, to drive
   * the run's procedure without a browser); undefined: the usual (a worker, or the native bridge).
   */
  channelFor?: (job: CellJob) => CellChannel | undefined;
  /** Who else measured while a cell ran (the measurement's watch: overlap.ts); none: nothing is marked. */
  overlap?: OverlapProbe;
}

/** Native reference cells run in the CLI (a Node thread, native-bridge.ts); every other cell in a fresh Web Worker. */
export function driverFor(job: CellJob, options: CellDriverOptions, channelFor?: RunOptions['channelFor']): CellDriver {
  const channel = channelFor?.(job) ?? (job.cell.runtime === 'ort-node' ? nativeChannel(job) : undefined);
  return new CellDriver(job, options, channel);
}

/** Why a cell can't start here (from the probe taken before the run), or null when it can. */
export function unavailableReason(env: Environment, cell: Cell): string | null {
  // Native cells need the CLI's host on this page; in a browser alone they can't run.
  if (cell.runtime === 'ort-node') {
    const present = typeof (globalThis as unknown as Record<string, unknown>)[NATIVE_BINDING] === 'function';
    return present ? null : 'native reference cells (ort-node:cpu) run from the CLI: latency-lab run --native';
  }
  const cap = env.capabilities.find((c) => c.target === `${cell.runtime}:${cell.backend}`);
  if (!cap || cap.available) return null;
  // WebNN hides behind a Chromium feature flag: say whether the browser was started with it.
  const tried =
    cell.backend === 'webnn' ? env.browserFlags.filter((f) => /WebMachineLearningNeuralNetwork/.test(f)) : [];
  return `${cap.target} is not available in this browser: ${cap.reason ?? 'no reason given'}${tried.length ? ` (tried with ${tried.join(' ')})` : ''}`;
}

/**
 * Cold start again in fresh workers (runtime init, fetch, session, first inference), so cold start is a
 * distribution and not one number. The browser's HTTP cache is warm by now: these are "returning visitor" loads.
 */
export async function repeatColdStarts(
  what: { cell: Cell; model: ModelInfo; plan: Plan; options: RunOptions },
  count: number,
  filesFor: (m: ModelInfo, c: Cell) => Record<string, ArrayBuffer> | undefined,
): Promise<{ coldStarts: ColdStart[]; warnings: string[] }> {
  const { cell, model, plan, options } = what;
  const coldStarts: ColdStart[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < count && !options.signal?.aborted; i++) {
    const driver = driverFor(
      { cell, model, sampling: plan.sampling, modelsBaseUrl: options.modelsBaseUrl, files: filesFor(model, cell) },
      { signal: options.signal },
      options.channelFor,
    );
    try {
      const step = await driver.prepare();
      if (step.ok)
        coldStarts.push({
          ...(step.value.coldStart as Omit<ColdStart, 'warmupCount' | 'warmupTotalMs'>),
          warmupCount: 0,
          warmupTotalMs: 0,
        } as ColdStart);
      else
        warnings.push(
          `cold start ${i + 2} of ${count + 1} did not complete: ${JSON.stringify('error' in step.outcome.result ? step.outcome.result.error : step.outcome.result.status)}`,
        );
    } finally {
      driver.terminate();
    }
  }
  return { coldStarts, warnings };
}
