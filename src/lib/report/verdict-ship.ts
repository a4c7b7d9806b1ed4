/**
 * Verdicts with the code to ship each pick: what the CLI, the reports and the page show together. The model's URL
 * and its image policies come from the manifest when the model is one of the lab's (own models: the file's name).
 */
import { findFormat, type Manifest } from '../models/manifest.ts';
import { shipCode, type ShipCode } from './ship-code.ts';
import { manifestBytes, verdicts, type ModelVerdict, type VerdictOptions, type VerdictRun } from './verdict.ts';

export interface ShippedVerdict {
  verdict: ModelVerdict;
  /** Null when there is no pick, or its runtime is not one an app ships. */
  code: ShipCode | null;
}

/** Where the app would serve the pick's model: the lab's own path for it, under ./models/. */
export function modelUrlOf(v: ModelVerdict, manifest: Manifest | null | undefined): string {
  const cell = v.pick!.result.cell;
  const model = manifest?.models.find((m) => m.id === cell.modelId);
  const entry = model && cell.format ? findFormat(model, cell.format)?.entry.path : undefined;
  const ext = cell.format?.startsWith('tfjs') ? 'model.json' : 'model.onnx';
  const path = entry ?? `${cell.modelId}/${ext}`;
  return `./models/${cell.variant === 'fp32' ? path : path.replace(/(\.[a-z]+)$/, `.${cell.variant}$1`)}`;
}

export function shipVerdicts(
  runs: readonly VerdictRun[],
  options: VerdictOptions & { manifest?: Manifest | null } = {},
): ShippedVerdict[] {
  const sizes = options.manifestBytes ?? manifestBytes(options.manifest);
  return verdicts(runs, { ...options, manifestBytes: sizes }).map((verdict) => {
    const pick = verdict.pick?.result;
    if (!pick || (pick.cell.runtime !== 'ort' && pick.cell.runtime !== 'tfjs')) return { verdict, code: null };
    const model = options.manifest?.models.find((m) => m.id === pick.cell.modelId);
    const code = shipCode(pick, {
      modelUrl: modelUrlOf(verdict, options.manifest),
      valueDefaults: model?.valueDefaults,
    });
    return { verdict, code };
  });
}
