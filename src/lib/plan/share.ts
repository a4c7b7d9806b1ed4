/**
 * Result links for a static host, which has no server to post a result to: a compact summary of a run (cells,
 * medians, CIs, environment; no samples) travels in the URL fragment. This module is the summary and its schema
 * (pure); compressing it into the link is src/app/share-link.ts. A link is data from anyone: it is validated like a
 * result file, and shown as text only.
 */
import { z } from 'zod';
import { cellReason, type OkCellResult, type RunResult } from '../schema.ts';

export const SharedCell = z.object({
  id: z.string().max(300),
  status: z.enum(['ok', 'unsupported', 'failed', 'aborted']),
  median: z.number().nonnegative().nullable(),
  ci: z.tuple([z.number(), z.number()]).nullable(),
  p95: z.number().nonnegative().nullable(),
  n: z.number().int().nonnegative(),
  /** Why a cell that isn't ok isn't (cut to 200 characters). */
  reason: z.string().max(200).nullable(),
});
export type SharedCell = z.infer<typeof SharedCell>;

export const SharedRun = z.object({
  v: z.literal(1),
  createdAt: z.string().max(40),
  tool: z.string().max(40),
  env: z.object({
    browser: z.string().max(120),
    platform: z.string().max(120),
    cores: z.number().int().nonnegative(),
    isolated: z.boolean(),
    gpu: z.string().max(200).nullable(),
    softwareGpu: z.boolean(),
  }),
  cells: z.array(SharedCell).max(2000),
});
export type SharedRun = z.infer<typeof SharedRun>;

/** A run as a link carries it: per cell the steady median, its 95% CI and p95 (ms per pass), and the sample count. */
export function summariseForLink(run: RunResult): SharedRun {
  const e = run.environment;
  return {
    v: 1,
    createdAt: run.createdAt,
    tool: run.tool.version,
    env: {
      browser: `${e.browser.name} ${e.browser.version}`,
      platform: e.platform,
      cores: e.hardwareConcurrency,
      isolated: e.crossOriginIsolated,
      gpu: e.gpu?.webgpu?.description || e.gpu?.webgl?.renderer || null,
      softwareGpu: Boolean(e.gpu?.software),
    },
    cells: run.cells.map((c) => {
      if (c.status !== 'ok')
        return {
          id: c.cell.id,
          status: c.status,
          median: null,
          ci: null,
          p95: null,
          n: 0,
          reason: cellReason(c).slice(0, 200),
        };
      const t = c.summary.total;
      return {
        id: c.cell.id,
        status: 'ok',
        median: t.median,
        ci: t.medianCI95,
        p95: c.validity.unsupportedPercentiles.includes('p95') ? null : t.p95,
        n: t.n,
        reason: null,
      };
    }),
  };
}

export interface SharedComparison {
  id: string;
  sharedMs: number;
  hereMs: number;
  /** here / shared. */
  ratio: number;
  /** The two medians' 95% CIs don't overlap: the difference is more than sampling noise (a coarse test: no samples travel). */
  distinct: boolean | null;
}

/** Cells of a shared run against cells of the run on screen with the same id (same model, target, batch, threads). */
export function compareWithShared(shared: SharedRun, here: readonly OkCellResult[]): SharedComparison[] {
  return shared.cells.flatMap((s) => {
    const h = here.find((c) => c.cell.id === s.id);
    if (!h || s.median === null || s.median <= 0) return [];
    const hc = h.summary.total.medianCI95;
    const distinct = s.ci && hc ? hc[0] > s.ci[1] || hc[1] < s.ci[0] : null;
    return [
      {
        id: s.id,
        sharedMs: s.median,
        hereMs: h.summary.total.median,
        ratio: h.summary.total.median / s.median,
        distinct,
      },
    ];
  });
}
