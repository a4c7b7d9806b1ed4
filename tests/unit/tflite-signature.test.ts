/**
 * The .tflite signature reader: on files from the zoo's own converter (signature def, fixed and free batch), on
 * hand-built FlatBuffers (no signature def, other dtypes, a dtype the lab can't make), and on broken files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLocalPath, loadLocalModels } from '../../src/cli/local-models.ts';
import { encode, ref, refs, scalar, str, table, vec, type FbTable } from '../../scripts/zoo/flatbuffer-writer.ts';
import { kerasToTflite } from '../../scripts/zoo/keras-to-tflite.ts';
import { decodeWeights } from '../../scripts/zoo/tfjs-weights.ts';
import { generateTinyCnn } from '../../scripts/zoo/tiny-cnn.ts';
import { ModelFileError } from '../../src/lib/models/model-file.ts';
import { readTfliteSignature } from '../../src/lib/models/tflite-signature.ts';

function tinyCnn(batch: number | null): Uint8Array {
  const { modelJson, weightSpecs, weightData } = generateTinyCnn();
  const weights = decodeWeights([{ paths: ['w.bin'], weights: weightSpecs }], [weightData]);
  return kerasToTflite(modelJson.modelTopology, weights, 'test', batch).tflite;
}

/** A one-subgraph model with the given tensors as its inputs and outputs and no signature def. */
function handBuilt(
  tensors: { name: string; type: number; shape: number[]; signature?: number[] }[],
  outputs: number[],
) {
  const tensor = (t: (typeof tensors)[number]): FbTable =>
    table([
      ref(vec('i32', t.shape)),
      scalar('i8', t.type),
      scalar('u32', 0),
      ref(str(t.name)),
      undefined,
      undefined,
      undefined,
      t.signature ? ref(vec('i32', t.signature)) : undefined,
    ]);
  const inputs = tensors.map((_, i) => i).filter((i) => !outputs.includes(i));
  const subgraph = table([
    ref(refs(tensors.map(tensor))),
    ref(vec('i32', inputs)),
    ref(vec('i32', outputs)),
    ref(refs([])),
  ]);
  return encode(
    table([scalar('u32', 3), ref(refs([])), ref(refs([subgraph])), undefined, ref(refs([table([])]))]),
    'TFL3',
  );
}

const reads = (bytes: Uint8Array) => () => readTfliteSignature(bytes);

describe('readTfliteSignature', () => {
  it('reads names, dtypes and shapes from the signature def of a converted model', () => {
    expect(readTfliteSignature(tinyCnn(1))).toEqual({
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, 32, 32, 3] }],
      outputs: [{ name: 'probs', dtype: 'float32', shape: [1, 10] }],
    });
  });

  it("gives a free batch (-1 in shape_signature) the symbolic dim 'batch'", () => {
    const sig = readTfliteSignature(tinyCnn(null));
    expect(sig.inputs[0]!.shape).toEqual(['batch', 32, 32, 3]);
    expect(sig.outputs[0]!.shape).toEqual(['batch', 10]);
  });

  it("falls back to subgraph 0's tensors without a signature def; maps dtypes; names free inner dims", () => {
    const bytes = handBuilt(
      [
        { name: 'ids', type: 4, shape: [1, 8], signature: [-1, -1] },
        { name: 'mask', type: 6, shape: [1, 8] },
        { name: 'q', type: 9, shape: [1, 8] },
        { name: 'logits', type: 1, shape: [1, 2] },
      ],
      [3],
    );
    expect(readTfliteSignature(bytes)).toEqual({
      inputs: [
        { name: 'ids', dtype: 'int64', shape: ['batch', 'ids_d1'] },
        { name: 'mask', dtype: 'bool', shape: [1, 8] },
        { name: 'q', dtype: 'int8', shape: [1, 8] },
      ],
      outputs: [{ name: 'logits', dtype: 'float16', shape: [1, 2] }],
    });
  });

  it('refuses a tensor type the lab cannot make, by name', () => {
    const bytes = handBuilt(
      [
        { name: 'text', type: 5, shape: [1] },
        { name: 'y', type: 0, shape: [1] },
      ],
      [1],
    );
    expect(reads(bytes)).toThrow(ModelFileError);
    expect(reads(bytes)).toThrow(/input 'text' is string; the lab handles tensors of float32/);
  });

  it('says what is wrong with a file that is not a .tflite model', () => {
    expect(reads(new Uint8Array(3))).toThrow(/not a \.tflite model: 3 bytes is too short/);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expect(reads(png)).toThrow(/file identifier is bytes 13 10 26 10, not 'TFL3'/);
    const other = tinyCnn(1).slice();
    other.set(new TextEncoder().encode('BCF1'), 4);
    expect(reads(other)).toThrow(/file identifier is 'BCF1', not 'TFL3'/);
  });

  it('says a cut-off file is truncated, wherever the cut falls', () => {
    const whole = tinyCnn(1);
    for (const keep of [12, 64, Math.floor(whole.length / 2), whole.length - 1]) {
      const cut = whole.slice(0, keep);
      expect(reads(cut), `cut at ${keep}`).toThrow(ModelFileError);
      expect(reads(cut), `cut at ${keep}`).toThrow(/truncated or damaged \.tflite file/);
    }
  });

  it('refuses another schema version', () => {
    const v2 = encode(table([scalar('u32', 2)]), 'TFL3');
    expect(reads(v2)).toThrow(/schema version 2; the lab reads version 3/);
  });
});

describe('a .tflite file given as an own model (--models)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-own-'));

  it("is recognised as format 'tflite', with its signature and an id from its name", () => {
    const file = join(dir, 'My_Net.tflite');
    writeFileSync(file, tinyCnn(null));
    expect(isLocalPath('net.tflite')).toBe(true);
    const { models, files } = loadLocalModels([file], new Set());
    const m = models[0]!;
    expect(m.id).toBe('my-net');
    expect(m.formats.map((f) => f.format)).toEqual(['tflite']);
    expect(m.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 32, 32, 3] }]);
    expect(m.batchDim).toBe('batch');
    expect([...files.keys()]).toEqual(['/__local/my-net/My_Net.tflite']);
  });

  it('is found as the only model file in a folder', () => {
    const folder = mkdtempSync(join(dir, 'folder-'));
    writeFileSync(join(folder, 'net.tflite'), tinyCnn(1));
    expect(loadLocalModels([folder], new Set()).models[0]!.formats[0]!.format).toBe('tflite');
  });

  it('names the file and the cause when it is not a .tflite model', () => {
    const json = join(dir, 'saved.tflite');
    writeFileSync(json, '{"format":"layers-model"}');
    expect(() => loadLocalModels([json], new Set())).toThrow(/saved\.tflite is JSON, not a \.tflite model/);
    const onnx = join(dir, 'renamed.tflite');
    writeFileSync(onnx, new Uint8Array([0x08, 0x07, 0x12, 0x02, 0x6c, 0x61, 0x62, 0x00, 0x00]));
    expect(() => loadLocalModels([onnx], new Set())).toThrow(/renamed\.tflite: not a \.tflite model: its FlatBuffers/);
  });
});
