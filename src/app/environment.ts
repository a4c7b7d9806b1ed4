/** The environment stored with every run: browser, OS, cores, memory, isolation, timer, library versions. */
import type { Environment } from '../lib/schema.ts';
import { probeWorker } from './worker-bridge.ts';

interface UAData {
  brands?: { brand: string; version: string }[];
  platform?: string;
  getHighEntropyValues?(
    hints: string[],
  ): Promise<{ fullVersionList?: { brand: string; version: string }[]; platform?: string; platformVersion?: string }>;
}

async function browserInfo(): Promise<{ name: string; version: string; platform: string }> {
  const uaData = (navigator as Navigator & { userAgentData?: UAData }).userAgentData;
  if (uaData?.getHighEntropyValues) {
    try {
      const hi = await uaData.getHighEntropyValues(['fullVersionList', 'platform', 'platformVersion']);
      const brand =
        hi.fullVersionList?.find((b) => !/Not.?A.?Brand/i.test(b.brand) && b.brand !== 'Chromium') ??
        hi.fullVersionList?.find((b) => b.brand === 'Chromium');
      if (brand)
        return {
          name: brand.brand,
          version: brand.version,
          platform: [hi.platform, hi.platformVersion].filter(Boolean).join(' '),
        };
    } catch {
      /* fall back to the UA string */
    }
  }
  const ua = navigator.userAgent;
  const m = /(Firefox|Edg|Chrome|Version)\/([\d.]+)/.exec(ua);
  const name = m?.[1] === 'Version' ? 'Safari' : m?.[1] === 'Edg' ? 'Edge' : (m?.[1] ?? 'unknown');
  return { name, version: m?.[2] ?? 'unknown', platform: navigator.platform };
}

export async function collectEnvironment(browserFlags: string[] = []): Promise<Environment> {
  const [browser, probe] = await Promise.all([browserInfo(), probeWorker()]);
  return {
    userAgent: navigator.userAgent,
    browser: { name: browser.name, version: browser.version },
    platform: browser.platform,
    hardwareConcurrency: navigator.hardwareConcurrency ?? 0,
    deviceMemoryGiB: (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? null,
    crossOriginIsolated: probe.crossOriginIsolated,
    timerResolutionMs: probe.timerResolutionMs,
    libraries: __LIB_VERSIONS__,
    browserFlags,
    gpu: probe.gpu,
    capabilities: probe.capabilities,
  };
}
