/**
 * Model variants side by side: per cell of a model that ran variants, its variant, the bytes of the file it loaded
 * (raw and gzip, and against the fp32 file), its median with the 95% CI (and against the fp32 cell), and its
 * agreement with the fp32 cell. The CLI's table and the md/html reports show these rows. Pure.
 */
import { cellReason, okCells, type CellResult, type OkCellResult } from '../schema.ts';
import { fmtBytes, fmtMs, fmtVerdict } from './format.ts';
import { compareCells, pairedInRun } from '../measure/compare.ts';
import { sameWorkOtherVariant } from './agreement.ts';

export const VARIANT_HEADER = [
  'cell',
  'variant',
  'bytes',
  'gzip',
  'vs fp32 bytes',
  'median ms (95% CI)',
  'vs fp32 median (95% CI)',
  'min cosine',
  'max abs diff',
  'top-1 same',
  'agreement',
];

export const VARIANT_NOTE =
  'fp16 and int8 files are made by the lab from the ONNX file (docs/variants.md). Agreement compares each variant ' +
  "cell's outputs with the fp32 cell of the same model, target, batch and inputs: flagged below cosine 0.99 or when " +
  "a picture's top-1 class changes. Bytes: the file the cell loaded; gzip: as a static host would send it compressed.";

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function agreementText(c: OkCellResult): [string, string, string, string] {
  const a = c.agreement;
  if (c.cell.variant === 'fp32') return ['', '', '', 'reference'];
  if (!a) return ['', '', '', 'not compared (no fp32 cell ran ok)'];
  const cos = a.outputs.map((o) => o.cosine).filter((x): x is number => x !== null);
  const diff = a.outputs.map((o) => o.maxAbsDiff).filter((x): x is number => x !== null);
  return [
    cos.length ? Math.min(...cos).toFixed(5) : '-',
    diff.length ? Math.max(...diff).toExponential(2) : '-',
    a.top1 ? `${a.top1.agree}/${a.top1.of}` : '',
    a.flagged ? `FLAGGED: ${a.reason}` : 'ok',
  ];
}

function median(c: OkCellResult): string {
  const t = c.summary.total;
  const ci = t.medianCI95;
  return `${fmtMs(t.median)}${ci ? ` (${fmtMs(ci[0])}-${fmtMs(ci[1])})` : ''}`;
}

/** Rows for every cell of the models that have variant cells (fp32 cells too, as the reference), in run order. */
export function variantRows(cells: readonly CellResult[]): string[][] {
  const models = new Set(cells.filter((c) => c.cell.variant !== 'fp32').map((c) => c.cell.modelId));
  const ok = okCells(cells);
  return cells
    .filter((c) => models.has(c.cell.modelId))
    .map((c) => {
      if (c.status !== 'ok')
        return [c.cell.id, c.cell.variant, '', '', '', '', '', '', '', '', `${c.status}: ${cellReason(c)}`];
      const ref = ok.find((r) => r.cell.variant === 'fp32' && sameWorkOtherVariant(r.cell, c.cell));
      const b = c.modelBytes;
      const rb = ref?.modelBytes;
      const vsBytes = b && rb && c !== ref ? ratio(b.raw, rb.raw) : '';
      // A latency ratio is never shown without its CI: paired by invocation round, as "vs fastest" is.
      const vsMedian = ref && c !== ref ? fmtVerdict(compareCells(c, ref, { paired: pairedInRun(c, ref) })) : '';
      return [
        c.cell.id,
        c.cell.variant,
        b ? fmtBytes(b.raw) : '',
        b?.compressed != null ? fmtBytes(b.compressed) : '',
        vsBytes,
        median(c),
        vsMedian,
        ...agreementText(c),
      ];
    });
}
