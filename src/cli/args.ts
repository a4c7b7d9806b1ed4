/**
 * Turning command-line text into settings: lists, numbers, value policies, input overrides, sampling. Every error
 * is a UsageError that names the flag and the bad value (exit code 2).
 */
import { parseCountList } from '../lib/parse.ts';
import type { Manifest } from '../lib/models/manifest.ts';
import type { InputOverride, SamplingInput, ValuePolicy } from '../lib/schema.ts';
import { parseImageOptions } from '../lib/models/image-input.ts';
import { errorMessage } from '../lib/errors.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function list(text: string | undefined, label: string): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new UsageError(`${label}: empty list`);
  return items;
}

export function ints(text: string | undefined, label: string): number[] | undefined {
  return list(text, label)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new UsageError(`${label}: '${s}' is not a whole number`);
    return n;
  });
}

export function int(text: string | undefined, label: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${label}: '${text}' is not a whole number`);
  return n;
}

export function parsePolicy(text: string): ValuePolicy {
  const [kind, a, b, extra] = text.split(':');
  const num = (s: string | undefined, what: string) => {
    const n = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(n))
      throw new UsageError(`--values: ${what} '${s ?? ''}' is not a number in '${text}'`);
    return n;
  };
  if (kind === 'random' && a === undefined) return { kind: 'random' };
  if (kind === 'zeros' && a === undefined) return { kind: 'zeros' };
  if (kind === 'const' && b === undefined) return { kind: 'constant', value: num(a, 'constant') };
  if (kind === 'range' && extra === undefined) return { kind: 'range', min: num(a, 'min'), max: num(b, 'max') };
  if (kind === 'image' && b === undefined) {
    // Pictures come from --images DIR, else the bundled photos (filled in by the caller).
    try {
      return { kind: 'image', images: [], ...parseImageOptions(a ?? '') };
    } catch (e) {
      throw new UsageError(`--values: '${text}': ${errorMessage(e)}`);
    }
  }
  throw new UsageError(
    `--values: '${text}' is not one of random | zeros | const:V | range:MIN:MAX | image[:layout=NCHW,fit=cover,norm=imagenet,...]`,
  );
}

/**
 * `--dim NAME=V[,V...]` (repeatable) -> values per dim name: a sweep dimension when it has several values. The plan
 * checks that some model has the dim.
 */
export function parseDims(args: readonly string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const d of args) {
    const eq = d.indexOf('=');
    const name = d.slice(0, eq).trim();
    const list = eq > 0 ? parseCountList(d.slice(eq + 1)) : null;
    if (!name || !list?.ok)
      throw new UsageError(`--dim: '${d}' is not NAME=N or NAME=N1,N2,... with whole numbers >= 1`);
    const values = list.values;
    if (out[name])
      throw new UsageError(
        `--dim: '${name}' is given twice; list its values in one flag (${name}=${[...out[name], ...values].join(',')})`,
      );
    out[name] = [...new Set(values)];
  }
  return out;
}

/** Turns --values into per-model, per-input overrides, for the models that have such inputs. */
export function buildOverrides(
  manifest: Manifest,
  models: string[],
  values: string[],
): Record<string, Record<string, InputOverride>> {
  const policies: Record<string, ValuePolicy> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 1) throw new UsageError(`--values: '${v}' is not INPUT=POLICY`);
    policies[v.slice(0, eq)] = parsePolicy(v.slice(eq + 1));
  }
  const out: Record<string, Record<string, InputOverride>> = {};
  const usedInputs = new Set<string>();
  for (const id of models) {
    const model = manifest.models.find((m) => m.id === id);
    if (!model) continue;
    for (const input of model.inputs) {
      const policy = policies[input.name];
      if (!policy) continue;
      (out[id] ??= {})[input.name] = { values: policy };
      usedInputs.add(input.name);
    }
  }
  const unusedInputs = Object.keys(policies).filter((i) => !usedInputs.has(i));
  if (unusedInputs.length)
    throw new UsageError(`--values: no selected model has an input named ${unusedInputs.join(', ')}`);
  return out;
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

export function num(text: string | undefined, label: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.replace(/%$/, ''));
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${label}: '${text}' is not a number`);
  return n;
}

/**
 * Sampling flags over the config file's sampling over the defaults, key by key. The schema checks ranges later
 * and says which setting is out of range. `--samples` alone (no --mode) means a fixed count.
 */
export function samplingFrom(v: Flags, config: SamplingInput = {}): SamplingInput {
  const str = (k: string) => v[k] as string | undefined;
  const mode =
    str('mode') ??
    (str('samples') !== undefined ? 'fixed' : (config.mode ?? (config.samples !== undefined ? 'fixed' : 'auto')));
  if (mode !== 'auto' && mode !== 'fixed') throw new UsageError(`--mode: '${mode}' is not auto or fixed`);
  const out: SamplingInput = { ...config, mode };
  const set = <K extends keyof SamplingInput>(key: K, value: SamplingInput[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  const timeout = num(str('timeout'), '--timeout');
  set('cellTimeoutMs', timeout === undefined ? undefined : timeout * 1000);
  if (v['measure-memory']) out.measureMemory = true;
  const target = num(str('target-ci'), '--target-ci');
  set('targetCI', target === undefined ? undefined : target / 100);
  set('minSamples', num(str('min-samples'), '--min-samples'));
  set('maxSamples', num(str('max-samples'), '--max-samples'));
  const maxTime = num(str('max-time'), '--max-time');
  set('maxSamplingMs', maxTime === undefined ? undefined : Math.round(maxTime * 1000));
  const minWarmup = num(str('min-warmup'), '--min-warmup');
  set('minWarmupMs', minWarmup === undefined ? undefined : Math.round(minWarmup * 1000));
  set('samples', num(str('samples'), '--samples'));
  set('warmup', num(str('warmup'), '--warmup'));
  set('iterations', num(str('iterations'), '--iterations'));
  set('coldStarts', num(str('cold-starts'), '--cold-starts'));
  const inv = str('invocations');
  set('invocations', inv === undefined ? undefined : inv === 'auto' ? 'auto' : num(inv, '--invocations'));
  set('blockSize', num(str('block'), '--block'));
  set('gpuBusyPasses', num(str('gpu-passes'), '--gpu-passes'));
  return out;
}

/** `--connect NAME=URL` or `--connect URL` (named after host:port). */
export function endpointArg(text: string, kind: 'connect' | 'cdp'): { name: string; connect?: string; cdp?: string } {
  const eq = text.indexOf('=');
  const named = eq > 0 && !text.slice(0, eq).includes(':');
  const url = named ? text.slice(eq + 1) : text;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--${kind}: '${url}' is not a URL (ws://host:port/... for --connect, http://host:port for --cdp)`,
    );
  }
  return { name: named ? text.slice(0, eq) : parsed.host, [kind]: url };
}
