import { describe, expect, it } from 'vitest';
import { capabilitiesFrom } from '../../src/runtimes/capabilities.ts';
import { allTargets } from '../../src/lib/targets.ts';

const none = { wasm: null, webgl2: null, webgl1: null, webgpu: null, webnn: null };

describe('capabilities per runtime:backend', () => {
  it('every target has its own check; with everything present all but the native one are available', () => {
    const caps = capabilitiesFrom(none);
    expect(caps.map((c) => c.target)).toEqual(allTargets());
    expect(caps.filter((c) => !c.available).map((c) => c.target)).toEqual(['ort-node:cpu']);
    expect(caps.every((c) => !/no check is defined/.test(c.reason ?? ''))).toBe(true);
  });
  it('two runtimes on one backend say whose need failed', () => {
    const caps = capabilitiesFrom({ ...none, webgpu: 'no adapter' });
    const reason = (t: string) => caps.find((c) => c.target === t)!.reason;
    expect(reason('ort:webgpu')).toBe("ORT's WebGPU execution provider needs a WebGPU adapter: no adapter");
    expect(reason('tfjs:webgpu')).toBe('tfjs-backend-webgpu needs a WebGPU adapter: no adapter');
    expect(caps.find((c) => c.target === 'ort:wasm')!.available).toBe(true);
  });
  it('WebGL backends fall back to WebGL1: unavailable only when neither context can be made', () => {
    const only1 = capabilitiesFrom({ ...none, webgl2: 'no WebGL2 context' });
    expect(only1.find((c) => c.target === 'tfjs:webgl')!.available).toBe(true);
    expect(only1.find((c) => c.target === 'ort:webgl')!.available).toBe(true);
    const neither = capabilitiesFrom({ ...none, webgl2: 'no WebGL2 context', webgl1: 'no WebGL1 context either' });
    expect(neither.find((c) => c.target === 'ort:webgl')!.reason).toMatch(
      /^ORT's WebGL backend needs .*no WebGL2.*no WebGL1/,
    );
    expect(neither.find((c) => c.target === 'tfjs:webgl')!.reason).toMatch(/^tfjs-backend-webgl needs/);
  });
});
