/**
 * The CLI's config file (JSON): everything `latency-lab run` takes, validated with the same schemas as the
 * result file. Command-line flags override it. `npm run schema` writes public/lab-config.schema.json from this,
 * for editor completion (`"$schema": "./lab-config.schema.json"` or the hosted lab's copy).
 */
import { z } from 'zod';
import { BudgetRule } from './budget.ts';
import { describeIssues, InputOverride, Variant, SamplingFields, SchemaError, type SamplingInput } from '../schema.ts';
import { ORT_BUILD_CHOICES } from '../builds.ts';

export const DeviceEndpoint = z
  .object({
    /** The label in reports (the device column). */
    name: z.string().min(1).max(80),
    /** A Playwright browser server's ws endpoint (browserType.launchServer()). */
    connect: z.string().url().optional(),
    /** A Chrome DevTools Protocol endpoint (http or ws), as Selenium Grid 4 and cloud grids offer. */
    cdp: z.string().url().optional(),
  })
  .strict()
  .refine((d) => Boolean(d.connect) !== Boolean(d.cdp), { message: 'give exactly one of connect or cdp' });
export type DeviceEndpoint = z.infer<typeof DeviceEndpoint>;

export const LabConfig = z
  .object({
    $schema: z.string().optional(),
    /** Zoo ids, or paths to local models: an .onnx or .tflite file, a TF.js model.json, or a folder holding one. */
    models: z.array(z.string().min(1)).min(1).optional(),
    /** runtime:backend pairs, e.g. ["ort:wasm", "tfjs:webgpu"]. */
    targets: z.array(z.string().min(1)).min(1).optional(),
    batch: z.array(z.number().int().positive()).min(1).optional(),
    threads: z.array(z.number().int().positive()).min(1).optional(),
    /** ORT builds per ORT target: "recommended" (per backend, the default), wasm, default, webgpu, jspi, all, webgl. */
    ortBuilds: z.array(z.enum(ORT_BUILD_CHOICES)).min(1).optional(),
    /** Model variants, a matrix dimension: fp32 (the model as given), fp16, int8 (made by the lab from ONNX files). */
    variants: z.array(Variant).min(1).optional(),
    /** tfjs wasm: the core count the worker reports to tfjs, which runs threads up to half of it (recorded). */
    tfjsCores: z.number().int().positive().optional(),
    /** Per model id, per input name: symbolic dims and value policy. */
    inputs: z.record(z.string(), z.record(z.string(), InputOverride)).optional(),
    /** A folder of pictures for the models' image inputs (relative to where the CLI runs), as --images. */
    images: z.string().optional(),
    /** Symbolic dims to sweep, values per dim name (`{"seq": [16, 64, 256]}`): one cell per value. */
    dims: z.record(z.string(), z.array(z.number().int().positive()).min(1)).optional(),
    inputSeed: z.number().int().optional(),
    seed: z.number().int().optional(),
    order: z.enum(['shuffle', 'matrix']).optional(),
    interleave: z.boolean().optional(),
    liveCells: z.number().int().min(2).max(32).optional(),
    /** As --native: native reference cells (onnxruntime-node on this machine) and the browser tax per cell. */
    native: z.boolean().optional(),
    /** As --first-visit: network profiles for first and returning visits (none, 4g, slow-4g, 3g). */
    firstVisit: z.array(z.string().min(1)).min(1).optional(),
    /** As --cpu-slowdown: CDP CPU throttling on first visits (the page's thread only; Chromium can't slow workers). */
    cpuSlowdown: z.number().min(1).max(20).optional(),
    /** Sampling settings (see the result file's plan.sampling); flags override them one by one. */
    sampling: SamplingFields.partial().optional(),
    /** Rules such as "mobilenet-v2 ort:wasm p95 <= 80ms", or the same as an object. */
    budgets: z.array(z.union([z.string().min(1), BudgetRule])).optional(),
    /** A results.json to compare with, cell by cell. */
    baseline: z.string().min(1).optional(),
    /** Percent: differences under this are not regressions (default 5). */
    baselineThreshold: z.number().min(0).max(99).optional(),
    /** Output folder. */
    out: z.string().min(1).optional(),
    allowUnsupported: z.boolean().optional(),
    browser: z
      .object({
        chromium: z.string().optional(),
        headed: z.boolean().optional(),
        softwareGpu: z.boolean().optional(),
        args: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    /** Remote browsers to run on in parallel; results merge into one report with a device column. */
    devices: z.array(DeviceEndpoint).min(1).optional(),
  })
  .strict();
export type LabConfig = z.infer<typeof LabConfig>;

/** Keys a schema accepts at a path (for "unknown key 'x'; valid keys: ..."). */
function validKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.ZodType = schema;
  for (const key of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(key)] ?? s;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function unwrap(s: z.ZodType): z.ZodType {
  for (let i = 0; i < 10; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable)
      s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodLazy) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s;
}

export type ParsedConfig = Omit<LabConfig, 'sampling'> & { sampling?: SamplingInput };

/**
 * Validates a config. `sampling` comes back as written (validated, but without defaults filled in), so that
 * flags and config merge key by key and defaults are applied once, when the plan is built.
 */
export function parseConfig(data: unknown, file = 'config'): ParsedConfig {
  const parsed = LabConfig.safeParse(data);
  if (parsed.success) return { ...parsed.data, sampling: (data as { sampling?: SamplingInput }).sampling };
  const issues = describeIssues(parsed.error).map((line, i) => {
    const issue = parsed.error.issues[i];
    if (issue?.code !== 'unrecognized_keys') return line;
    const valid = validKeysAt(LabConfig, issue.path);
    return `${line}; valid keys here: ${valid.join(', ')}`;
  });
  throw new SchemaError(file, issues);
}

/** The JSON Schema of the config file, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(LabConfig, { io: 'input', unrepresentable: 'any' });
}
