/**
 * The page's first five minutes (issue 29): Run on the first screen and near the first Tab stops, empty parts that
 * say so, one measurement at a time, no ratio without its CI, charts whose whiskers and PNG titles fit.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { labForSuite, requireDist } from './harness.ts';

/** The page as a new visitor finds it: freshly loaded, nothing focused yet. */
async function fresh(page: Page): Promise<void> {
  await page.reload();
  await page.getByTestId('run').waitFor();
}

/** Presses Tab from a fresh page until Run has focus; the presses it took (Infinity past `limit`). */
async function tabsToRun(page: Page, limit = 15): Promise<number> {
  await fresh(page);
  for (let n = 1; n <= limit; n++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'run-button')) return n;
  }
  return Infinity;
}

/** A short run of tiny-cnn on ort:wasm and tfjs:wasm: auto mode, ±10%, at most 0.5 s of sampling a cell. */
async function setUpShortRun(page: Page): Promise<void> {
  await page.getByTestId('model').selectOption('tiny-cnn');
  await page.getByTestId('mode').selectOption('auto');
  await page.getByTestId('target-ci').fill('10');
  await page.getByLabel('Sampling time cap (s)').fill('0.5');
  for (const box of await page.locator('fieldset:has(legend:text("Runtime")) input[type=checkbox]').all()) {
    const target = await box.getAttribute('value');
    if (await box.isEnabled()) await box.setChecked(target === 'ort:wasm' || target === 'tfjs:wasm');
  }
}

describe('the first screen', () => {
  const lab = labForSuite();
  requireDist();

  it('shows Run without scrolling, on a desktop and a phone, within 10 Tab presses and first by the skip link', async () => {
    const { page } = lab();
    for (const [width, height] of [
      [1400, 900],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      await fresh(page);
      const box = (await page.getByTestId('run').boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height, `Run at ${width}x${height}`).toBeLessThanOrEqual(height);
      expect(await page.getByText('then press Run').isVisible()).toBe(true);
      expect(await tabsToRun(page)).toBeLessThanOrEqual(10);
      // The skip link is the first Tab stop, and takes focus straight to Run.
      await fresh(page);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('skip-to-run');
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('run-button');
      expect(page.url()).not.toContain('#'); // a fragment would read as a setup link on reload
    }
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  it('Results and History before any run say there is nothing yet, and every number field fits its step', async () => {
    const { page } = lab();
    expect(await page.getByTestId('no-results').textContent()).toMatch(/No results yet/);
    expect(await page.getByTestId('no-history').textContent()).toMatch(/No runs yet/);
    // The nav's links to empty parts are not greyed like disabled controls.
    const opacity = await page
      .getByTestId('section-nav')
      .getByRole('link', { name: 'Results' })
      .evaluate((a) => getComputedStyle(a).opacity);
    expect(opacity).toBe('1');
    const misfits = await page.$$eval('input[type=number]', (inputs) =>
      (inputs as HTMLInputElement[])
        .filter((i) => i.value !== '' && !i.validity.valid)
        .map((i) => `${i.closest('label')?.textContent?.trim()} = ${i.value} (min ${i.min}, step ${i.step})`),
    );
    expect(misfits).toEqual([]);
  });

  it('one measurement at a time: a run disables the sweep with the reason, and a sweep disables Run', async () => {
    const { page } = lab();
    await setUpShortRun(page);
    await page.getByTestId('mode').selectOption('fixed');
    await page.getByTestId('samples').fill('100000'); // long enough to look at, cancelled below
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor();
    expect(await page.getByTestId('serve-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('serve-blocked').textContent()).toMatch(
      /A run is measuring: one measurement at a time/,
    );
    // Another tab of the lab waits for this run (Web Locks) instead of measuring beside it; it can cancel the wait.
    const other = await lab().browser.context.newPage();
    try {
      await other.goto(lab().server.url);
      // History lists the first tab's run (stored as it starts) once it has loaded.
      await other.getByTestId('history-outcome').first().waitFor();
      const listed = await other.getByTestId('history-outcome').count();
      await other.getByTestId('run').click();
      expect(await other.getByTestId('run-waiting').textContent()).toMatch(/another tab of the lab/);
      await other.getByTestId('run-waiting').getByRole('button', { name: 'Cancel' }).click();
      await other.getByTestId('run-waiting').waitFor({ state: 'detached' });
      expect(await other.getByTestId('run').isEnabled()).toBe(true);
      // It measured nothing: History gains no cancelled run of 0 cells (History reloads just after Run comes back).
      await other.waitForTimeout(1500);
      expect(await other.getByTestId('history-outcome').count()).toBe(listed);
    } finally {
      await other.close();
    }
    await page.getByTestId('cancel').click();
    await page.getByTestId('progress').waitFor({ state: 'detached', timeout: 60_000 });
    expect(await page.getByTestId('serve-run').isEnabled()).toBe(true);

    await page.getByTestId('serve-rates').fill('50');
    await page.getByTestId('serve-duration').fill('30');
    await page.getByTestId('serve-max-batch').fill('1');
    await page.getByTestId('serve-run').click();
    await page.getByTestId('serve-cancel').waitFor();
    expect(await page.getByTestId('run').isDisabled()).toBe(true);
    expect(await page.getByTestId('run-blocked').textContent()).toMatch(/serving measurement is running/);
    await page.getByTestId('serve-cancel').click();
    await page.getByTestId('serve-cancel').waitFor({ state: 'detached', timeout: 60_000 });
    expect(await page.getByTestId('serve-status').textContent()).toMatch(/^cancelled/);
    expect(await page.getByTestId('run').isEnabled()).toBe(true);
  }, 120_000);

  it('without Web Locks (a page outside a secure context) two tabs measure at once, and each marks the other', async () => {
    const { context } = lab().browser;
    const tabs = [await context.newPage(), await context.newPage()];
    const run = (samples: number) => `window.latencyLab.run({ models: ['tiny-cnn'], targets: ['ort:wasm'], batches: [1],
      sampling: { mode: 'fixed', samples: ${samples}, warmup: 5 } }, { onCellStart: () => { window.__cellStarted = true } })`;
    type Run = { cells: { status: string; validity?: { overlapped?: string[] } }[] };
    try {
      for (const tab of tabs) {
        // As on a phone reaching the lab over plain http on the LAN: no navigator.locks (secure contexts only).
        await tab.addInitScript(() => Object.defineProperty(navigator, 'locks', { value: undefined }));
        await tab.goto(lab().server.url);
        await tab.waitForFunction(() => window.latencyLab !== undefined && navigator.locks === undefined);
      }
      // The second starts once the first's cell has started, and is much shorter: they overlap, however slow.
      const first = tabs[0]!.evaluate(run(600)) as Promise<Run>;
      await tabs[0]!.waitForFunction(() => (window as { __cellStarted?: boolean }).__cellStarted === true);
      const both = [await tabs[1]!.evaluate(run(50)), await first] as Run[];
      for (const r of both) {
        expect(r.cells[0]!.status).toBe('ok');
        expect(r.cells[0]!.validity?.overlapped).toEqual(['a scripted run in another tab of the lab']);
      }
      // Alone, nothing is marked.
      const alone = (await tabs[0]!.evaluate(run(50))) as Run;
      expect(alone.cells[0]!.validity?.overlapped).toEqual([]);
    } finally {
      for (const tab of tabs) await tab.close();
    }
  }, 120_000);

  it('a short run: every ratio has its CI, the model work beside the total, whiskers inside the axis, PNG titles inside', async () => {
    const { page } = lab();
    await setUpShortRun(page);
    await page.getByTestId('run').click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=totals] tbody tr td[data-testid=vs-fastest]').length === 2,
      null,
      { timeout: 120_000 },
    );
    await page.getByTestId('progress').waitFor({ state: 'detached', timeout: 60_000 });
    // Every ratio on the page ("≈ ×1.08", "×1.24 slower") comes with its 95% CI in brackets right after it.
    const text = await page.locator('#section-results').innerText();
    const ratios = [
      ...text.matchAll(/[×x](\d+\.\d+)(?![\d.]*\s*(?:(?:slower|faster)\s*)?(?:\(|the steady median))/g),
    ].map(
      (m) => text.slice(Math.max(0, m.index - 60), m.index + 30), // the ratio in its context, for the failure's message
    );
    expect(ratios).toEqual([]);
    for (const w of await page.getByTestId('model-work').allTextContents()) expect(Number(w)).toBeGreaterThan(0);
    const modelVs = await page.getByTestId('model-vs-fastest').allTextContents();
    expect(modelVs.filter((t) => t === 'fastest')).toHaveLength(1);
    for (const t of modelVs.filter((x) => x !== 'fastest')) expect(t).toMatch(/×\d\.\d\d.*\(\d+\.\d+–\d+\.\d+\)/);

    // The exported timeline PNG: its title's right margin is background, no glyph cut at the edge.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Download Per-pass timeline/ }).click(),
    ]);
    const png = readFileSync((await download.path())!).toString('base64');
    const inked = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = new OffscreenCanvas(img.width, img.height);
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      // The header band (title and facts) is above the chart: its rightmost 16 px must hold no text.
      const band = ctx.getImageData(img.width - 16, 0, 16, 100).data;
      const bg = [band[0], band[1], band[2]];
      let odd = 0;
      for (let i = 0; i < band.length; i += 4)
        if (Math.abs(band[i]! - bg[0]!) + Math.abs(band[i + 1]! - bg[1]!) + Math.abs(band[i + 2]! - bg[2]!) > 30) odd++;
      return odd;
    }, png);
    expect(inked).toBe(0);
  }, 180_000);

  it('a reload keeps edits made after the last run, and a run cut short offers to resume on the first screen', async () => {
    const { page } = lab();
    await page.getByTestId('batches').fill('1, 2');
    await page.reload();
    // The draft applies once the page has put the last run back (a moment after the form shows).
    await page.waitForFunction(
      () => (document.querySelector('[data-testid=batches]') as HTMLInputElement | null)?.value === '1, 2',
      null,
      { timeout: 15_000 },
    );

    await page.getByTestId('batches').fill('1');
    await page.getByTestId('mode').selectOption('fixed');
    await page.getByTestId('samples').fill('100000');
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor();
    await page.goto(`${lab().server.url}?at=results`);
    await page.getByTestId('resume-panel').waitFor({ timeout: 30_000 });
    await page.waitForTimeout(300); // past the load's scroll to ?at=
    const box = (await page.getByTestId('resume').boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(900);
    expect(await page.getByTestId('resume-panel').textContent()).toMatch(/0 of 2 cells finished and are shown/);
  }, 60_000);
});
