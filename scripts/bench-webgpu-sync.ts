/**
 * Does the lab's synced ORT webgpu timing tell the truth? Runs interleaved rounds in headless Chromium (production
 * build) and prints, with bootstrap 95% CIs:
 *   (lab inference + readback) / plain time-to-data      -> ~1 means no early return is hidden or invented
 *   (lab upload + inference + readback) / plain           -> the whole lab path against the plain one
 *   unsynced run() / lab synced inference                 -> < 1 shows the early return naive timing reports
 *
 *   npm run bench:webgpu-sync [-- --model tiny-cnn --batch 1 --rounds 30]
 * On a machine without a GPU the WebGPU adapter is SwiftShader: the ratios still test the sync, not GPU speed.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { launchChromium } from '../src/cli/chromium.ts';
import { checkDist } from '../src/cli/driver.ts';
import { serveStatic } from '../src/cli/server.ts';
import { ratioOfMedians } from '../src/lib/measure/compare.ts';
import { fmtMs } from '../src/lib/report/format.ts';
import { median } from '../src/lib/measure/stats.ts';
import type {} from '../src/lib/contracts/automation-api.ts';
import type { GpuSyncRounds } from '../src/lib/contracts/automation-api.ts';

const { values: v } = parseArgs({
  options: {
    model: { type: 'string', default: 'tiny-cnn' },
    batch: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '30' },
  },
});
const dist = resolve(join(import.meta.dirname, '..', 'dist'));
checkDist(dist);
const server = await serveStatic(dist);
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => window.latencyLab !== undefined);
  const r = (await page.evaluate(
    `window.latencyLab.benchGpuSync(${JSON.stringify(v.model)}, ${Number(v.batch)}, ${Number(v.rounds)})`,
  )) as GpuSyncRounds;
  const sum = (...xs: number[][]) => xs[0]!.map((_, i) => xs.reduce((s, x) => s + x[i]!, 0));
  const labIR = sum(r.labInference, r.labReadback);
  const labAll = sum(r.labUpload, r.labInference, r.labReadback);
  console.log(
    `ORT webgpu (build '${r.build}', one device for all three), ${v.model} batch ${v.batch}, ${r.plain.length} interleaved rounds (medians, ms)`,
  );
  console.log(
    `  lab upload ${fmtMs(median(r.labUpload))}  inference (synced) ${fmtMs(median(r.labInference))}  readback ${fmtMs(median(r.labReadback))}`,
  );
  console.log(`  plain run() to data ${fmtMs(median(r.plain))}   unsynced run() ${fmtMs(median(r.unsynced))}`);
  const line = (label: string, a: number[], b: number[]) => {
    const c = ratioOfMedians(a, b, 7);
    console.log(
      `  ${label.padEnd(44)} ${c.ratio.toFixed(3)}  (95% CI ${c.ci95[0].toFixed(3)}-${c.ci95[1].toFixed(3)})`,
    );
  };
  line('(inference + readback) / plain', labIR, r.plain);
  line('(upload + inference + readback) / plain', labAll, r.plain);
  line('unsynced run() / synced inference', r.unsynced, r.labInference);
} finally {
  await browser.close();
  await server.close();
}
