/**
 * Runs a plan. The page, the hosted demo and the CLI (through the window API) all run plans through here, so all
 * get the same result file. The run's procedure is src/app/plan-run.ts.
 */
import { withBuiltInModels } from '../lib/measure/calibration.ts';
import { runEnvelope } from '../lib/schema/envelope.ts';
import type { Manifest } from '../lib/models/manifest.ts';
import type { Plan, RunResult } from '../lib/schema.ts';
import type { RunOptions } from './cell-start.ts';
import { collectEnvironment } from './environment.ts';
import { PlanRun } from './plan-run.ts';

export async function runPlan(plan: Plan, manifest: Manifest, options: RunOptions): Promise<RunResult> {
  const environment = options.environment ?? (await collectEnvironment(options.browserFlags));
  const cells = await new PlanRun(plan, withBuiltInModels(manifest.models), environment, options).run();
  // The page validates its own output too (runEnvelope parses what it builds).
  return runEnvelope({ source: options.source, environment, plan, cells }, __LAB_VERSION__);
}

/** The zoo's manifest plus the built-in calibration model. */
export async function loadManifest(modelsBaseUrl: string): Promise<Manifest> {
  const { parseManifest } = await import('../lib/models/manifest.ts');
  const res = await fetch(new URL('manifest.json', modelsBaseUrl));
  if (!res.ok) throw new Error(`model manifest: HTTP ${res.status} (was the zoo built? run npm run zoo)`);
  const manifest = parseManifest(await res.json());
  return { ...manifest, models: withBuiltInModels(manifest.models) };
}

/** The models folder, relative to the page, so the lab works under any sub-path of a static host. */
export function defaultModelsBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}models/`, location.href).href;
}
