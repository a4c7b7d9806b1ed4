/**
 * The result file and everything that crosses a boundary (worker <-> page, page <-> CLI, disk), as zod schemas.
 * The TypeScript types of the vocabulary are inferred from these schemas, so the validator and the types can't drift.
 * Bump SCHEMA_VERSION on any change that an older reader could misread.
 */
import { z } from 'zod';
import { ServingReport } from './schema/serving.ts';
import { FirstVisits } from './schema/first-visit.ts';
import { Plan } from './schema/plan.ts';
import { CellResult } from './schema/cell-result.ts';
export * from './schema/basics.ts';
export * from './schema/plan.ts';
export * from './schema/measurements.ts';
export * from './schema/cell-result.ts';
export * from './schema/invocation.ts';

/**
 * 3: the steady state (changepoints, warm-up curve) per ok cell; summaries describe the steady samples only.
 * 4: image value policies (real decode/resize preprocess) with per-sample preprocess parts and per-picture
 * predictions; swept dims per cell.
 * 5: native reference cells (runtime `ort-node`), the browser tax per cell, input digests.
 * 6: first visits (--first-visit: first and returning visits under emulated network profiles); cold starts carry
 * the worker's boot, the time to first result and what the worker fetched; serving points carry the simulator's
 * prediction from their own service times.
 * 7: invocations (fresh starts per cell) and CIs across them; comparisons paired by invocation round.
 * 8: model variants (`Cell.variant`: fp32, fp16, int8 made by the lab), each variant cell's agreement with the
 * fp32 cell and its file bytes; runtime `litert` and model format `tflite`.
 * 9: what overlapped a measurement (`validity.overlapped` of a cell, `overlapped` of a serving point): other
 * measurements of the lab that ran beside it where one-at-a-time could not be enforced.
 * Files of every readable version are valid current files and are read as such.
 */
export const SCHEMA_VERSION = 9;
/** Older versions this lab still reads (each a subset of the current one). */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [3, 4, 5, 6, 7, 8];

/** GPU facts as a worker sees them. `software` is true for SwiftShader and other CPU emulations of a GPU. */
export const GpuInfo = z.object({
  webgpu: z
    .object({
      vendor: z.string(),
      architecture: z.string(),
      device: z.string(),
      description: z.string(),
      isFallbackAdapter: z.boolean(),
      timestampQuery: z.boolean(),
    })
    .nullable(),
  webgl: z.object({ renderer: z.string(), vendor: z.string(), timerQuery: z.boolean() }).nullable(),
  software: z.boolean(),
});
export type GpuInfo = z.infer<typeof GpuInfo>;

/** Whether a runtime:backend can run in this browser, and if not, why. */
export const Capability = z.object({ target: z.string(), available: z.boolean(), reason: z.string().nullable() });
export type Capability = z.infer<typeof Capability>;

export const Environment = z.object({
  userAgent: z.string(),
  browser: z.object({ name: z.string(), version: z.string() }),
  platform: z.string(),
  hardwareConcurrency: z.number().int().nonnegative(),
  deviceMemoryGiB: z.number().nullable(),
  crossOriginIsolated: z.boolean(),
  /** Smallest step of performance.now() seen in a worker. */
  timerResolutionMs: z.number().nonnegative(),
  libraries: z.record(z.string(), z.string()),
  /** Browser flags in force, when the launcher knows them (CLI); empty in an interactive page. */
  browserFlags: z.array(z.string()),
  gpu: GpuInfo.nullable(),
  /** Every runtime:backend, available or not with the reason, probed before the run. */
  capabilities: z.array(Capability),
});
export type Environment = z.infer<typeof Environment>;

export const RunResult = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal('inference-latency-lab'), version: z.string() }),
  createdAt: z.string(),
  source: z.enum(['page', 'cli', 'api']),
  /** Which device/browser ran it, in multi-device runs (remote browsers); null for a single local run. */
  device: z.string().nullable().default(null),
  environment: Environment,
  plan: Plan,
  cells: z.array(CellResult),
  /** A serving simulation or monitor run (open-loop load, batching, worker pools), when that is what ran. */
  serving: ServingReport.nullable().default(null),
  /** First and returning visits under emulated networks (CLI --first-visit), when they were measured. */
  firstVisits: FirstVisits.nullable().default(null),
});
export type RunResult = z.infer<typeof RunResult>;

export class SchemaError extends Error {
  constructor(
    what: string,
    readonly issues: string[],
  ) {
    // One issue reads as one sentence (a list of one showed as "not valid: - schemaVersion" on the page).
    super(
      issues.length === 1
        ? `${what} is not valid: ${issues[0]}`
        : `${what} is not valid:\n${issues.map((i) => `  - ${i}`).join('\n')}`,
    );
    this.name = 'SchemaError';
  }
}

/** Formats zod issues as `path.to.field: message`, so an error names the field. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 20).map((issue) => {
    const path = issue.path.length
      ? issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '')
      : '(root)';
    return `${path}: ${issue.message}`;
  });
}

/** Validates anything that claims to be a result file. Checks the version first, so an old file says so plainly. */
export function parseRunResult(data: unknown): RunResult {
  if (typeof data === 'object' && data !== null && 'schemaVersion' in data) {
    const v = (data as { schemaVersion: unknown }).schemaVersion;
    if (typeof v === 'number' && READABLE_SCHEMA_VERSIONS.includes(v))
      data = { ...data, schemaVersion: SCHEMA_VERSION };
    else if (v !== SCHEMA_VERSION) {
      throw new SchemaError('result file', [
        `schemaVersion: this lab reads version ${SCHEMA_VERSION}, the file has ${JSON.stringify(v)} (version ${READABLE_SCHEMA_VERSIONS.join(', ')} files are read too)`,
      ]);
    }
  }
  const parsed = RunResult.safeParse(data);
  if (!parsed.success) throw new SchemaError('result file', describeIssues(parsed.error));
  return parsed.data;
}

/** A results file holds one run, or (multi-device CLI runs) an array of runs, one per device. */
export function parseResultFile(data: unknown): RunResult[] {
  if (Array.isArray(data)) {
    if (data.length === 0) throw new SchemaError('result file', ['(root): an empty list of runs']);
    return data.map((d, i) => {
      try {
        return parseRunResult(d);
      } catch (e) {
        if (e instanceof SchemaError) throw new SchemaError(`result file, run [${i}]`, e.issues);
        throw e;
      }
    });
  }
  return [parseRunResult(data)];
}

export function parseWith<T>(schema: z.ZodType<T>, what: string, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new SchemaError(what, describeIssues(parsed.error));
  return parsed.data;
}
