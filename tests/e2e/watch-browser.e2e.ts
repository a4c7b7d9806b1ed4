/**
 * The CLI's watch on the browser (src/cli/driver.ts watchBrowser) tells a busy page from a dead browser. The end of
 * a run keeps the page's main thread busy for seconds (parity, the browser tax, CIs over many samples); asking the
 * page itself whether it is alive then went unanswered, the run was declared lost, and the finished cells were kept
 * without their tax (issue 25, item 0). Short intervals here stand for the CLI's 5 s / 15 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../src/cli/chromium.ts';
import { watchBrowser } from '../../src/cli/driver.ts';

let browser: LaunchedBrowser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(() => browser?.close());

describe('watchBrowser', () => {
  it('waits for a page whose main thread is busy far longer than the dead-browser limit', async () => {
    const page = await browser.context.newPage();
    await page.goto('data:text/html,<p>busy</p>');
    const work = page.evaluate(() => {
      const t = performance.now();
      while (performance.now() - t < 4_000);
      return 'finished';
    });
    await expect(watchBrowser(page, work, 250, 1_000)).resolves.toBe('finished');
    await page.close();
  }, 30_000);

  it('still says the browser is gone when the page crashes mid-work', async () => {
    const page = await browser.context.newPage();
    await page.goto('data:text/html,<p>doomed</p>');
    const work = page.evaluate(() => new Promise<string>(() => undefined));
    const watched = watchBrowser(page, work, 250, 1_000);
    void page.goto('chrome://crash').catch(() => undefined);
    await expect(watched).rejects.toThrow(/crashed|closed|stopped answering/);
  }, 30_000);
});
