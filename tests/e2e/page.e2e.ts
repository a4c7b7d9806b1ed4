/** The page as a person uses it: isolation and timer shown, a run from the form, results and cold start tables. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLab, projectRoot, requireDist, type LabPage } from './harness.ts';

const shots = join(projectRoot, 'test-results');

describe('the lab page', () => {
  let lab: LabPage;
  beforeAll(async () => {
    requireDist();
    mkdirSync(shots, { recursive: true });
    lab = await openLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('shows isolation and the measured timer resolution', async () => {
    const { page } = lab;
    await page.getByTestId('isolation').waitFor();
    expect(await page.getByTestId('isolation').textContent()).toMatch(/^\s*Cross-origin isolated/);
    expect(await page.getByTestId('timer-resolution').textContent()).toMatch(/5\.0 µs/);
  });

  it('runs the chosen model on the chosen backends and shows per-stage and cold-start tables', async () => {
    const { page } = lab;
    await page.getByTestId('model').selectOption('tiny-cnn');
    // Auto sampling (the default), loosened so the test stays quick: ±5%, at most 2 s of sampling per cell.
    expect(await page.getByTestId('mode').inputValue()).toBe('auto');
    await page.getByTestId('target-ci').fill('5');
    await page.getByLabel('Sampling time cap (s)').fill('2');
    await page.getByTestId('batches').fill('1, 2');
    await page.getByTestId('run').click();
    await page.getByTestId('progress').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(shots, 'page-running.png'), fullPage: true });
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=results] tbody tr td.status-ok').length === 6,
      null,
      { timeout: 180_000 },
    );
    const rows = await page.locator('[data-testid=results] tbody tr').allTextContents();
    expect(rows.join('\n')).toMatch(/tiny-cnn\/ort:wasm@wasm\/b2\/t1/);
    expect(await page.locator('[data-testid=cold-start] tbody tr').count()).toBe(6);
    // What each cell's worker fetched on this connection, and its first result (a first visit: the test's routing
    // keeps Chromium's HTTP cache off, so nothing comes from it).
    const fetched = await page.getByTestId('fetched').allTextContents();
    expect(fetched).toHaveLength(6);
    for (const f of fetched) expect(f).toMatch(/^\d[\d.]* (B|KiB|MiB) \(first visit\)$/);
    for (const f of await page.getByTestId('first-result').allTextContents()) expect(Number(f)).toBeGreaterThan(0);
    // tfjs cells are compared with the ORT wasm reference of the same batch once the run is done
    const tfjsRow = await page
      .locator('[data-testid=totals] tbody tr', { hasText: 'tiny-cnn/tfjs:cpu/b2/t1' })
      .textContent();
    expect(tfjsRow).toMatch(/\d\.\de-\d+|0\.0e\+0/);
    // Every cell says why sampling stopped; the fastest of each batch is marked, the others get a verdict.
    const stops = await page.getByTestId('stop-reason').allTextContents();
    expect(stops).toHaveLength(6);
    for (const s of stops)
      expect(s).toMatch(
        /^target met \(±[\d.]+%\)$|^(time|sample) cap, ±[\d.]+% \(target ±[\d.]+%(; ~\d+ s|; over an hour)?\)$/,
      );
    expect((await page.getByTestId('vs-fastest').allTextContents()).filter((t) => t.trim() === 'fastest')).toHaveLength(
      2,
    );
    expect(await page.getByTestId('compare-verdict').textContent()).toMatch(
      /faster than|slower than|indistinguishable/,
    );
    await page.screenshot({ path: join(shots, 'page-results.png'), fullPage: true });
  });

  it('makes a result link that shows the run elsewhere and compares it with the run on screen there', async () => {
    const { page } = lab;
    await page.getByTestId('share-link-make').click();
    const link = await page.getByTestId('share-link').inputValue();
    expect(link.startsWith(`${lab.server.url}#result=`)).toBe(true);
    // Another tab of this browser: it shows the shared run, and beside it the last run (restored on load).
    const other = await lab.browser.context.newPage();
    try {
      await other.goto(link);
      await other.getByTestId('shared-run').waitFor({ timeout: 30_000 });
      expect(await other.locator('[data-testid=shared-run] table').first().locator('tbody tr').count()).toBe(6);
      await other.getByTestId('shared-compare').waitFor({ timeout: 30_000 });
      const rows = await other.locator('[data-testid=shared-compare] tbody tr').allTextContents();
      expect(rows).toHaveLength(6);
      // The same run on both sides: every ratio is 1 and the CIs overlap.
      for (const r of rows) expect(r).toMatch(/×1\.000\s*overlap/);
      // A link is not a setup: no link error, the form keeps its defaults.
      expect(await other.getByTestId('link-error').count()).toBe(0);
      await other.screenshot({ path: join(shots, 'shared-link.png'), fullPage: true });
      // A damaged link says so, and the page stays usable.
      await other.goto(`${link.slice(0, -12)}`);
      await other.reload();
      await other.getByTestId('shared-error').waitFor({ timeout: 30_000 });
      expect(await other.getByTestId('shared-error').textContent()).toMatch(/damaged/);
      expect(await other.getByTestId('run').isEnabled()).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('a bad batch list is an error message, and the page stays usable', async () => {
    const { page } = lab;
    await page.getByTestId('batches').fill('1, x');
    await page.getByTestId('run').click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/batch size 'x'/);
    expect(await page.getByTestId('run').isEnabled()).toBe(true);
  });

  it('a sticky section nav moves between the parts, by mouse or keyboard, and the URL remembers where', async () => {
    const { page } = lab;
    const nav = page.getByTestId('section-nav');
    await nav.getByRole('link', { name: 'History' }).waitFor();
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Setup',
      'Results',
      'Serving',
      'Import & compare',
      'History',
    ]);
    // In view: scrolled to (the page scrolled down) and its top in the upper part of the window. A part near the
    // page's end can't reach the very top: the page ends first.
    const inView = (id: string) =>
      page.waitForFunction((x) => {
        const el = document.getElementById(x);
        if (!el) return false; // not drawn yet (the page is still loading)
        const top = el.getBoundingClientRect().top;
        return window.scrollY > 0 && top >= 0 && top < window.innerHeight * 0.6;
      }, id);
    await page.evaluate(() => window.scrollTo(0, 0));
    await nav.getByRole('link', { name: 'Serving' }).click();
    await inView('section-serving');
    expect(new URL(page.url()).searchParams.get('at')).toBe('serving');
    // The nav stays on screen while the page scrolls under it.
    expect((await nav.boundingBox())!.y).toBeLessThan(5);
    // Keyboard: the links are in the tab order and Enter follows one.
    await nav.getByRole('link', { name: 'Setup' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => Math.abs(document.getElementById('section-setup')!.getBoundingClientRect().top) < 120,
    );
    expect(new URL(page.url()).searchParams.get('at')).toBe('setup');
    // A reload with ?at= comes back to that part.
    const url = new URL(page.url());
    url.searchParams.set('at', 'serving');
    await page.goto(url.href);
    await page.waitForFunction(() => window.latencyLab !== undefined);
    await inView('section-serving');
    expect(await nav.getByRole('link', { name: 'Serving' }).getAttribute('aria-current')).toBe('location');
  });

  it('sent no request outside the page origin', async () => {
    // The guard sees the workers' requests too (model files and wasm are fetched inside cell workers).
    expect(lab.seen.some((u) => u.endsWith('/models/tiny-cnn/model.onnx'))).toBe(true);
    expect(lab.seen.some((u) => u.endsWith('.wasm'))).toBe(true);
    // Two walls. The lab page's CSP stops a request to another origin before it leaves (connect-src 'self')...
    const blocked = await lab.page.evaluate(async () => {
      const seen: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
      await fetch('http://192.0.2.1/csp').catch(() => undefined);
      // The violation event is queued as a task of its own: let it arrive.
      await new Promise((r) => setTimeout(r, 200));
      return seen;
    });
    expect(blocked).toContain('connect-src');
    expect(lab.offOrigin).toEqual([]);
    // ...and the guard must catch what gets past a page (here one without the CSP), or this test could never fail.
    const bare = await lab.browser.context.newPage();
    try {
      await bare.evaluate(() => fetch('http://192.0.2.1/probe').catch(() => undefined));
    } finally {
      await bare.close();
    }
    expect(lab.offOrigin).toEqual(['http://192.0.2.1/probe']);
  });
});
