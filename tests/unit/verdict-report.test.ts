import { describe, expect, it } from 'vitest';
import { reportMarkdown } from '../../src/lib/report/report.ts';
import { reportHtml } from '../../src/lib/report/report-html.ts';
import { modelUrlOf, shipVerdicts } from '../../src/lib/report/verdict-ship.ts';
import { parseBudget } from '../../src/lib/plan/budget.ts';
import type { OkCellResult } from '../../src/lib/schema.ts';
import { fakeRun as run, okCell } from './fixtures.ts';

function ort(id: string, ms: number, seed: number, bytes: number): OkCellResult {
  const c = okCell(id, ms, seed);
  return {
    ...c,
    modelBytes: { raw: bytes, compressed: null },
    proof: { ...c.proof, details: { build: 'wasm', entry: 'onnxruntime-web/wasm' } },
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
  };
}

describe('What to ship in the reports', () => {
  const runs = [run([ort('m/ort:wasm/b1', 10, 1, 4000), ort('m/tfjs:wasm/b1', 14, 2, 2000)], { device: 'pixel' })];

  it('report.md: the headline, the candidates, and the code in a js block', () => {
    const md = reportMarkdown({ runs });
    const at = md.indexOf('## What to ship');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(md.indexOf('## Cells'));
    expect(md).toContain('### pixel · m b1');
    expect(md).toMatch(/\*\*ship ort:wasm \(onnxruntime-web\/wasm\) · 1 thread · b1 · fp32: median \d+\.\d+ ms/);
    expect(md).toMatch(
      /```js\nimport \* as ort from "onnxruntime-web\/wasm";[\s\S]*executionProviders: \["wasm"\][\s\S]*```/,
    );
    expect(md).toMatch(/\| m\/tfjs:wasm\/b1 \|.*\| yes \|/);
  });

  it('report.html: the latency-against-bytes chart, the table, and the escaped code', () => {
    const html = reportHtml({ runs });
    expect(html).toContain('<h2 id="what-to-ship">What to ship</h2>');
    expect(html).toMatch(/<svg[^>]*aria-label="pixel · m b1: steady latency against bytes/);
    // Both candidates are on the Pareto front (one faster, one smaller): two orange points and the line through them.
    expect(html.match(/<circle[^>]*fill="#c2410c"/g)).toHaveLength(2);
    expect(html).toContain('<pre class="code"><code>import * as ort from &quot;onnxruntime-web/wasm&quot;;');
  });

  it('the budgets given to the verdict change the pick and are said', () => {
    const shipped = shipVerdicts(runs, { rules: [parseBudget('m ort:wasm median <= 5ms')] });
    const md = reportMarkdown({ runs, shipped });
    expect(shipped[0]!.verdict.pick!.id).toBe('m/tfjs:wasm/b1');
    expect(md).toMatch(/excluded m\/ort:wasm\/b1: budget m ort:wasm median &lt;= 5ms breached/);
    expect(md).toContain('import * as tf from');
  });

  it('a variant pick: the code serves the file by the name the lab saves it under, and names where it is', () => {
    const int8 = ort('tiny-cnn/ort:wasm/b1/int8', 4, 3, 1000);
    int8.cell = { ...int8.cell, modelId: 'tiny-cnn', variant: 'int8' };
    int8.agreement = { referenceCellId: 'x', outputs: [], top1: null, minCosine: 1, flagged: false, reason: null };
    const fp32 = ort('tiny-cnn/ort:wasm/b1', 10, 4, 4000);
    fp32.cell = { ...fp32.cell, modelId: 'tiny-cnn' };
    const seen: string[] = [];
    const [s] = shipVerdicts([run([fp32, int8])], {
      variantSource: (name) => (seen.push(name), `/out/variants/${name}`),
    });
    expect(s!.verdict.pick!.id).toBe('tiny-cnn/ort:wasm/b1/int8');
    expect(seen).toEqual(['tiny-cnn.int8.onnx']);
    expect(modelUrlOf(s!.verdict, null)).toBe('./models/tiny-cnn.int8.onnx');
    expect(s!.code!.code).toContain('ort.InferenceSession.create("./models/tiny-cnn.int8.onnx"');
    expect(s!.code!.code).toContain(
      'made by the lab from tiny-cnn (its int8 variant, not the original file): /out/variants/tiny-cnn.int8.onnx.',
    );
  });
});
