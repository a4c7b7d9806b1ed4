/**
 * Load discipline: the first page load may fetch only the app shell, at most 150 KB of JS gzipped; runtimes
 * (ORT, tfjs) and their wasm load only when a cell needs them. Reads dist/.vite/manifest.json (written by the
 * build), prints every chunk with its gzipped size and whether the first load needs it, and exits 1 past budget.
 *
 *   npm run size [-- --budget-kb 150]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

interface Chunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

const { values: v } = parseArgs({
  options: { 'budget-kb': { type: 'string', default: '150' }, dist: { type: 'string' } },
});
const dist = resolve(v.dist ?? join(import.meta.dirname, '..', 'dist'));
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<string, Chunk>;
const budget = Number(v['budget-kb']) * 1024;

// The first load: the HTML entry and everything it imports statically, transitively.
const initial = new Set<string>();
const visit = (key: string) => {
  const chunk = manifest[key];
  if (!chunk || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const css of chunk.css ?? []) initial.add(css);
  for (const i of chunk.imports ?? []) visit(i);
};
for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry && key.endsWith('.html')) visit(key);
// Worker entries are built apart (not in the manifest). The page starts the small probe worker at load (backends,
// clock); the cell worker starts only when a run does. So the probe worker named in a first-load chunk counts as
// first load; the cell worker does not (tests/e2e/static-host.e2e.ts checks what a first visit really fetches).
const STARTED_AT_LOAD = /^probe-worker-/;
const assets = readdirSync(join(dist, 'assets'));
for (const f of [...initial]) {
  if (!f.endsWith('.js')) continue;
  const text = readFileSync(join(dist, f), 'utf8');
  for (const a of assets)
    if (a.endsWith('.js') && STARTED_AT_LOAD.test(a) && text.includes(a)) initial.add(`assets/${a}`);
}

const files = new Set([
  ...Object.values(manifest).flatMap((c) => [c.file, ...(c.css ?? [])]),
  ...assets.map((a) => `assets/${a}`),
]);
const rows = [...files]
  .filter((f) => /\.(js|css)$/.test(f))
  .map((f) => {
    const buf = readFileSync(join(dist, f));
    return {
      file: f,
      bytes: statSync(join(dist, f)).size,
      gzip: gzipSync(buf, { level: 9 }).byteLength,
      first: initial.has(f),
    };
  })
  .sort((a, b) => Number(b.first) - Number(a.first) || b.gzip - a.gzip);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
console.log(`${'file'.padEnd(48)} ${'raw'.padStart(10)} ${'gzip'.padStart(10)}  first load`);
for (const r of rows)
  console.log(
    `${r.file.padEnd(48)} ${kb(r.bytes).padStart(10)} ${kb(r.gzip).padStart(10)}  ${r.first ? 'yes' : 'no (on demand)'}`,
  );
const firstJs = rows.filter((r) => r.first && r.file.endsWith('.js')).reduce((a, r) => a + r.gzip, 0);
const leaked = rows.filter((r) => r.first && /(^|\/)(ort|tfjs)[-.]/.test(r.file.split('/').pop()!));
console.log(`\nfirst-load JS: ${kb(firstJs)} gzipped (budget ${kb(budget)})`);
if (leaked.length) console.error(`runtime chunk(s) in the first load: ${leaked.map((l) => l.file).join(', ')}`);
if (firstJs > budget || leaked.length) {
  console.error('size check FAILED');
  process.exit(1);
}
console.log('size check passed');
