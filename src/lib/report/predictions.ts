/**
 * What a classifier said about each picture, across cells: the top-1 class per picture and cell (named by the
 * model's labels when it had them) and whether every cell of the model agrees. Pure: the page, the CLI and the
 * reports all show this.
 */
import type { OkCellResult } from '../schema.ts';

export interface PictureRow {
  image: string;
  /** Top-1 per cell, in `cells` order: label (or class index) and score; null when the cell has no answer for it. */
  top1: ({ label: string; score: number } | null)[];
  /** Every cell that answered gave the same class. */
  agree: boolean;
}

export interface PredictionTable {
  modelId: string;
  cells: string[];
  rows: PictureRow[];
}

/** One table per model whose cells carry predictions. */
export function predictionTables(cells: readonly OkCellResult[]): PredictionTable[] {
  const byModel = new Map<string, OkCellResult[]>();
  for (const c of cells)
    if (c.predictions?.length) byModel.set(c.cell.modelId, [...(byModel.get(c.cell.modelId) ?? []), c]);
  return [...byModel.entries()].map(([modelId, cs]) => {
    const images = [...new Set(cs.flatMap((c) => c.predictions!.map((p) => p.image)))];
    const rows = images.map((image) => {
      const top1 = cs.map((c) => {
        const best = c.predictions!.find((p) => p.image === image)?.top[0];
        return best ? { label: best.label ?? `class ${best.index}`, score: best.score } : null;
      });
      const answered = top1.filter((t) => t !== null);
      return { image, top1, agree: answered.length > 0 && answered.every((t) => t.label === answered[0]!.label) };
    });
    return { modelId, cells: cs.map((c) => c.cell.id), rows };
  });
}

/** One line per model: "mobilenet-v2: astronaut.png Neutral, ... (all 4 cells agree)" or which pictures differ. */
export function describePredictions(tables: readonly PredictionTable[]): string[] {
  return tables.map((t) => {
    const pictures = t.rows.map((r) => `${r.image} ${r.top1.find((x) => x !== null)?.label ?? '–'}`).join(', ');
    const differ = t.rows.filter((r) => !r.agree).map((r) => r.image);
    const verdict = differ.length
      ? `cells disagree on ${differ.join(', ')}`
      : t.cells.length === 1
        ? 'one cell'
        : `all ${t.cells.length} cells agree`;
    return `${t.modelId} top-1: ${pictures} (${verdict})`;
  });
}

export const PREPROCESS_HEADER = ['cell', 'decode ms', 'resize ms', 'normalise ms', 'preprocess ms', 'inference ms'];

/** Cells whose preprocess made tensors from pictures: the parts' medians (per pass) beside the stage and inference. */
export function preprocessRows(cells: readonly OkCellResult[], fmt: (ms: number) => string): string[][] {
  return cells.flatMap((c) => {
    const p = c.preprocessParts;
    if (!p) return [];
    const inference = c.summary.inference ? fmt(c.summary.inference.median) : '–';
    return [
      [
        c.cell.id,
        fmt(p.decode.median),
        fmt(p.resize.median),
        fmt(p.normalise.median),
        c.summary.preprocess ? fmt(c.summary.preprocess.median) : '–',
        inference,
      ],
    ];
  });
}
