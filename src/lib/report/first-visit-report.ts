/**
 * First visits in words and tables, for the CLI, the reports and the page: one row per visit, and per cell and
 * profile what the network added over the unthrottled visit against what its bytes alone predict.
 */
import {
  bytesPredictMs,
  FILE_KINDS,
  NETWORK_PROFILES,
  totalSent,
  type FirstVisit,
  type FirstVisits,
} from '../schema/first-visit.ts';
import { fmtBytes, fmtMs, textTable } from './format.ts';

export const FIRST_VISIT_HEADER = [
  'cell',
  'network',
  'visit',
  'first result ms',
  'sent',
  'of it wasm',
  'model',
  'pictures',
  'boot ms',
  'runtime ms',
  'model ms',
  'session ms',
  '1st pass ms',
];

const seconds = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`;

/** One row per visit, the first result first (the number a visitor feels), then the bytes, then the parts. */
export function firstVisitRows(fv: FirstVisits): string[][] {
  return fv.visits.map((v) => {
    const p = v.parts;
    const bytes = [
      fmtBytes(totalSent(v.bytes)),
      fmtBytes(v.bytes.wasm.sentBytes),
      fmtBytes(v.bytes.model.sentBytes),
      fmtBytes(v.bytes.input.sentBytes),
    ];
    if (v.status !== 'ok' || !p)
      return [v.cellId, v.profile, v.visit, `${v.status}: ${v.reason ?? ''}`, ...bytes, '', '', '', '', ''];
    return [
      v.cellId,
      v.profile,
      v.visit,
      fmtMs(v.firstResultMs),
      ...bytes,
      fmtMs(p.workerBootMs),
      fmtMs(p.runtimeInitMs),
      fmtMs(p.modelFetchMs),
      fmtMs(p.sessionCreateMs),
      fmtMs(p.firstInferenceMs),
    ];
  });
}

export interface NetworkCost {
  cellId: string;
  profile: FirstVisit['profile'];
  /** This profile's first visit minus the unthrottled one's, ms. */
  addedMs: number;
  /** What the first visit's bytes alone take at the profile's throughput, ms. */
  predictedMs: number;
  sentBytes: number;
  /** Requests the first result waited on: each pays the profile's latency once; how many in a row depends on the runtime's chain of imports. */
  requests: number;
  latencyMs: number;
  /** The returning visit's first result, and the first visit's, on this profile. */
  returningMs: number | null;
  firstMs: number;
}

/** Per cell and throttled profile: time the network added, and what the bytes predict. */
export function networkCosts(fv: FirstVisits): NetworkCost[] {
  const find = (cellId: string, profile: string, visit: FirstVisit['visit']) =>
    fv.visits.find((v) => v.cellId === cellId && v.profile === profile && v.visit === visit && v.status === 'ok');
  const out: NetworkCost[] = [];
  for (const v of fv.visits) {
    if (v.visit !== 'first' || v.profile === 'none' || v.status !== 'ok' || v.firstResultMs === null) continue;
    const base = find(v.cellId, 'none', 'first');
    if (!base || base.firstResultMs === null) continue;
    const sentBytes = totalSent(v.bytes);
    out.push({
      cellId: v.cellId,
      profile: v.profile,
      addedMs: v.firstResultMs - base.firstResultMs,
      predictedMs: bytesPredictMs(sentBytes, v.profile) ?? 0,
      sentBytes,
      requests: FILE_KINDS.filter((k) => k !== 'input').reduce((a, k) => a + v.bytes[k].requests, 0),
      latencyMs: NETWORK_PROFILES[v.profile].latencyMs,
      returningMs: find(v.cellId, v.profile, 'returning')?.firstResultMs ?? null,
      firstMs: v.firstResultMs,
    });
  }
  return out;
}

/** Said wherever first visits are shown: what was emulated, and what was not. */
export function firstVisitNote(fv: FirstVisits): string {
  const cpu =
    fv.cpuSlowdown === null
      ? ''
      : ` CPU slowdown ${fv.cpuSlowdown}x (CDP) applies to the page's own thread only: Chromium can't throttle the workers the cells run in.`;
  return (
    `Networks are emulated by Chromium over loopback (no loss, no radio wake-up), not measured on a real link. First: a fresh browser profile (empty HTTP cache, no compiled wasm); returning: the same browser loading the page again ${fv.stayMs / 1000} s after its first result. ` +
    `First result = worker boot + runtime init + model fetch + session + first inference; "sent" is what it waited on (the input pictures, fetched before its clock starts, apart); the runtime's wasm downloads inside runtime init or session, wherever the runtime fetches it. Sent: ${fv.compression}.${cpu}`
  );
}

/** Per cell and throttled profile, in words: the time the network added against what the bytes and requests predict. */
export function networkCostLines(fv: FirstVisits): string[] {
  return networkCosts(fv).map((c) => {
    const rate = NETWORK_PROFILES[c.profile].downloadBps!;
    const upTo = c.predictedMs + c.requests * c.latencyMs;
    return (
      `${c.cellId} on ${c.profile}: first result ${seconds(c.firstMs)}, ${seconds(c.addedMs)} more than unthrottled; ` +
      `its ${fmtBytes(c.sentBytes)} take ${seconds(c.predictedMs)} at ${fmtBytes(rate)}/s, up to ${seconds(upTo)} with ${c.latencyMs} ms for each of its ${c.requests} requests` +
      (c.returningMs === null ? '' : `; returning visit ${seconds(c.returningMs)}`)
    );
  });
}

export function firstVisitLines(fv: FirstVisits): string[] {
  const out = [
    '',
    'first visit (network EMULATED by Chromium, not a real link):',
    textTable(FIRST_VISIT_HEADER, firstVisitRows(fv)),
  ];
  out.push(...networkCostLines(fv).map((l) => `  ${l}`));
  for (const v of fv.visits)
    if (v.status !== 'ok') out.push(`  ${v.cellId} on ${v.profile} (${v.visit} visit) ${v.status}: ${v.reason ?? ''}`);
  out.push(`  ${firstVisitNote(fv)}`);
  return out;
}
