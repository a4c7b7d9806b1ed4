/**
 * Latency budgets (SLAs): rules such as `mobilenet-v2 ort:wasm p95 <= 80ms`, checked against a run's cells.
 * Pure: parsing, matching and evaluation, shared by the CLI (exit code 1 on a breach) and the reports.
 */
import { z } from 'zod';
import type { OkCellResult, RunResult, Stage } from '../schema.ts';
import { PERCENTILE_MIN_SAMPLES } from '../measure/validity.ts';
import { STAGES } from '../stages.ts';

export const BUDGET_METRICS = ['min', 'median', 'mean', 'p90', 'p95', 'p99', 'max'] as const;
export type BudgetMetric = (typeof BUDGET_METRICS)[number];
export const BUDGET_OPS = ['<=', '<'] as const;

/** A rule as stored in a config file; every selector is optional (absent = any). Limits are in ms. */
export const BudgetRule = z
  .object({
    /** Model id; `*` wildcards allowed (e.g. `mobilenet-*`). */
    model: z.string().min(1).optional(),
    /** runtime:backend, `*` allowed on either side (e.g. `ort:*`). */
    target: z.string().min(1).optional(),
    batch: z.number().int().positive().optional(),
    threads: z.number().int().positive().optional(),
    stage: z.union([z.enum(STAGES), z.literal('total')]).default('total'),
    metric: z.enum(BUDGET_METRICS),
    op: z.enum(BUDGET_OPS).default('<='),
    limitMs: z.number().positive(),
  })
  .strict();
export type BudgetRule = z.infer<typeof BudgetRule>;

export class BudgetError extends Error {
  override name = 'BudgetError';
}

const UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000 };

/**
 * Parses `[model] [runtime:backend] [bN] [tN] [stage.]metric <=|< value[us|ms|s]`, e.g.
 * `mobilenet-v2 ort:wasm p95 <= 80ms`, `* inference.median < 5ms`, `tiny-cnn b4 p99<=16ms`.
 */
export function parseBudget(text: string): BudgetRule {
  const m = /^(.*?)\s*(?:^|\s)([a-z]+\.)?([a-z0-9]+)\s*(<=|<)\s*([0-9.]+)\s*(us|µs|ms|s)?\s*$/i.exec(text.trim());
  if (!m)
    throw new BudgetError(
      `budget '${text}' is not '[model] [runtime:backend] [bN] [tN] [stage.]metric <= value[ms]' (e.g. 'mobilenet-v2 ort:wasm p95 <= 80ms')`,
    );
  const [, selectors = '', stagePart, metric = '', op, value = '', unit = 'ms'] = m;
  // p50 is the median by another name.
  const rule: Record<string, unknown> = {
    metric: metric.toLowerCase() === 'p50' ? 'median' : metric.toLowerCase(),
    op,
    limitMs: Number(value) * UNITS[unit.toLowerCase()]!,
  };
  if (!(BUDGET_METRICS as readonly string[]).includes(rule.metric as string)) {
    throw new BudgetError(`budget '${text}': unknown metric '${metric}'; valid: ${BUDGET_METRICS.join(', ')}`);
  }
  if (stagePart) {
    const stage = stagePart.slice(0, -1);
    if (stage !== 'total' && !(STAGES as readonly string[]).includes(stage))
      throw new BudgetError(`budget '${text}': unknown stage '${stage}'; valid: total, ${STAGES.join(', ')}`);
    rule.stage = stage;
  }
  for (const token of selectors.split(/\s+/).filter(Boolean)) {
    if (token.includes(':')) rule.target = token;
    else if (/^b\d+$/.test(token)) rule.batch = Number(token.slice(1));
    else if (/^t\d+$/.test(token)) rule.threads = Number(token.slice(1));
    else if (token !== '*') {
      if (rule.model) throw new BudgetError(`budget '${text}': two model names ('${String(rule.model)}', '${token}')`);
      rule.model = token;
    }
  }
  const parsed = BudgetRule.safeParse(rule);
  if (!parsed.success || !Number.isFinite(rule.limitMs))
    throw new BudgetError(`budget '${text}': limit must be a positive number of ms`);
  return parsed.data;
}

/** The rule back in its text form, for tables. */
export function formatBudget(r: BudgetRule): string {
  const sel = [
    r.model,
    r.target,
    r.batch !== undefined ? `b${r.batch}` : undefined,
    r.threads !== undefined ? `t${r.threads}` : undefined,
  ].filter(Boolean);
  const metric = r.stage === 'total' ? r.metric : `${r.stage}.${r.metric}`;
  return `${sel.length ? sel.join(' ') : '*'} ${metric} ${r.op} ${r.limitMs}ms`;
}

function glob(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(text);
}

export function matches(
  rule: BudgetRule,
  cell: { modelId: string; runtime: string; backend: string; batch: number; threads: number; build?: string | null },
): boolean {
  if (rule.model && !glob(rule.model, cell.modelId)) return false;
  // `ort:wasm` matches every build of it; `ort:wasm@default` (or `ort:*@wasm`) only that build.
  const target = rule.target?.includes('@')
    ? `${cell.runtime}:${cell.backend}@${cell.build ?? ''}`
    : `${cell.runtime}:${cell.backend}`;
  if (rule.target && !glob(rule.target, target)) return false;
  if (rule.batch !== undefined && rule.batch !== cell.batch) return false;
  if (rule.threads !== undefined && rule.threads !== cell.threads) return false;
  return true;
}

export interface BudgetCheck {
  rule: string;
  device: string | null;
  cellId: string;
  valueMs: number | null;
  limitMs: number;
  /** null: no value to judge (cell not ok, or stage folded into another). */
  pass: boolean | null;
  note: string;
}

export interface BudgetOutcome {
  checks: BudgetCheck[];
  breaches: BudgetCheck[];
  /** Rules that named no cell of the run: a warning, not silence. */
  unmatched: string[];
}

/** Checks every rule against every matching cell of every run (one run per device). */
export function checkBudgets(rules: readonly BudgetRule[], runs: readonly RunResult[]): BudgetOutcome {
  const checks: BudgetCheck[] = [];
  const unmatched: string[] = [];
  for (const rule of rules) {
    const text = formatBudget(rule);
    let any = false;
    for (const run of runs) {
      for (const c of run.cells) {
        if (!matches(rule, c.cell)) continue;
        any = true;
        const base = { rule: text, device: run.device ?? null, cellId: c.cell.id, limitMs: rule.limitMs };
        if (c.status !== 'ok') {
          checks.push({ ...base, valueMs: null, pass: null, note: `cell ${c.status}: nothing to judge` });
          continue;
        }
        checks.push(judge(rule, c, base));
      }
    }
    if (!any) unmatched.push(text);
  }
  return { checks, breaches: checks.filter((c) => c.pass === false), unmatched };
}

/** The rule's value for a cell and whether it passes; null when the cell has no such stage (folded). */
export function budgetVerdict(rule: BudgetRule, c: OkCellResult): { value: number; pass: boolean } | null {
  const summary = c.summary[rule.stage as Stage | 'total'];
  if (!summary) return null;
  const value = summary[rule.metric];
  return { value, pass: rule.op === '<=' ? value <= rule.limitMs : value < rule.limitMs };
}

function judge(rule: BudgetRule, c: OkCellResult, base: Omit<BudgetCheck, 'valueMs' | 'pass' | 'note'>): BudgetCheck {
  const verdict = budgetVerdict(rule, c);
  if (!verdict)
    return { ...base, valueMs: null, pass: null, note: `no separate ${rule.stage} stage on ${c.cell.backend}` };
  const { value, pass } = verdict;
  // Percentiles describe the steady samples (the summary's n), not the warm-up before them.
  const n = c.summary.total.n;
  const few =
    (rule.metric === 'p90' || rule.metric === 'p95' || rule.metric === 'p99') &&
    n < PERCENTILE_MIN_SAMPLES[rule.metric];
  return {
    ...base,
    valueMs: value,
    pass,
    note: few ? `only ${n} steady samples: ${rule.metric} is near the maximum` : undecided(rule, c),
  };
}

/**
 * A median budget whose limit lies inside the median's 95% CI (across invocations: what a rerun may say) is judged
 * on the estimate, and the check says a rerun may judge it the other way.
 */
function undecided(rule: BudgetRule, c: OkCellResult): string {
  const ci = rule.metric === 'median' ? c.summary[rule.stage as Stage | 'total']?.medianCI95 : null;
  if (!ci || rule.limitMs < ci[0] || rule.limitMs > ci[1]) return '';
  return `the limit lies inside the median's 95% CI (${ci[0].toPrecision(3)}–${ci[1].toPrecision(3)} ms): a rerun may judge it the other way`;
}
