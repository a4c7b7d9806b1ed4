import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CompressedFiles } from '../../src/cli/compress.ts';
import { countBytes, visitOf } from '../../src/cli/first-visit.ts';
import { serveStatic } from '../../src/cli/server.ts';
import {
  bytesPredictMs,
  FirstVisits,
  parseProfiles,
  totalSent,
  type FirstVisit,
} from '../../src/lib/schema/first-visit.ts';
import { networkCosts } from '../../src/lib/report/first-visit-report.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-fv-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((ok, fail) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', fail)
      .end();
  });
}

describe('network profiles', () => {
  it('parses a list, puts the unthrottled visit first, takes DevTools-style aliases and names an unknown one', () => {
    expect(parseProfiles('4g,3g')).toEqual(['none', '4g', '3g']);
    expect(parseProfiles('fast-3g, 4g, 4g')).toEqual(['none', 'slow-4g', '4g']);
    expect(() => parseProfiles('4g,5g')).toThrow(/unknown network profile '5g'/);
  });
  it('predicts the bytes alone at the profile throughput (Fast 4G: 9 Mbps x 0.9)', () => {
    expect(bytesPredictMs(1_012_500, '4g')).toBeCloseTo(1000, 6);
    expect(bytesPredictMs(1_000_000, 'none')).toBeNull();
  });
});

describe('first-visit records', () => {
  const bytes = (wasm: number, model: number, input = 0) => ({
    script: { requests: 2, sentBytes: 1000, bytes: 4000 },
    wasm: { requests: wasm ? 1 : 0, sentBytes: wasm, bytes: wasm * 5 },
    model: { requests: model ? 1 : 0, sentBytes: model, bytes: model },
    input: { requests: input ? 1 : 0, sentBytes: input, bytes: input },
    other: { requests: 0, sentBytes: 0, bytes: 0 },
  });
  const visit = (
    profile: FirstVisit['profile'],
    kind: FirstVisit['visit'],
    ms: number,
    b: FirstVisit['bytes'],
  ): FirstVisit => ({
    cellId: 'm/ort:wasm/b1/t1',
    profile,
    visit: kind,
    status: 'ok',
    reason: null,
    pageLoadMs: 100,
    firstResultMs: ms,
    parts: {
      workerBootMs: 1,
      runtimeInitMs: 1,
      modelFetchMs: 1,
      sessionCreateMs: 1,
      firstInferenceMs: ms - 4,
      wasmDownloadMs: null,
    },
    pageBytes: { requests: 1, sentBytes: 1, bytes: 1 },
    bytes: b,
  });
  it('the network cost is the throttled first visit minus the unthrottled one, beside what its bytes predict; pictures are left out', () => {
    const fv = FirstVisits.parse({
      emulated: true,
      profiles: [],
      cpuSlowdown: null,
      compression: 'br',
      stayMs: 3000,
      visits: [
        visit('none', 'first', 500, bytes(2_000_000, 25_000, 900_000)),
        visit('none', 'returning', 400, bytes(0, 0)),
        visit('4g', 'first', 3200, bytes(2_000_000, 25_000, 900_000)),
        visit('4g', 'returning', 600, bytes(0, 0)),
      ],
    });
    expect(totalSent(fv.visits[2]!.bytes)).toBe(2_026_000);
    const [c] = networkCosts(fv);
    expect(c).toMatchObject({
      profile: '4g',
      addedMs: 2700,
      sentBytes: 2_026_000,
      requests: 4,
      returningMs: 600,
      firstMs: 3200,
    });
    expect(c!.predictedMs).toBeCloseTo((2_026_000 / 1_012_500) * 1000, 6);
  });
  it('counts what the server sent by kind of file', () => {
    const sent = [
      { path: '/assets/ort-wasm-simd-threaded-x.wasm', status: 200, encoding: 'br', sentBytes: 10, bytes: 50 },
      { path: '/assets/cell-worker-x.js', status: 200, encoding: 'br', sentBytes: 3, bytes: 9 },
      { path: '/models/tiny-cnn/model.onnx', status: 304, encoding: null, sentBytes: 0, bytes: 0 },
      { path: '/models/images/astronaut.png', status: 200, encoding: null, sentBytes: 7, bytes: 7 },
      { path: '/models/manifest.json', status: 200, encoding: 'br', sentBytes: 2, bytes: 6 },
      { path: '/own/my.onnx', status: 200, encoding: null, sentBytes: 4, bytes: 4 },
    ];
    const b = countBytes(sent, new Set(['/own/my.onnx']));
    expect(b.wasm).toEqual({ requests: 1, sentBytes: 10, bytes: 50 });
    expect(b.script).toEqual({ requests: 1, sentBytes: 3, bytes: 9 });
    expect(b.model).toEqual({ requests: 2, sentBytes: 4, bytes: 4 });
    expect(b.input).toEqual({ requests: 1, sentBytes: 7, bytes: 7 });
    expect(b.other).toEqual({ requests: 1, sentBytes: 2, bytes: 6 });
  });
  it('a cell that ran out of time is a timeout with its reason, not a number', () => {
    const v = visitOf('c', '3g', 'first', {
      status: 'failed',
      reason: 'session: timed out after 900 s (cell timeout)',
      coldStart: null,
      pageLoadMs: 12,
    });
    expect(v).toMatchObject({ status: 'timeout', firstResultMs: null, parts: null, pageLoadMs: 12 });
    expect(visitOf('c', '3g', 'first', { status: 'timeout', reason: 'no first result within 900 s' }).status).toBe(
      'timeout',
    );
  });
});

describe('the server as a static host: compressed copies, cache headers, bytes as sent', () => {
  it('sends br or gzip as accepted, the file itself otherwise, revalidates with a 304, and logs the bytes on the wire', async () => {
    const root = join(tmp, 'site');
    mkdirSync(join(root, 'assets'), { recursive: true });
    mkdirSync(join(root, 'models'), { recursive: true });
    const js = Buffer.from('export const x = 1;\n'.repeat(500));
    writeFileSync(join(root, 'assets', 'a-123.js'), js);
    writeFileSync(join(root, 'models', 'm.onnx'), Buffer.alloc(5000, 7));
    writeFileSync(join(root, 'index.html'), '<!doctype html><p>hi</p>');
    const compressed = await CompressedFiles.build(root, join(tmp, 'cache'));
    const server = await serveStatic(root, { compressed });
    try {
      const br = await get(`${server.url}assets/a-123.js`, { 'Accept-Encoding': 'gzip, deflate, br, zstd' });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.body).equals(js)).toBe(true);
      expect(br.headers['cache-control']).toMatch(/immutable/);
      expect(br.headers['content-type']).toMatch(/javascript/);
      expect(br.headers['cross-origin-embedder-policy']).toBe('require-corp');
      const gz = await get(`${server.url}assets/a-123.js`, { 'Accept-Encoding': 'gzip' });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.body).equals(js)).toBe(true);
      const plain = await get(`${server.url}assets/a-123.js`);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.equals(js)).toBe(true);
      const again = await get(`${server.url}assets/a-123.js`, {
        'Accept-Encoding': 'br',
        'If-None-Match': String(br.headers.etag),
      });
      expect(again.status).toBe(304);
      // Model files go as they are, and are revalidated on each use (their names are reused).
      const model = await get(`${server.url}models/m.onnx`, { 'Accept-Encoding': 'br' });
      expect(model.headers['content-encoding']).toBeUndefined();
      expect(model.headers['cache-control']).toBe('no-cache');
      const log = server.sent.filter((s) => s.path === '/assets/a-123.js');
      expect(log.map((s) => [s.status, s.encoding, s.sentBytes, s.bytes])).toEqual([
        [200, 'br', br.body.length, js.length],
        [200, 'gzip', gz.body.length, js.length],
        [200, null, js.length, js.length],
        [304, null, 0, 0],
      ]);
      // A second build reads the copies from the cache folder: the same bytes.
      const again2 = await CompressedFiles.build(root, join(tmp, 'cache'));
      expect(again2.pick('/assets/a-123.js', 'br')!.body.equals(br.body)).toBe(true);
    } finally {
      await server.close();
    }
  });
});
