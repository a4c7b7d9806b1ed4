/**
 * Postprocess per task: what an app would do on the CPU with the outputs. Image classification takes the
 * top-5 classes of each batch item from the first output. Tasks without one report no postprocess stage.
 */
import type { Prediction } from '../lib/schema.ts';
import type { HostTensor } from '../lib/models/inputs.ts';
import type { ModelInfo } from '../lib/models/manifest.ts';

export type Postprocess = (outputs: readonly HostTensor[], model: ModelInfo) => unknown;

export function topK(row: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    let pos = best.length;
    while (pos > 0 && row[best[pos - 1]!]! < row[i]!) pos--;
    if (pos < k) {
      best.splice(pos, 0, i);
      if (best.length > k) best.pop();
    }
  }
  return best;
}

/**
 * A classifier's scores per batch item, from its first output when that is [batch, classes] of numbers (the shape a
 * classifier app reads); null otherwise. Shared by the timed postprocess and the per-picture predictions.
 */
export function scoreRows(outputs: readonly HostTensor[]): number[][] | null {
  const out = outputs[0];
  if (!out || out.dtype === 'int64' || out.dtype === 'float16') return null;
  const batch = out.shape[0] ?? 1;
  const per = out.data.length / Math.max(batch, 1);
  const data = out.data as ArrayLike<number>;
  return Array.from({ length: batch }, (_, b) => Array.prototype.slice.call(data, b * per, (b + 1) * per) as number[]);
}

const classify: Postprocess = (outputs) => (scoreRows(outputs) ?? []).map((row) => topK(row, 5));

export function postprocessFor(task: ModelInfo['task']): Postprocess | null {
  switch (task) {
    case 'image-classification':
    case 'text-classification':
      return classify;
    default:
      return null;
  }
}

/** How many top classes a prediction keeps (what a classifier app shows). */
const PREDICTION_TOP = 5;

/**
 * The top classes per picture of one pass, when its first output looks like class scores ([batch, classes], a
 * classifier, zoo or own); other outputs get no per-picture answer. `pictures`: the pass's pictures, in batch order.
 */
export function predictionsOf(
  outputs: readonly HostTensor[],
  pictures: readonly { name: string }[],
  labels: readonly string[] | null | undefined,
): Prediction[] {
  const rows = outputs[0]?.shape.length === 2 && (outputs[0].shape[1] ?? 0) >= 2 ? scoreRows(outputs) : null;
  return (rows ?? []).flatMap((row, item) => {
    const picture = pictures[item];
    if (!picture) return [];
    const top = topK(row, PREDICTION_TOP).map((index) => ({
      index,
      label: labels?.[index] ?? null,
      score: row[index]!,
    }));
    return [{ image: picture.name, top }];
  });
}
