/**
 * The page as a person uses it (issue 5's "done when"): drop an ONNX file with several inputs (one an int64
 * scalar), run it on every available ORT backend at batch 1, 4 and 16, see the charts, export, reload, import the
 * export and compare it with another run. Also: TF.js with shards, bad files, reload mid-run and resume, and a
 * setup restored from a link. Screenshots of each view go to test-results/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunResult, SCHEMA_VERSION } from '../../src/lib/schema.ts';
import { distDir, multiInputModel, openLab, projectRoot, requireDist, type LabPage } from './harness.ts';

const shots = join(projectRoot, 'test-results');
mkdirSync(shots, { recursive: true });
let lab: LabPage;

beforeAll(async () => {
  requireDist();
  lab = await openLab();
}, 60_000);
afterAll(async () => {
  await lab?.close();
});

async function setTargets(targets: string[]) {
  const boxes = lab.page.locator('fieldset', { hasText: 'Runtime : backend' }).locator('input[type=checkbox]');
  for (let i = 0; i < (await boxes.count()); i++) {
    const box = boxes.nth(i);
    if (await box.isDisabled()) continue;
    const value = await box.getAttribute('value');
    if (targets.includes(value!) !== (await box.isChecked())) await box.click();
  }
}

/** Call right after clicking Run (or Resume): waits for this run's progress panel to come and go. */
async function waitForRunEnd() {
  await lab.page.getByTestId('progress').waitFor({ timeout: 30_000 });
  await lab.page.getByTestId('progress').waitFor({ state: 'detached', timeout: 240_000 });
  await lab.page.getByTestId('export-json').waitFor({ timeout: 10_000 });
}

describe('own ONNX model with several inputs, on every ORT backend, then export / reload / import / compare', () => {
  let exported = '';

  it('takes the file, lists its inputs, and runs 9 cells with the given values', async () => {
    const { page } = lab;
    await page.getByTestId('own-model-input').setInputFiles({
      name: 'multi input.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(multiInputModel()),
    });
    await page.getByTestId('inputs-editor').waitFor();
    expect(await page.getByTestId('model').inputValue()).toBe('multi-input');
    const editor = await page.getByTestId('inputs-editor').textContent();
    expect(editor).toMatch(/x\s*float32\s*\[batch \(batch\), 4\]/);
    expect(editor).toMatch(/n\s*int64\s*\[\]\s*scalar/);
    expect(editor).toMatch(/mask\s*bool/);
    await page.getByTestId('policy-n').selectOption('constant');
    await page.getByTestId('const-n').fill('3');
    await setTargets(['ort:wasm', 'ort:webgl', 'ort:webgpu']);
    await page.getByTestId('batches').fill('1, 4, 16');
    await page.getByTestId('mode').selectOption('fixed');
    await page.getByTestId('samples').fill('10');
    await page.getByTestId('budget').fill('p95 <= 50ms');
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor();
    await page.screenshot({ path: join(shots, 'workflow-running.png'), fullPage: true });
    await waitForRunEnd();
    const rows = await page.locator('[data-testid=totals] tbody tr:not(.warn)').allTextContents();
    const notOk = await page.locator('.notok li').allTextContents();
    // Every cell ran, or says why its backend can't (ORT webgl has no int64/bool support for some ops).
    expect(rows.length + notOk.length).toBe(9);
    expect(rows.filter((r) => r.includes('ort:wasm'))).toHaveLength(3);
    for (const r of notOk) expect(r).toMatch(/unsupported|failed/);
    expect(await page.getByTestId('budget-verdict').first().textContent()).toMatch(/pass|FAIL/);
    await page.locator('canvas[aria-label="Latency vs batch size"]').waitFor();
    await page.screenshot({ path: join(shots, 'workflow-results.png'), fullPage: true });
  }, 300_000);

  it('exports the result file (valid, with the constant it was given) and the other formats', async () => {
    const { page } = lab;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    exported = join(projectRoot, 'test-results', 'workflow-export.json');
    await download.saveAs(exported);
    const result = parseRunResult(JSON.parse(readFileSync(exported, 'utf8')));
    expect(result.plan.cells[0]!.inputOverrides).toMatchObject({ n: { values: { kind: 'constant', value: 3 } } });
    const wasm = result.cells.find((c) => c.cell.id === 'multi-input/ort:wasm@wasm/b4/t1');
    expect(wasm?.status).toBe('ok');
    if (wasm?.status === 'ok')
      expect(wasm.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([
        ['x', 'float32', [4, 4]],
        ['n', 'int64', []],
        ['mask', 'bool', [4, 4]],
      ]);
    for (const id of ['export-csv', 'export-samples', 'export-md', 'export-trace']) {
      const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(id).click()]);
      expect(d.suggestedFilename()).toMatch(/^latency-/);
    }
    const [trace] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-trace').click()]);
    const traceJson = JSON.parse(readFileSync((await trace.path())!, 'utf8'));
    expect(
      traceJson.traceEvents.some((e: { ph: string; name: string }) => e.ph === 'X' && e.name === 'inference'),
    ).toBe(true);
  });

  it('after a reload the last run is still there; importing the export compares it with the run on screen', async () => {
    const { page } = lab;
    await page.reload();
    await page.locator('[data-testid=totals]').waitFor();
    expect(await page.locator('[data-testid=totals] tbody tr:not(.warn)').count()).toBeGreaterThanOrEqual(3);
    await page.getByTestId('import-input').setInputFiles(exported);
    await page.getByTestId('compare-current').click();
    await page.getByTestId('compare-table').waitFor();
    expect(await page.getByTestId('imported-name').allTextContents()).toEqual([
      'workflow-export.json',
      expect.stringMatching(/^this page/),
    ]);
    const verdicts = await page.getByTestId('compare-verdict-cell').allTextContents();
    expect(verdicts.length).toBeGreaterThanOrEqual(3);
    // The same run against itself: every ratio is 1 and unchanged.
    for (const v of verdicts) expect(v).toMatch(/×1\.000 .* unchanged/);
    await page.screenshot({ path: join(shots, 'workflow-compare.png'), fullPage: true });
  });
});

describe('bad files: a clear message, nothing lost, names shown as text', () => {
  it('refuses files that are not models, and TF.js models with a missing or wrong-size shard', async () => {
    const { page } = lab;
    const input = page.getByTestId('own-model-input');
    await input.setInputFiles({
      name: 'notes.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('just some notes'),
    });
    expect(await page.getByTestId('own-error').textContent()).toMatch(/not an ONNX/);
    const modelJson = readFileSync(join(distDir, 'models', 'tiny-cnn', 'tfjs', 'model.json'));
    const weights = readFileSync(join(distDir, 'models', 'tiny-cnn', 'tfjs', 'weights.bin'));
    await input.setInputFiles([{ name: 'model.json', mimeType: 'application/json', buffer: modelJson }]);
    expect(await page.getByTestId('own-error').textContent()).toMatch(/not given: weights\.bin/);
    await input.setInputFiles([
      { name: 'model.json', mimeType: 'application/json', buffer: modelJson },
      {
        name: 'weights.bin',
        mimeType: 'application/octet-stream',
        buffer: weights.subarray(0, weights.byteLength - 8),
      },
    ]);
    expect(await page.getByTestId('own-error').textContent()).toMatch(/hold \d+ bytes, model\.json's specs need \d+/);
    await input.setInputFiles([
      { name: 'model.json', mimeType: 'application/json', buffer: modelJson },
      { name: 'weights.bin', mimeType: 'application/octet-stream', buffer: weights },
      { name: 'stray.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4) },
    ]);
    expect(await page.getByTestId('own-error').textContent()).toMatch(/does not name as shards: stray\.bin/);
    // The page is still usable and the run on screen is still there.
    expect(await page.getByTestId('run').isEnabled()).toBe(true);
    expect(await page.locator('[data-testid=totals]').count()).toBe(1);
  });

  it('a TF.js model with its shard runs', async () => {
    const { page } = lab;
    await page.getByTestId('own-model-input').setInputFiles([
      {
        name: 'model.json',
        mimeType: 'application/json',
        buffer: readFileSync(join(distDir, 'models', 'tiny-cnn', 'tfjs', 'model.json')),
      },
      {
        name: 'weights.bin',
        mimeType: 'application/octet-stream',
        buffer: readFileSync(join(distDir, 'models', 'tiny-cnn', 'tfjs', 'weights.bin')),
      },
    ]);
    await page.waitForFunction(
      () => (document.querySelector('[data-testid=model]') as HTMLSelectElement | null)?.value === 'tfjs-model',
    );
    await setTargets(['tfjs:wasm']);
    await page.getByTestId('batches').fill('1, 2');
    await page.getByTestId('mode').selectOption('fixed');
    await page.getByTestId('samples').fill('8');
    await page.getByTestId('run').click();
    await waitForRunEnd();
    const rows = await page.locator('[data-testid=totals] tbody tr:not(.warn)').allTextContents();
    expect(rows.filter((r) => /tfjs-model\/tfjs:wasm\/b[12]\/t1/.test(r))).toHaveLength(2);
  }, 120_000);

  it('a results file of another version, or with markup in its names, is handled as text', async () => {
    const { page } = lab;
    const exported = JSON.parse(readFileSync(join(projectRoot, 'test-results', 'workflow-export.json'), 'utf8'));
    const old = { ...exported, schemaVersion: 1 };
    const marked = structuredClone(exported);
    // The first ok cell (the compare table lists ok cells; the cell order is a fresh seeded shuffle, and the
    // webgl cells of this model fail, so cells[0] was a failed cell a third of the time).
    marked.cells.find((c: { status: string }) => c.status === 'ok').cell.id = '<img src=x onerror="window.__pwned=1">';
    await page.getByTestId('import-input').setInputFiles([
      { name: 'old.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(old)) },
      { name: '<b>marked</b>.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(marked)) },
    ]);
    expect(await page.getByTestId('import-error').first().textContent()).toMatch(
      new RegExp(`old\\.json: [\\s\\S]*reads version ${SCHEMA_VERSION}, the file has 1`),
    );
    await page.getByTestId('compare-table').waitFor();
    expect(await page.locator('[data-testid=compare-table] img').count()).toBe(0);
    expect(await page.getByTestId('compare-table').textContent()).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await page.getByTestId('imported-name').allTextContents()).toContain('<b>marked</b>.json');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});

describe('reload mid-run, then resume', () => {
  it('keeps every finished cell and runs only the unfinished ones', async () => {
    const { page } = lab;
    await page.getByTestId('model').selectOption('tiny-cnn');
    await setTargets(['ort:wasm', 'tfjs:wasm', 'tfjs:cpu']);
    await page.getByTestId('batches').fill('1, 2');
    await page.getByTestId('mode').selectOption('fixed');
    await page.getByTestId('samples').fill('60');
    await page.getByTestId('budget').fill('');
    await page.getByTestId('run').click();
    await page.waitForFunction(
      () => /Running: [2-4] of 6/.test(document.querySelector('[data-testid=progress] h2')?.textContent ?? ''),
      null,
      { timeout: 120_000 },
    );
    // Each finished cell is written to IndexedDB as it completes: wait until the stored run holds one.
    await page.waitForFunction(
      async () => {
        const db = await new Promise<IDBDatabase>((ok, fail) => {
          const r = indexedDB.open('inference-latency-lab');
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
        const runs = await new Promise<{ createdAt: string; cells: unknown[] }[]>((ok) => {
          const r = db.transaction('runs').objectStore('runs').getAll();
          r.onsuccess = () => ok(r.result as { createdAt: string; cells: unknown[] }[]);
        });
        db.close();
        const latest = runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
        return (latest?.cells.length ?? 0) >= 1;
      },
      null,
      { timeout: 30_000 },
    );
    await page.reload();
    await page.getByTestId('resume-panel').waitFor({ timeout: 30_000 });
    const text = (await page.getByTestId('resume-panel').textContent())!;
    const done = Number(/(\d) of 6 cells finished/.exec(text)![1]);
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(6);
    await page.screenshot({ path: join(shots, 'workflow-resume.png'), fullPage: true });
    await page.getByTestId('resume').click();
    await waitForRunEnd();
    const rows = await page.locator('[data-testid=totals] tbody tr:not(.warn)').allTextContents();
    expect(rows).toHaveLength(6);
    // Parity still spans the cells from before the reload: tfjs cells compare with the ORT wasm reference.
    expect(rows.filter((r) => /tfjs:(cpu|wasm)\/b\d\/t1.*\de-\d+|0\.0e\+0/.test(r))).toHaveLength(4);
  }, 300_000);
});

describe('a setup in the link', () => {
  it('restores the setup, and names what it could not use', async () => {
    const { page } = lab;
    await page.goto(
      `${lab.server.url}#model=tiny-cnn&targets=ort:wasm,tfjs:wasm&batch=1,4&mode=fixed&samples=12&budget=p95%20%3C%3D%205ms&interleave=1&colour=blue`,
    );
    await page.reload();
    await page.getByTestId('run').waitFor();
    expect(await page.getByTestId('batches').inputValue()).toBe('1, 4');
    expect(await page.getByTestId('mode').inputValue()).toBe('fixed');
    expect(await page.getByTestId('samples').inputValue()).toBe('12');
    expect(await page.getByTestId('budget').inputValue()).toBe('p95 <= 5ms');
    expect(await page.getByTestId('interleave').isChecked()).toBe(true);
    const checked = await page
      .locator('fieldset', { hasText: 'Runtime : backend' })
      .locator('input:checked')
      .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(checked).toEqual(['ort:wasm', 'tfjs:wasm']);
    expect(await page.getByTestId('link-error').textContent()).toMatch(/unknown key 'colour'/);
    await page.screenshot({ path: join(shots, 'workflow-link.png'), fullPage: true });
  });
});

describe('own models across a reload', () => {
  it('a model added but never run is in the model list again after a reload, its inputs read back', async () => {
    requireDist();
    const mine = await openLab();
    try {
      const { page } = mine;
      await page.getByTestId('own-model-input').setInputFiles({
        name: 'kept model.onnx',
        mimeType: 'application/octet-stream',
        buffer: readFileSync(join(distDir, 'models', 'tiny-cnn', 'model.onnx')),
      });
      await page.getByTestId('inputs-editor').waitFor();
      const id = await page.getByTestId('model').inputValue();
      expect(id).toMatch(/^kept-model/);
      // Kept in IndexedDB a moment after it shows (its files first): wait for the record, as a person's reload would.
      await page.waitForFunction(
        (want) =>
          new Promise<boolean>((resolve) => {
            const open = indexedDB.open('inference-latency-lab');
            open.onerror = () => resolve(false);
            open.onsuccess = () => {
              const db = open.result;
              if (!db.objectStoreNames.contains('setup')) return resolve(false);
              const get = db.transaction('setup').objectStore('setup').get('own-models');
              get.onsuccess = () => resolve(Boolean(get.result?.ownModels?.some((m: { id: string }) => m.id === want)));
              get.onerror = () => resolve(false);
            };
          }),
        id,
      );
      await page.reload();
      await page.waitForFunction(() => window.latencyLab !== undefined);
      await page
        .locator('[data-testid=model] option', { hasText: 'kept model.onnx' })
        .waitFor({ state: 'attached' })
        .catch(async (e: Error) => {
          // Say what the page showed instead (an error, or the options it has), so a failure can be read.
          const alerts = await page.locator('[role=alert], .status-failed').allTextContents();
          const options = await page.locator('[data-testid=model] option').allTextContents();
          throw new Error(
            `${e.message}\npage alerts: ${JSON.stringify(alerts)}\nmodel options: ${JSON.stringify(options)}`,
          );
        });
      await page.getByTestId('model').selectOption(id);
      await page.getByTestId('inputs-editor').waitFor();
      expect(await page.getByTestId('inputs-editor').textContent()).toMatch(
        /input\s*float32\s*\[batch \(batch\), 32, 32, 3\]/,
      );
    } finally {
      await mine.close();
    }
  });
});
