/**
 * The page's setup (never its results) as a shareable link: `#model=tiny-cnn&targets=ort:wasm,tfjs:wasm&batch=1,4`.
 * Decoding is strict: an unknown key or a bad value is reported by name, and the rest of the link still applies.
 * A person's own model files can't travel in a link; the link names the model id only.
 */
import { parseCountList } from '../parse.ts';
import { VARIANTS, type ValuePolicy } from '../schema.ts';
import { ORT_BUILD_CHOICES } from '../builds.ts';
import { imagePolicyText, parseImageOptions } from '../models/image-input.ts';

// Browsers and Node both have URLSearchParams; the pure-core tsconfig has no DOM or Node types to declare it.
declare class URLSearchParams {
  constructor(init?: string);
  set(key: string, value: string): void;
  forEach(fn: (value: string, key: string) => void): void;
  toString(): string;
}

export interface Setup {
  model: string;
  targets: string[];
  batch: string;
  threads: string;
  /** ORT builds per ORT target ('recommended' or build names). */
  ortBuilds: string[];
  /** Model variants (fp32, fp16, int8); the link leaves the key out for fp32 alone. */
  variants: string[];
  mode: 'auto' | 'fixed';
  targetPct: number;
  minSamples: number;
  maxSamples: number;
  maxSamplingS: number;
  samples: number;
  warmup: number;
  coldStarts: number;
  /** Invocations per cell; 0: auto. */
  invocations: number;
  interleave: boolean;
  seed: string;
  budget: string;
  /** Symbolic dim values by dim name; several values sweep the dim (one cell each). */
  dims: Record<string, number[]>;
  /** Per input name: value policy. */
  values: Record<string, ValuePolicy>;
}

const NUMBERS = {
  ci: 'targetPct',
  min: 'minSamples',
  max: 'maxSamples',
  time: 'maxSamplingS',
  samples: 'samples',
  warmup: 'warmup',
  cold: 'coldStarts',
  inv: 'invocations',
} as const;
const KEYS = [
  'model',
  'targets',
  'batch',
  'threads',
  'ort',
  'variants',
  'mode',
  ...Object.keys(NUMBERS),
  'interleave',
  'seed',
  'budget',
  'dim.<name>',
  'val.<input>',
];

export function policyText(p: ValuePolicy): string {
  switch (p.kind) {
    case 'random':
    case 'zeros':
      return p.kind;
    case 'constant':
      return `const:${p.value}`;
    case 'range':
      return `range:${p.min}:${p.max}`;
    case 'image':
      return imagePolicyText(p);
  }
}

/** `random`, `zeros`, `const:V`, `range:MIN:MAX`; null when it is none of these. */
export function parsePolicyText(text: string): ValuePolicy | null {
  const [kind, a, b, extra] = text.split(':');
  const n = (s: string | undefined) =>
    s !== undefined && s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : null;
  if (kind === 'random' && a === undefined) return { kind: 'random' };
  if (kind === 'zeros' && a === undefined) return { kind: 'zeros' };
  if (kind === 'const' && b === undefined && n(a) !== null) return { kind: 'constant', value: n(a)! };
  if (kind === 'range' && extra === undefined && n(a) !== null && n(b) !== null)
    return { kind: 'range', min: n(a)!, max: n(b)! };
  if (kind === 'image' && b === undefined) {
    // The pictures don't travel in text: the page fills in the bundled photos.
    try {
      return { kind: 'image', images: [], ...parseImageOptions(a ?? '') };
    } catch {
      return null;
    }
  }
  return null;
}

export function encodeSetup(s: Setup): string {
  const p = new URLSearchParams();
  p.set('model', s.model);
  p.set('targets', s.targets.join(','));
  p.set('batch', s.batch.replace(/\s+/g, ''));
  p.set('threads', s.threads.replace(/\s+/g, ''));
  p.set('ort', s.ortBuilds.join(','));
  if (s.variants.join(',') !== 'fp32') p.set('variants', s.variants.join(','));
  p.set('mode', s.mode);
  for (const [key, field] of Object.entries(NUMBERS)) p.set(key, String(s[field]));
  if (s.interleave) p.set('interleave', '1');
  if (s.seed.trim()) p.set('seed', s.seed.trim());
  if (s.budget.trim()) p.set('budget', s.budget.trim());
  for (const [name, v] of Object.entries(s.dims)) p.set(`dim.${name}`, v.join(','));
  for (const [name, v] of Object.entries(s.values)) p.set(`val.${name}`, policyText(v));
  return p.toString();
}

/** Fragments that carry a shared result (share.ts) start with this; setup links carry `key=value` pairs. */
export const SHARE_PREFIX = '#result=';

/** What a link sets, and what in it could not be used (each named). */
export function decodeSetup(hash: string): { setup: Partial<Setup>; errors: string[] } {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const setup: Partial<Setup> = {};
  const errors: string[] = [];
  const dims: Record<string, number[]> = {};
  const values: Record<string, ValuePolicy> = {};
  p.forEach((value, key) => {
    const bad = (why: string) => errors.push(`link: ${key}=${value}: ${why}`);
    if (key === 'model') {
      if (/^[a-z0-9][a-z0-9-]*$/.test(value)) setup.model = value;
      else bad('not a model id');
    } else if (key === 'targets') setup.targets = value.split(',').filter(Boolean);
    else if (key === 'batch' || key === 'threads') {
      if (/^\d+(,\d+)*$/.test(value)) setup[key] = value.split(',').join(', ');
      else bad('not a comma-separated list of whole numbers');
    } else if (key === 'ort') {
      const builds = value.split(',').filter(Boolean);
      const unknown = builds.filter((b) => !(ORT_BUILD_CHOICES as readonly string[]).includes(b));
      if (builds.length && !unknown.length) setup.ortBuilds = builds;
      else bad(`not a list of ${ORT_BUILD_CHOICES.join(', ')}`);
    } else if (key === 'variants') {
      const asked = value.split(',').filter(Boolean);
      const unknown = asked.filter((v) => !(VARIANTS as readonly string[]).includes(v));
      if (asked.length && !unknown.length) setup.variants = asked;
      else bad(`not a list of ${VARIANTS.join(', ')}`);
    } else if (key === 'mode') {
      if (value === 'auto' || value === 'fixed') setup.mode = value;
      else bad('not auto or fixed');
    } else if (key in NUMBERS) {
      const n = Number(value);
      if (value.trim() !== '' && Number.isFinite(n) && n >= 0) setup[NUMBERS[key as keyof typeof NUMBERS]] = n;
      else bad('not a number');
    } else if (key === 'interleave') setup.interleave = value === '1' || value === 'true';
    else if (key === 'seed') {
      if (/^-?\d+$/.test(value)) setup.seed = value;
      else bad('not a whole number');
    } else if (key === 'budget') setup.budget = value;
    else if (key.startsWith('dim.') && key.length > 4) {
      const list = parseCountList(value);
      if (list.ok) dims[key.slice(4)] = list.values;
      else bad('not a comma-separated list of whole numbers of at least 1');
    } else if (key.startsWith('val.') && key.length > 4) {
      const policy = parsePolicyText(value);
      if (policy) values[key.slice(4)] = policy;
      else bad('not random, zeros, const:V, range:MIN:MAX or image[:layout=..,fit=..,norm=..]');
    } else errors.push(`link: unknown key '${key}' (ignored); known keys: ${KEYS.join(', ')}`);
  });
  if (Object.keys(dims).length) setup.dims = dims;
  if (Object.keys(values).length) setup.values = values;
  return { setup, errors };
}
