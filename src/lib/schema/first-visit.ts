/**
 * First visit: the time from a cell's worker starting to its first result, for a visitor whose caches are empty
 * (and, for comparison, a returning one whose caches are warm), under named network profiles. The profiles are
 * emulated by Chromium (CDP Network.emulateNetworkConditions): every output says so, because an emulated link has
 * no packet loss, no radio wake-up and no congestion of its own.
 */
import { z } from 'zod';

/**
 * Chrome DevTools' presets, in bytes per second and ms of added latency per request (DevTools multiplies the
 * nominal rates by 0.8-0.9 and the round trip by 2.75-5 to stand for a real link's overheads).
 */
export const NETWORK_PROFILES = {
  none: { label: 'unthrottled (loopback)', downloadBps: null, uploadBps: null, latencyMs: 0 },
  '4g': {
    label: 'Fast 4G (DevTools preset: 9 Mbps x 0.9, 60 ms RTT x 2.75)',
    downloadBps: (9e6 / 8) * 0.9,
    uploadBps: (1.5e6 / 8) * 0.9,
    latencyMs: 60 * 2.75,
  },
  'slow-4g': {
    label: 'Slow 4G (DevTools preset, once "Fast 3G": 1.6 Mbps x 0.9, 150 ms RTT x 3.75)',
    downloadBps: (1.6e6 / 8) * 0.9,
    uploadBps: (750e3 / 8) * 0.9,
    latencyMs: 150 * 3.75,
  },
  '3g': {
    label: '3G (DevTools preset, once "Slow 3G": 500 kbps x 0.8, 400 ms RTT x 5)',
    downloadBps: (500e3 / 8) * 0.8,
    uploadBps: (500e3 / 8) * 0.8,
    latencyMs: 400 * 5,
  },
} as const;
export type NetworkProfileName = keyof typeof NETWORK_PROFILES;
export const PROFILE_NAMES = Object.keys(NETWORK_PROFILES) as NetworkProfileName[];
const ALIASES: Record<string, NetworkProfileName> = {
  'fast-4g': '4g',
  'fast-3g': 'slow-4g',
  'slow-3g': '3g',
  off: 'none',
};

/** `4g,3g` -> ['none', '4g', '3g']: the unthrottled visit always comes first, as the yardstick the others add to. */
export function parseProfiles(text: string): NetworkProfileName[] {
  const out: NetworkProfileName[] = ['none'];
  for (const raw of text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)) {
    const name = (ALIASES[raw] ?? raw) as NetworkProfileName;
    if (!(name in NETWORK_PROFILES))
      throw new Error(
        `unknown network profile '${raw}': use ${PROFILE_NAMES.join(', ')} (or ${Object.keys(ALIASES).join(', ')})`,
      );
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** What the bytes alone cost on a profile: their download at its throughput (latency per request not counted). */
export function bytesPredictMs(transferBytes: number, profile: NetworkProfileName): number | null {
  const bps = NETWORK_PROFILES[profile].downloadBps;
  return bps === null ? null : (transferBytes / bps) * 1000;
}

/** Bytes of one kind of file as the server sent them (compressed when it compressed them) and as decoded. */
export const ByteCount = z.object({
  requests: z.number().int().nonnegative(),
  sentBytes: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type ByteCount = z.infer<typeof ByteCount>;
/** `input`: pictures the cell's inputs are made from (fetched before the runtime starts, outside the first result's parts). */
export const FILE_KINDS = ['script', 'wasm', 'model', 'input', 'other'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

export const FirstVisit = z.object({
  cellId: z.string(),
  profile: z.enum(PROFILE_NAMES as [NetworkProfileName, ...NetworkProfileName[]]),
  /** first: a fresh browser profile (empty HTTP and code caches); returning: the same browser, loading the page again. */
  visit: z.enum(['first', 'returning']),
  status: z.enum(['ok', 'failed', 'unsupported', 'timeout']),
  reason: z.string().nullable(),
  /** The lab's own page, navigation start to load end: context only, it is not part of a model's first result. */
  pageLoadMs: z.number().nonnegative().nullable(),
  /** Worker start to first result: worker boot + runtime init + model fetch + session + first inference. */
  firstResultMs: z.number().nonnegative().nullable(),
  parts: z
    .object({
      workerBootMs: z.number().nonnegative(),
      runtimeInitMs: z.number().nonnegative(),
      modelFetchMs: z.number().nonnegative(),
      sessionCreateMs: z.number().nonnegative(),
      firstInferenceMs: z.number().nonnegative(),
      /** The runtime's wasm download (Resource Timing), inside runtime init or session create, wherever the runtime fetches it. */
      wasmDownloadMs: z.number().nonnegative().nullable(),
    })
    .nullable(),
  /** What the server sent for the cell (page excluded), by kind of file. A cache hit sends nothing. */
  bytes: z.object(Object.fromEntries(FILE_KINDS.map((k) => [k, ByteCount])) as Record<FileKind, typeof ByteCount>),
  /** The same for the lab's own page load. */
  pageBytes: ByteCount,
});
export type FirstVisit = z.infer<typeof FirstVisit>;

export const FirstVisits = z.object({
  /** Always true: the network is Chromium's emulation over loopback, not a real link. */
  emulated: z.literal(true),
  profiles: z.array(
    z.object({
      name: z.enum(PROFILE_NAMES as [NetworkProfileName, ...NetworkProfileName[]]),
      label: z.string(),
      downloadBps: z.number().nullable(),
      uploadBps: z.number().nullable(),
      latencyMs: z.number(),
    }),
  ),
  /** CDP CPU throttling rate, or null. Chromium applies it to the page's main thread only, never to workers. */
  cpuSlowdown: z.number().nullable(),
  /** How the server encoded what it sent, e.g. "br (quality 5) for scripts and wasm; models uncompressed". */
  compression: z.string(),
  /** How long the first visit stayed on the page after its first result before the returning visit loaded it again. */
  stayMs: z.number().nonnegative(),
  visits: z.array(FirstVisit),
});
export type FirstVisits = z.infer<typeof FirstVisits>;

/** Bytes sent that the first result waits on: everything but the input pictures (fetched before its clock starts). */
export function totalSent(bytes: Partial<Record<FileKind, ByteCount>>): number {
  return FILE_KINDS.filter((k) => k !== 'input').reduce((a, k) => a + (bytes[k]?.sentBytes ?? 0), 0);
}
