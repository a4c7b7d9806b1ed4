import { describe, expect, it } from 'vitest';
import { render } from 'svelte/server';
import VariantsTable from '../../src/app/components/VariantsTable.svelte';
import type { OkCellResult } from '../../src/lib/schema.ts';
import { okCell } from './fixtures.ts';

function variantCell(variant: 'fp32' | 'int8', flagged: boolean): OkCellResult {
  const c = okCell(`m/ort:wasm/b1${variant === 'fp32' ? '' : `/${variant}`}`, variant === 'fp32' ? 10 : 8, 3);
  return {
    ...c,
    cell: { ...c.cell, modelId: 'm', variant },
    modelBytes: { raw: variant === 'fp32' ? 4000 : 1000, compressed: 900 },
    agreement:
      variant === 'fp32'
        ? null
        : {
            referenceCellId: 'm/ort:wasm/b1',
            outputs: [{ name: 'y', cosine: 0.95, maxAbsDiff: 0.3 }],
            top1: null,
            minCosine: 0.99,
            flagged,
            reason: flagged ? 'cosine 0.95 below 0.99 (y)' : null,
          },
  } as OkCellResult;
}

describe('the page’s Model variants table', () => {
  it('shows each cell’s bytes and agreement, and marks a flagged variant with its reason', () => {
    const { body } = render(VariantsTable, {
      props: { cells: [variantCell('fp32', false), variantCell('int8', true)] },
    });
    expect(body).toContain('Model variants');
    expect(body.match(/data-testid="variant-row"/g)).toHaveLength(2);
    expect(body).toContain('0.25x'); // int8 bytes against fp32
    expect(body).toMatch(/class="reason [^"]*status-failed"[^>]*>⚠ FLAGGED: cosine 0\.95 below 0\.99 \(y\)/);
    expect(body).toMatch(/data-testid="variant-flagged"[\s\S]*cosine 0\.95 below 0\.99 \(y\)/);
  });

  it('is not there when the run has no variant cells', () => {
    const { body } = render(VariantsTable, { props: { cells: [variantCell('fp32', false)] } });
    expect(body).not.toContain('Model variants');
  });
});
