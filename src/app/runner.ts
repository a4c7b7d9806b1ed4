/**
 * Runs a plan: one fresh worker per cell, in plan order, then parity against reference cells. The page, the
 * hosted demo and the CLI (through the window API) all run plans through here, so all get the same result file.
 */
import type { CellEvent, ParityData } from '../lib/job.ts';
import type { Manifest } from '../lib/manifest.ts';
import { compareOutputs, pickReference } from '../lib/parity.ts';
import { SCHEMA_VERSION, okCells, parseRunResult, type CellResult, type Environment, type Plan, type RunResult } from '../lib/schema.ts';
import { collectEnvironment } from './environment.ts';
import { runCellInWorker } from './worker-bridge.ts';

export interface RunCallbacks {
  onCellStart?: (index: number, total: number, cell: Plan['cells'][number]) => void;
  onCellEvent?: (index: number, event: CellEvent) => void;
  onCellDone?: (index: number, result: CellResult) => void;
}

export interface RunOptions extends RunCallbacks {
  modelsBaseUrl: string;
  source: RunResult['source'];
  signal?: AbortSignal;
  browserFlags?: string[];
  environment?: Environment;
}

export async function runPlan(plan: Plan, manifest: Manifest, options: RunOptions): Promise<RunResult> {
  const environment = options.environment ?? (await collectEnvironment(options.browserFlags));
  const results: CellResult[] = [];
  const parityData = new Map<string, ParityData[]>();
  const total = plan.cells.length;

  for (const [index, cell] of plan.cells.entries()) {
    options.onCellStart?.(index, total, cell);
    const startedAt = new Date().toISOString();
    const model = manifest.models.find((m) => m.id === cell.modelId);
    const unavailableReason = unavailable(environment, cell);
    let result: CellResult;
    if (options.signal?.aborted) {
      result = { status: 'aborted', cell, startedAt, durationMs: 0, reason: 'cancelled before it started', samples: [] };
    } else if (unavailableReason) {
      // Probed before the run: no worker is started for a backend this browser can't run.
      result = { status: 'unsupported', cell, startedAt, durationMs: 0, reason: unavailableReason };
    } else if (!model) {
      result = {
        status: 'failed',
        cell,
        startedAt,
        durationMs: 0,
        phase: 'plan',
        error: `unknown model id '${cell.modelId}'; the zoo has: ${manifest.models.map((m) => m.id).join(', ')}`,
        coldStart: null,
        samples: [],
      };
    } else {
      const outcome = await runCellInWorker(
        { cell, model, sampling: plan.sampling, modelsBaseUrl: options.modelsBaseUrl },
        { signal: options.signal, onEvent: (e) => options.onCellEvent?.(index, e) },
      );
      result = outcome.result;
      if (result.status === 'ok') parityData.set(cell.id, outcome.parity);
    }
    results.push(result);
    options.onCellDone?.(index, result);
  }

  const ok = okCells(results);
  for (const r of ok) {
    if (environment.gpu?.software && (r.cell.backend === 'webgl' || r.cell.backend === 'webgpu')) {
      r.warnings.push('GPU is emulated in software (SwiftShader or similar): numbers check correctness, not GPU performance');
    }
  }
  for (const r of ok) {
    const ref = pickReference(r.cell, ok);
    const mine = parityData.get(r.cell.id);
    const theirs = ref && parityData.get(ref.cell.id);
    // The reference cell itself keeps parity null: it is what the others are compared with.
    if (!ref || ref.cell.id === r.cell.id || !mine || !theirs) continue;
    r.parity = compareOutputs(mine, theirs, ref.cell.id);
    if (!r.parity.withinTolerance) {
      r.warnings.push(`outputs differ from ${ref.cell.id}: ${r.parity.mismatch ?? `max abs diff ${r.parity.maxAbsDiff} > ${r.parity.tolerance}`}`);
    }
  }

  const run: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'inference-latency-lab', version: __LAB_VERSION__ },
    createdAt: new Date().toISOString(),
    source: options.source,
    environment,
    plan,
    cells: results,
  };
  // The page validates its own output too: a result that wouldn't load back is a bug, caught here.
  return parseRunResult(JSON.parse(JSON.stringify(run)));
}

function unavailable(env: Environment, cell: Plan['cells'][number]): string | null {
  const cap = env.capabilities.find((c) => c.target === `${cell.runtime}:${cell.backend}`);
  return cap && !cap.available ? `${cap.target} is not available in this browser: ${cap.reason ?? 'no reason given'}` : null;
}

export async function loadManifest(modelsBaseUrl: string): Promise<Manifest> {
  const { parseManifest } = await import('../lib/manifest.ts');
  const res = await fetch(new URL('manifest.json', modelsBaseUrl));
  if (!res.ok) throw new Error(`model manifest: HTTP ${res.status} (was the zoo built? run npm run zoo)`);
  return parseManifest(await res.json());
}

/** The models folder, relative to the page, so the lab works under any sub-path of a static host. */
export function defaultModelsBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}models/`, location.href).href;
}
