/**
 * Verdicts with the code to ship each pick: what the CLI, the reports and the page show together. The model's URL
 * and its image policies come from the manifest when the model is one of the lab's (own models: the file's name).
 */
import { findFormat, type Manifest } from '../models/manifest.ts';
import { variantFileName } from '../models/variants/variant-file.ts';
import { shipCode, type ShipCode } from './ship-code.ts';
import { manifestBytes, verdicts, type ModelVerdict, type VerdictOptions, type VerdictRun } from './verdict.ts';

export interface ShippedVerdict {
  verdict: ModelVerdict;
  /** Null when there is no pick, or its runtime is not one an app ships. */
  code: ShipCode | null;
}

/**
 * Where the app would serve the pick's model: the lab's own path for it, under ./models/; a variant by the name the
 * lab saves it under (variantFileName), since the app ships the made file, not the model's.
 */
export function modelUrlOf(v: ModelVerdict, manifest: Manifest | null | undefined): string {
  const cell = v.pick!.result.cell;
  if (cell.variant !== 'fp32') return `./models/${variantFileName(cell.modelId, cell.variant)}`;
  const model = manifest?.models.find((m) => m.id === cell.modelId);
  const entry = model && cell.format ? findFormat(model, cell.format)?.entry.path : undefined;
  const ext = cell.format?.startsWith('tfjs') ? 'model.json' : 'model.onnx';
  const path = entry ?? `${cell.modelId}/${ext}`;
  return `./models/${path}`;
}

export interface ShipOptions extends VerdictOptions {
  manifest?: Manifest | null;
  /**
   * Where a variant pick's file is to be had, by its file name (the CLI: its <out>/variants/ folder); '' when
   * nowhere known (the code then says where the lab keeps such files).
   */
  variantSource?: (fileName: string) => string;
}

export function shipVerdicts(runs: readonly VerdictRun[], options: ShipOptions = {}): ShippedVerdict[] {
  const sizes = options.manifestBytes ?? manifestBytes(options.manifest);
  return verdicts(runs, { ...options, manifestBytes: sizes }).map((verdict) => {
    const pick = verdict.pick?.result;
    if (!pick || (pick.cell.runtime !== 'ort' && pick.cell.runtime !== 'tfjs')) return { verdict, code: null };
    const model = options.manifest?.models.find((m) => m.id === pick.cell.modelId);
    const code = shipCode(pick, {
      modelUrl: modelUrlOf(verdict, options.manifest),
      valueDefaults: model?.valueDefaults,
      variantSource:
        pick.cell.variant === 'fp32'
          ? undefined
          : options.variantSource?.(variantFileName(pick.cell.modelId, pick.cell.variant)) || undefined,
    });
    return { verdict, code };
  });
}
