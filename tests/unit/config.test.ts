import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, parseConfig } from '../../src/lib/plan/config.ts';

describe('config file', () => {
  it('the published JSON Schema is the one the code validates with (run npm run schema after changing it)', () => {
    const published = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'public', 'lab-config.schema.json'), 'utf8'),
    );
    expect(published).toEqual(configJsonSchema());
  });
  it('names an unknown key and the valid ones, at any depth', () => {
    expect(() => parseConfig({ modles: ['x'] }, 'lab.json')).toThrow(
      /lab\.json is not valid:[\s\S]*Unrecognized key: "modles"; valid keys here: \$schema, models, targets/,
    );
    expect(() => parseConfig({ sampling: { sample: 3 } })).toThrow(
      /sampling: Unrecognized key: "sample"; valid keys here: mode, samples/,
    );
    expect(() => parseConfig({ browser: { headless: true } })).toThrow(
      /browser: Unrecognized key: "headless"; valid keys here: chromium, headed, softwareGpu, args/,
    );
  });
  it('checks values and devices', () => {
    expect(() => parseConfig({ sampling: { targetCI: 0 } })).toThrow(/targetCI must be > 0/);
    expect(() => parseConfig({ devices: [{ name: 'x', connect: 'ws://a:1/x', cdp: 'http://b:2' }] })).toThrow(
      /exactly one of connect or cdp/,
    );
    expect(() => parseConfig({ budgets: [{ metric: 'p42', limitMs: 3 }] })).toThrow(/budgets\[0\]/);
  });
  it('keeps sampling as written, so flags and defaults merge key by key', () => {
    const c = parseConfig({
      models: ['tiny-cnn', './mine.onnx'],
      sampling: { samples: 40 },
      budgets: ['tiny-cnn p95 <= 3ms'],
    });
    expect(c.sampling).toEqual({ samples: 40 });
    expect(c.models).toEqual(['tiny-cnn', './mine.onnx']);
  });
});
