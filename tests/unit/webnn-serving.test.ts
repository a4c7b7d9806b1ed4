import { describe, expect, it } from 'vitest';
import { CELL_WORKER_SCRIPT, policyHeaders } from '../../src/cli/serve-headers.ts';
import { CONTENT_SECURITY_POLICY_HEADER, WEBNN_WORKER_CSP_HEADER } from '../../src/lib/csp.ts';
import type { Cell } from '../../src/lib/schema.ts';
import { freeDimensionOverrides } from '../../src/runtimes/ort-webnn.ts';
import { fakeModel } from './fixtures.ts';

const csp = (h: Record<string, string>) => h['Content-Security-Policy'];

describe('the served Content-Security-Policy', () => {
  it('adds only unsafe-eval, and only to script-src', () => {
    expect(CONTENT_SECURITY_POLICY_HEADER).not.toContain("'unsafe-eval'");
    expect(WEBNN_WORKER_CSP_HEADER.replace(" 'unsafe-eval'", '')).toBe(CONTENT_SECURITY_POLICY_HEADER);
    expect(WEBNN_WORKER_CSP_HEADER).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval' blob:;/);
  });

  it("is strict everywhere by default; with --webnn's pattern, relaxed on the cell worker's script alone", () => {
    const worker = '/assets/cell-worker-BugbHHfI.js';
    const strict = policyHeaders(true);
    for (const p of [worker, '/index.html', '/assets/probe-worker-Mcr_Fhc8.js'])
      expect(csp(strict(p))).toBe(CONTENT_SECURITY_POLICY_HEADER);
    const webnn = policyHeaders(true, CELL_WORKER_SCRIPT);
    expect(csp(webnn(worker))).toBe(WEBNN_WORKER_CSP_HEADER);
    expect(webnn(worker)['Cross-Origin-Embedder-Policy']).toBe('require-corp');
    for (const p of [
      '/',
      '/index.html',
      '/assets/probe-worker-Mcr_Fhc8.js',
      '/assets/cell-worker-x.js.map',
      '/cell-worker-x.js',
    ])
      expect(csp(webnn(p)), p).toBe(CONTENT_SECURITY_POLICY_HEADER);
    // A plain static host sends no headers at all, relaxed or not.
    expect(policyHeaders(false, CELL_WORKER_SCRIPT)(worker)).toEqual({});
  });
});

describe('WebNN takes fixed shapes', () => {
  const cell = (batch: number, over: Cell['inputOverrides'] = {}) => ({ batch, inputOverrides: over }) as Cell;

  it("fixes every symbolic input dim at the cell's value: batch, overrides, the model's defaults", () => {
    const model = fakeModel('m', ['onnx']);
    expect(freeDimensionOverrides(model, cell(4))).toEqual({ batch: 4 });
    model.inputs = [
      { name: 'ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'mask', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'extra', dtype: 'float32', shape: [1, 'feat'] },
    ];
    model.dimDefaults = { seq: 16, feat: 8 };
    expect(freeDimensionOverrides(model, cell(2))).toEqual({ batch: 2, seq: 16, feat: 8 });
    expect(freeDimensionOverrides(model, cell(1, { extra: { dims: { feat: 3 } } }))).toEqual({
      batch: 1,
      seq: 16,
      feat: 3,
    });
  });

  it('says which dim has no value, as the cell itself would', () => {
    const model = fakeModel('m', ['onnx']);
    model.inputs = [{ name: 'x', dtype: 'float32', shape: ['batch', 'len'] }];
    expect(() => freeDimensionOverrides(model, cell(1))).toThrow(/symbolic dim 'len'/);
  });
});
