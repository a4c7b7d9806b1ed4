import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultTable } from '../../src/lib/report/format.ts';
import { compareWithBaseline } from '../../src/lib/report/baseline.ts';
import { checkBudgets, formatBudget, matches, parseBudget } from '../../src/lib/plan/budget.ts';
import { modelIdFrom } from '../../src/lib/models/model-signature.ts';
import { reportMarkdown } from '../../src/lib/report/report.ts';
import type { OkCellResult, RunResult } from '../../src/lib/schema.ts';
import { fakeRun, okCell } from './fixtures.ts';
import { csvField, samplesCsv, summaryCsv } from '../../src/lib/report/report-csv.ts';
import { reportHtml } from '../../src/lib/report/report-html.ts';
import { checkShards, parseModelJson, readTfjsSignature } from '../../src/lib/models/tfjs-signature.ts';
import { readOnnxSignature } from '../../src/lib/models/onnx-signature.ts';

const run = (cells: OkCellResult[], device: string | null = null): RunResult => fakeRun(cells, { device });

describe('budgets', () => {
  it('a target matches every ORT build of it; target@build only that build', () => {
    const cell = (build: 'wasm' | 'default' | null) => ({
      modelId: 'm',
      runtime: 'ort',
      backend: 'wasm',
      batch: 1,
      threads: 1,
      build,
    });
    expect(matches(parseBudget('m ort:wasm median <= 1ms'), cell('wasm'))).toBe(true);
    expect(matches(parseBudget('m ort:wasm median <= 1ms'), cell('default'))).toBe(true);
    expect(matches(parseBudget('m ort:wasm@default median <= 1ms'), cell('default'))).toBe(true);
    expect(matches(parseBudget('m ort:wasm@default median <= 1ms'), cell('wasm'))).toBe(false);
    expect(matches(parseBudget('m ort:*@wasm median <= 1ms'), cell('wasm'))).toBe(true);
  });
  it('parses rules with selectors, stages and units', () => {
    expect(parseBudget('mobilenet-v2 ort:wasm p95 <= 80ms')).toMatchObject({
      model: 'mobilenet-v2',
      target: 'ort:wasm',
      metric: 'p95',
      op: '<=',
      limitMs: 80,
      stage: 'total',
    });
    expect(parseBudget('* inference.median < 500us')).toMatchObject({
      metric: 'median',
      stage: 'inference',
      op: '<',
      limitMs: 0.5,
    });
    expect(parseBudget('tiny-cnn b4 t2 p99<=1.5s')).toMatchObject({
      model: 'tiny-cnn',
      batch: 4,
      threads: 2,
      limitMs: 1500,
    });
    expect(parseBudget('p50 <= 3')).toMatchObject({ metric: 'median', limitMs: 3 });
    expect(formatBudget(parseBudget('tiny-cnn ort:* b1 p95 <= 2ms'))).toBe('tiny-cnn ort:* b1 p95 <= 2ms');
  });
  it('rejects rules it cannot read, saying what a rule looks like', () => {
    expect(() => parseBudget('fast please')).toThrow(/is not '\[model\]/);
    expect(() => parseBudget('p42 <= 3ms')).toThrow(/unknown metric 'p42'; valid: min, median/);
    expect(() => parseBudget('tiny-cnn kernel.p95 <= 3ms')).toThrow(/unknown stage 'kernel'/);
  });
  it('checks every matching cell, lists breaches and rules that match nothing', () => {
    const r = run([okCell('a/ort:wasm/b1/t1', 10, 1), okCell('a/tfjs:wasm/b1/t1', 20, 2)]);
    const out = checkBudgets(
      [parseBudget('a median <= 15ms'), parseBudget('a ort:* p95 <= 100ms'), parseBudget('zzz p95 <= 1ms')],
      [r],
    );
    expect(out.checks).toHaveLength(3);
    expect(out.breaches.map((b) => b.cellId)).toEqual(['a/tfjs:wasm/b1/t1']);
    expect(out.unmatched).toEqual(['zzz p95 <= 1ms']);
  });
  it("says when a median budget's limit lies inside the median's CI (a rerun may judge it the other way)", () => {
    const cell = okCell('a/ort:wasm/b1/t1', 10, 1);
    const [lo, hi] = cell.summary.total.medianCI95!;
    const inside = checkBudgets([parseBudget(`a median <= ${((lo + hi) / 2).toFixed(4)}ms`)], [run([cell])]);
    expect(inside.checks[0]!.note).toMatch(/inside the median's 95% CI .*a rerun may judge it the other way/);
    const clear = checkBudgets([parseBudget(`a median <= ${(hi * 1.5).toFixed(4)}ms`)], [run([cell])]);
    expect(clear.checks[0]!.note).toBe('');
  });
});

describe('baseline', () => {
  it('flags a regression only when the CI clears the threshold; improvements and unchanged too', () => {
    const base = run([
      okCell('a/ort:wasm/b1/t1', 10, 1),
      okCell('b/ort:wasm/b1/t1', 10, 2),
      okCell('c/ort:wasm/b1/t1', 10, 3),
      okCell('gone/ort:wasm/b1/t1', 1, 4),
    ]);
    const now = run([
      okCell('a/ort:wasm/b1/t1', 13, 5),
      okCell('b/ort:wasm/b1/t1', 10.1, 6),
      okCell('c/ort:wasm/b1/t1', 7, 7),
      okCell('new/ort:wasm/b1/t1', 1, 8),
    ]);
    const rows = compareWithBaseline([now], [base], 0.05);
    const verdict = Object.fromEntries(rows.map((r) => [r.cellId.split('/')[0], r.verdict]));
    expect(verdict).toEqual({ a: 'regression', b: 'unchanged', c: 'improvement', new: 'new', gone: 'missing' });
    expect(rows.find((r) => r.cellId.startsWith('a/'))!.ratio).toBeCloseTo(1.3, 1);
  });
});

describe('report files', () => {
  const runs = [
    run([okCell('a/ort:wasm/b1/t1', 10, 1), okCell('<img src=x onerror=alert(1)>/ort:wasm/b1/t1', 5, 2)], 'dev|1'),
  ];
  it('CSV: one row per cell with throughput, quoting and formula defusing', () => {
    const csv = summaryCsv(runs).trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toMatch(/^device,cell,model,/);
    expect(csv[1]).toMatch(/^dev\|1,a\/ort:wasm\/b1\/t1,a,ort,wasm,1,1,ok,fp32,60,1,/);
    const tp = Number(csv[1]!.split(',')[csv[0]!.split(',').indexOf('throughput_items_per_s')]);
    expect(tp).toBeGreaterThan(95);
    expect(tp).toBeLessThan(105); // 1 item / ~10 ms
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(samplesCsv(runs).trim().split('\n')).toHaveLength(121);
  });
  it('Markdown and HTML never let a name become markup', () => {
    const md = reportMarkdown({ runs });
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).toContain('dev\\|1');
    const html = reportHtml({ runs });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toMatch(/<svg[^>]*aria-label="Median total per pass, with 95% CI"/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // self-contained: no script, nothing fetched
  });
});

describe('the CLI table', () => {
  it('fits the width it is given, says which columns it left out, and lists notes once each under the table', () => {
    const a = okCell('mobilenet-v2/ort:wasm@wasm/b1/t1', 40, 1);
    const b = okCell('mobilenet-v2/tfjs:wasm/b1/t1', 60, 2);
    const long = 'a long warning that names what happened to this cell and why it matters, wrapped under the table';
    a.warnings = [long];
    b.warnings = [long, 'tensor leak: 2 tensors'];
    const text = resultTable([a, b], new Map(), 100);
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(text).toMatch(/left out to fit 100 columns: see report\.md/);
    expect(text.match(/\[1\] a long warning/g)).toHaveLength(1); // shared by both cells, listed once
    expect(text).toMatch(/mobilenet-v2\/tfjs:wasm\/b1\/t1 .*\[1\]\[2\]/);
    // Wide enough: every column stays.
    expect(resultTable([a, b], new Map(), 400)).not.toMatch(/left out/);
  });
});

describe("a person's own model files", () => {
  const models = join(import.meta.dirname, '..', '..', 'public', 'models');
  it('reads an ONNX graph signature without a runtime', () => {
    const sig = readOnnxSignature(readFileSync(join(models, 'tiny-cnn', 'model.onnx')));
    expect(sig.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 32, 32, 3] }]);
    expect(sig.outputs[0]!.name).toBe('probs');
    expect(() => readOnnxSignature(new TextEncoder().encode('{"hello": "json"}'))).toThrow(/not an ONNX/);
    expect(() => readOnnxSignature(readFileSync(join(models, 'tiny-cnn', 'model.onnx')).subarray(0, 500))).toThrow(
      /not an ONNX|truncated/,
    );
  });
  it('reads a TF.js layers model and checks its shards', () => {
    const json = parseModelJson(readFileSync(join(models, 'tiny-cnn', 'tfjs', 'model.json'), 'utf8'));
    expect(json.kind).toBe('tfjs-layers');
    expect(readTfjsSignature(json).inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 32, 32, 3] }]);
    const size = readFileSync(join(models, 'tiny-cnn', 'tfjs', 'weights.bin')).byteLength;
    expect(() => checkShards(json, new Map([['weights.bin', size]]))).not.toThrow();
    expect(() => checkShards(json, new Map())).toThrow(/not given: weights\.bin/);
    expect(() => checkShards(json, new Map([['weights.bin', size - 4]]))).toThrow(
      /hold \d+ bytes, model\.json's specs need \d+/,
    );
    expect(() =>
      checkShards(
        json,
        new Map([
          ['weights.bin', size],
          ['extra.bin', 4],
        ]),
      ),
    ).toThrow(/does not name as shards: extra\.bin/);
    expect(() => parseModelJson('{"not": "a model"}')).toThrow(/not a TF\.js model/);
  });
  it('makes ids from file names', () => {
    expect(modelIdFrom('My_Net v2.onnx')).toBe('my-net-v2');
    expect(modelIdFrom('tiny-cnn.onnx', new Set(['tiny-cnn']))).toBe('tiny-cnn-2');
    expect(modelIdFrom('__.onnx')).toBe('model');
  });
});
