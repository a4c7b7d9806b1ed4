/**
 * The verdict's code to ship, shipped: a short CLI run (tiny-cnn on ort:wasm, then on tfjs:wasm; fixed input values)
 * picks a cell; its generated code, taken from report.md, is built alone into a minimal page (Vite's build API, the
 * runtime from node_modules, none of the lab's code), served same-origin with COOP/COEP, and run with the same input
 * values. Its outputs must equal the verdict cell's within 1e-4. Then the lab's page with its verdict, for the eye.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/cli/chromium.ts';
import { serveStatic } from '../../src/cli/server.ts';
import { parseManifest } from '../../src/lib/models/manifest.ts';
import { shipVerdicts } from '../../src/lib/report/verdict-ship.ts';
import { parseRunResult } from '../../src/lib/schema.ts';
import { distDir, openLab, projectRoot, requireDist } from './harness.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-ship-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shots = '/work/shots/27';

/** The lab's run, as a person runs it: one target, fixed input values, a short fixed sampling. */
function labRun(target: string, out: string) {
  const r = spawnSync(
    process.execPath,
    [
      join(projectRoot, 'bin', 'latency-lab.js'),
      'run',
      ...['--models', 'tiny-cnn', '--targets', target, '--values', 'input=const:0.5'],
      ...['--samples', '20', '--warmup', '2', '--budget', 'tiny-cnn median <= 5s', '--out', out],
    ],
    { encoding: 'utf8', cwd: projectRoot, timeout: 240_000, env: { ...process.env, CI: '1' } },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The one ```js block of report.md's "What to ship". */
function codeFromReport(md: string): string {
  const at = md.indexOf('## What to ship');
  expect(at, 'report.md has a What to ship section').toBeGreaterThan(-1);
  const m = /```js\n([\s\S]*?)\n```/.exec(md.slice(at));
  expect(m, 'report.md carries the code to ship').not.toBeNull();
  return m![1]! + '\n';
}

/** Runs the lab on one target and takes its verdict: the pick, and the code from report.md (checked against the lib). */
function verdictOf(target: string) {
  const out = join(tmp, `run-${target.replace(':', '-')}`);
  const r = labRun(target, out);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/what to ship/);
  const result = parseRunResult(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  const manifest = parseManifest(JSON.parse(readFileSync(join(distDir, 'models', 'manifest.json'), 'utf8')));
  const [shipped] = shipVerdicts([result], { manifest });
  const code = codeFromReport(readFileSync(join(out, 'report.md'), 'utf8'));
  expect(code).toBe(shipped!.code!.code);
  const model = manifest.models.find((m) => m.id === 'tiny-cnn')!;
  const format = model.formats.find((f) => f.format === shipped!.verdict.pick!.result.cell.format)!;
  return {
    out: r.out,
    pick: shipped!.verdict.pick!.result,
    ship: shipped!.code!,
    code,
    files: [format.entry, ...format.weights],
  };
}

/**
 * The minimal app: the generated module verbatim and a page that feeds it the run's input values, bundled by Vite
 * against node_modules, with the files the code says to serve; served same-origin (COOP/COEP). Its outputs.
 */
async function runAlone(v: ReturnType<typeof verdictOf>, name: string): Promise<Record<string, number[]>> {
  const app = join(tmp, name);
  mkdirSync(app);
  symlinkSync(join(projectRoot, 'node_modules'), join(app, 'node_modules'));
  writeFileSync(join(app, 'ship.js'), v.code);
  const input = v.pick.inputs[0]!;
  const size = input.shape.reduce((a, b) => a * b, 1);
  writeFileSync(
    join(app, 'main.js'),
    `import { run } from './ship.js';\n` +
      `run({ ${JSON.stringify(input.name)}: new Float32Array(${size}).fill(0.5) })\n` +
      `  .then((o) => { window.outputs = Object.fromEntries(Object.entries(o).map(([k, t]) => [k, Array.from(t.data)])); })\n` +
      `  .catch((e) => { window.failure = String(e); });\n`,
  );
  writeFileSync(
    join(app, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module" src="./main.js"></script>',
  );
  const site = join(app, 'dist');
  await build({
    root: app,
    configFile: false,
    base: './',
    logLevel: 'warn',
    build: { outDir: site, target: 'es2022' },
  });
  // The model where its URL points (./models/...), the runtime's wasm where the code's wasm folder points.
  const copies = [
    ...v.files.map((f) => ({ from: join(distDir, 'models', f.path), to: join(site, 'models', f.path) })),
    ...v.ship.selfHost.map((f) => ({ from: join(projectRoot, f.from), to: join(site, f.to) })),
  ];
  for (const c of copies) {
    mkdirSync(dirname(c.to), { recursive: true });
    copyFileSync(c.from, c.to);
  }
  const server = await serveStatic(site);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const requests: string[] = [];
    const said: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('console', (m) => said.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => said.push(`pageerror: ${e.message}`));
    await page.goto(server.url);
    await page
      .waitForFunction(() => 'outputs' in window || 'failure' in window, null, { timeout: 60_000 })
      .catch((e: unknown) => {
        throw new Error(`the minimal page gave no result: ${String(e)}\n${said.join('\n')}\n${requests.join('\n')}`);
      });
    expect(await page.evaluate(() => (window as unknown as { failure?: string }).failure)).toBeUndefined();
    const origin = new URL(server.url).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual(
      [],
    );
    // The runtime's wasm came from the folder the code names, not from the bundle's own asset.
    const wasm = v.ship.selfHost.filter((f) => f.to.endsWith('.wasm')).map((f) => f.to.replace(/^\./, ''));
    expect(server.served.filter((p) => wasm.includes(p)).length, server.served.join(', ')).toBeGreaterThan(0);
    return (await page.evaluate(() => (window as unknown as { outputs: Record<string, number[]> }).outputs))!;
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Every output's head values, as the verdict cell recorded them, against the minimal page's. */
function expectSameOutputs(pick: ReturnType<typeof verdictOf>['pick'], got: Record<string, number[]>) {
  const values = Object.values(got);
  pick.outputs.forEach((o, k) => {
    // ORT names its outputs as the graph does; TF.js' layers model names them its own way: then by position.
    const mine = got[o.name] ?? values[k]!;
    expect(o.head.length).toBeGreaterThan(0);
    o.head.forEach((v, i) => expect(Math.abs(mine[i]! - v!), `${o.name}[${i}]`).toBeLessThanOrEqual(1e-4));
  });
}

describe('the code to ship', () => {
  it('ORT wasm: runs alone in a minimal page and gives the verdict cell its outputs', async () => {
    requireDist();
    const v = verdictOf('ort:wasm');
    expect(v.out).toMatch(/tiny-cnn b1: ship ort:wasm \(onnxruntime-web\/wasm\) · 1 thread · b1 · fp32/);
    expect(v.code).toContain('"./models/tiny-cnn/model.onnx"');
    expectSameOutputs(v.pick, await runAlone(v, 'app-ort'));
  }, 300_000);

  it('TF.js wasm: the same', async () => {
    requireDist();
    const v = verdictOf('tfjs:wasm');
    expect(v.out).toMatch(/tiny-cnn b1: ship tfjs:wasm · 1 thread · b1 · fp32/);
    expectSameOutputs(v.pick, await runAlone(v, 'app-tfjs'));
  }, 300_000);

  it('shows the verdict on top of the page results (screenshots for the eye)', async () => {
    requireDist();
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.getByTestId('model').selectOption('tiny-cnn');
      await page.getByTestId('target-ci').fill('5');
      await page.getByLabel('Sampling time cap (s)').fill('2');
      await page.getByTestId('run').click();
      await page.getByTestId('verdict').waitFor({ timeout: 240_000 });
      const headline = await page.getByTestId('verdict-headline').first().textContent();
      expect(headline).toMatch(/^ship (ort|tfjs):\w+ .* · b1 · fp32: median [\d.]+ ms \(95% CI/);
      expect(await page.getByTestId('verdict-against').first().textContent()).toMatch(/95% CI/);
      const code = (await page.getByTestId('ship-code').first().textContent())!;
      expect(code).toMatch(/^import \* as (ort|tf) from/);
      // The copy button puts the code on the clipboard.
      await lab.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: lab.server.url });
      await page.getByTestId('copy-code').first().click();
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(code);
      mkdirSync(shots, { recursive: true });
      // Under the sticky section nav, not behind it.
      const top = async () =>
        page.getByTestId('verdict').evaluate((el) => scrollTo(0, el.getBoundingClientRect().top + scrollY - 64));
      await top();
      await page
        .locator('[data-testid=verdict] details')
        .first()
        .evaluate((d) => ((d as HTMLDetailsElement).open = true));
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(shots, 'verdict-1400x900.png') });
      await page.getByTestId('verdict').screenshot({ path: join(shots, 'verdict-section-1400x900.png') });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(500);
      await top();
      await page.screenshot({ path: join(shots, 'verdict-390x844.png') });
      await page.getByTestId('verdict').screenshot({ path: join(shots, 'verdict-section-390x844.png') });
    } finally {
      await lab.close();
    }
  }, 300_000);
});
