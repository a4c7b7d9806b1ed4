/** ORT webgpu: inputs it can't take as GPU buffers are uploaded inside run(), and the cell says so (issue 25, item 9). */
import { describe, expect, it } from 'vitest';
import { cpuUploadNotes } from '../../src/runtimes/ort-webgpu.ts';

const input = (name: string, dtype: 'float32' | 'int8' | 'uint8') => ({ name, dtype, shape: [1, 4] });

describe('cpuUploadNotes', () => {
  it('folds upload into inference, naming the inputs, when any input is of a dtype ORT uploads inside run()', () => {
    const notes = cpuUploadNotes({ inputs: [input('x', 'float32'), input('q', 'int8'), input('s', 'int8')] });
    expect(notes).toEqual([{ stage: 'upload', includedIn: 'inference', why: expect.stringContaining("'q' (int8)") }]);
    expect(notes[0]!.why).toContain("'s' (int8)");
    expect(notes[0]!.why).toContain('them');
    expect(notes[0]!.why).not.toContain("'x'");
  });

  it('has no note when every input goes up as a GPU buffer', () => {
    expect(cpuUploadNotes({ inputs: [input('x', 'float32'), input('m', 'uint8')] })).toEqual([]);
  });
});
