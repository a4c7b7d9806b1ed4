import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveVariantFiles } from '../../src/cli/variant-files.ts';
import { variantPath } from '../../src/lib/models/variants/variant-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-variant-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('saveVariantFiles', () => {
  it('keeps each made file in <out>/variants/<model>.<variant>.onnx; a refused variant writes nothing', () => {
    const served = join(tmp, 'served.onnx');
    writeFileSync(served, new Uint8Array([1, 2, 3]));
    const path = variantPath('my model', 'int8');
    const files = new Map([[`/${path.slice(3)}`, served]]);
    const out = join(tmp, 'out');
    const saved = saveVariantFiles(
      out,
      {
        'my model/int8': { ok: true, file: { path, bytes: 3, sha256: 'x' }, compressedBytes: 3 },
        'my model/fp16': { ok: false, reason: 'no fp16 variant: nothing to convert' },
      },
      files,
    );
    expect(saved).toEqual([join(out, 'variants', 'my_model.int8.onnx')]);
    expect(readdirSync(join(out, 'variants'))).toEqual(['my_model.int8.onnx']);
    expect([...readFileSync(saved[0]!)]).toEqual([1, 2, 3]);
  });

  it('makes no variants folder when the run made no variant file', () => {
    expect(saveVariantFiles(join(tmp, 'none'), {}, new Map())).toEqual([]);
    expect(() => readdirSync(join(tmp, 'none'))).toThrow();
  });
});
