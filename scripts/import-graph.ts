/**
 * The import graph of src: every import circle, and every arrow between layers (lib, runtimes, worker, app, cli)
 * and between the rooms of src/lib (its folders), each marked when it runs the wrong way. The order is the one
 * eslint.config.js enforces (its ROOMS), read from there so the two can't drift. Exits 1 on a circle or a
 * wrong-way arrow.
 *
 *   npx tsx scripts/import-graph.ts [--files]   (--files: list the file-level imports behind each arrow)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Every .ts and .svelte file under `dir`, as paths relative to the repository root. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|svelte)$/.test(name) && !name.endsWith('.d.ts') ? [relative(ROOT, path)] : [];
  });
}

/** The specifiers a file imports: static and dynamic imports, re-exports, and workers started by URL. */
function specifiers(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const workers = [...text.matchAll(/new URL\(\s*'([^']+)',\s*import\.meta\.url\s*\)/g)].map((m) => m[1]!);
  return [...info.importedFiles.map((f) => f.fileName), ...workers];
}

/** A .svelte file's code: its script blocks (the markup imports nothing). */
function code(path: string): string {
  const text = readFileSync(join(ROOT, path), 'utf8');
  if (!path.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

/** file -> the files of ours it imports (relative specifiers only: packages are not ours). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = specifiers(code(file))
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)))
      .filter((t) => known.has(t));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan), or a file that imports itself. */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) out.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** Within one component: for each import in it, the shortest circle through that import, each circle once. */
function cyclesOf(component: string[], graph: Map<string, string[]>): string[][] {
  const inside = new Set(component);
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const from of component) {
    for (const to of (graph.get(from) ?? []).filter((t) => inside.has(t))) {
      const path = shortestPath(to, from, graph, inside);
      if (!path) continue;
      const cycle = [from, ...path.slice(0, -1)];
      const start = cycle.indexOf([...cycle].sort()[0]!);
      const key = [...cycle.slice(start), ...cycle.slice(0, start)].join(' -> ');
      if (!seen.has(key)) {
        seen.add(key);
        out.push(key.split(' -> '));
      }
    }
  }
  return out;
}

function shortestPath(from: string, to: string, graph: Map<string, string[]>, inside: Set<string>) {
  const previous = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift()!;
    if (v === to) break;
    for (const w of graph.get(v) ?? []) {
      if (inside.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  if (!previous.has(to)) return null;
  const path: string[] = [];
  for (let v: string | null = to; v !== null; v = previous.get(v)!) path.unshift(v);
  return path;
}

/** A file's room: its layer (src/<layer>), and within src/lib its folder (`lib` for the files directly in it). */
function roomOf(file: string): string {
  const parts = relative('src', file).split('/');
  if (parts.length === 1) return 'src';
  if (parts[0] === 'lib' && parts.length > 2) return `lib/${parts[1]}`;
  return parts[0]!;
}

const files = sourceFiles(SRC);
const graph = importGraph(files);
const found = circles(graph);
for (const component of found) {
  console.log(`circle of ${component.length} files:`);
  for (const cycle of cyclesOf(component, graph)) console.log(`  ${[...cycle, cycle[0]].join(' -> ')}`);
}

const arrows = new Map<string, string[]>();
for (const [from, tos] of graph) {
  for (const to of tos) {
    const key = `${roomOf(from)} -> ${roomOf(to)}`;
    if (roomOf(from) !== roomOf(to)) arrows.set(key, [...(arrows.get(key) ?? []), `${from} -> ${to}`]);
  }
}
const showFiles = process.argv.includes('--files');
for (const [arrow, imports] of [...arrows].sort()) {
  console.log(`${arrow} (${imports.length})`);
  if (showFiles) for (const i of imports) console.log(`    ${i}`);
}
console.log(`${files.length} files, ${found.length} circle(s)`);
process.exitCode = found.length ? 1 : 0;
