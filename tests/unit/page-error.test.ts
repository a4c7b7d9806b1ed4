/** The CLI says what the page threw in the page's words: no Playwright prefix, no minified stack. */
import { describe, expect, it } from 'vitest';
import { PageError } from '../../src/cli/driver.ts';

describe('PageError', () => {
  it("keeps the page's first line only", () => {
    const thrown = new Error(
      'page.evaluate: Error: worker 1 could not start tiny-cnn/ort:webnn@default/b1/t1: no WebNN context\n    at E (http://127.0.0.1:1/assets/serving-pool-x.js:1:3994)',
    );
    const e = new PageError(thrown);
    expect(e.name).toBe('PageError');
    expect(e.message).toBe('worker 1 could not start tiny-cnn/ort:webnn@default/b1/t1: no WebNN context');
    expect(new PageError('plain words').message).toBe('plain words');
  });
});
