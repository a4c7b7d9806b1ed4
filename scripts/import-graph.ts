/**
 * The import graph of src: every import circle, and every arrow between layers (lib, runtimes, worker, app, cli)
 * and between the rooms of src/lib (its folders), each marked when it runs the wrong way. The order is the one
 * eslint.config.js enforces (its LAYERS, LIB_ROOMS and LAYER_EXCEPTIONS), read from there so the two can't drift;
 * this sees what ESLint's no-restricted-imports can't: dynamic import(), workers started by URL, and circles.
 * Exits 1 on a circle or a wrong-way import. `npm run lint` runs it quietly.
 *
 *   npx tsx scripts/import-graph.ts [--files] [--quiet]
 *     --files: list the file-level imports behind each arrow; --quiet: print only circles and wrong ways
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

type Kind = 'value' | 'type' | 'url';
interface Edge {
  to: string;
  kind: Kind;
}

/**
 * What a file imports: static imports and re-exports ('type' when every name is a type, as ESLint's
 * allowTypeImports counts them), dynamic import(), and workers started by `new URL('...', import.meta.url)` ('url').
 */
function specifiers(path: string, text: string): { spec: string; kind: Kind }[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { spec: string; kind: Kind }[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      out.push({ spec: (node.moduleSpecifier as ts.StringLiteral).text, kind: typeOnly(node) ? 'type' : 'value' });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) out.push({ spec: arg.text, kind: 'value' });
    } else if (ts.isNewExpression(node) && node.expression.getText(source) === 'URL') {
      const [arg, base] = node.arguments ?? [];
      if (arg && ts.isStringLiteralLike(arg) && base?.getText(source) === 'import.meta.url')
        out.push({ spec: arg.text, kind: 'url' });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function typeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const clause = node.exportClause;
    return (
      !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly)
    );
  }
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return (
    !clause.name &&
    !!named &&
    ts.isNamedImports(named) &&
    named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly)
  );
}

/** A .svelte file's code: its script blocks (the markup imports nothing). */
function code(path: string): string {
  const text = readFileSync(join(ROOT, path), 'utf8');
  if (!path.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

/** file -> the files of ours it imports (relative specifiers only: packages are not ours). */
function importGraph(files: string[]): Map<string, Edge[]> {
  const known = new Set(files);
  const graph = new Map<string, Edge[]>();
  for (const file of files) {
    const edges = new Map<string, Edge>();
    for (const { spec, kind } of specifiers(file, code(file))) {
      if (!spec.startsWith('.')) continue;
      const to = relative(ROOT, resolve(ROOT, dirname(file), spec.replace(/\?.*$/, '')));
      if (!known.has(to)) continue;
      // One edge per target: a value import outweighs a worker URL, which outweighs a type import.
      const rank = { type: 0, url: 1, value: 2 };
      if (!edges.has(to) || rank[kind] > rank[edges.get(to)!.kind]) edges.set(to, { to, kind });
    }
    graph.set(file, [...edges.values()]);
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

interface Order {
  LAYERS: Record<string, string[]>;
  LIB_ROOMS: string[];
  LAYER_EXCEPTIONS: { files: string; imports: string; only?: Kind[] }[];
}
// The order lives in eslint.config.js (a variable specifier: TypeScript checks no types of a .js config).
const configPath = '../eslint.config.js';
const { LAYERS, LIB_ROOMS, LAYER_EXCEPTIONS } = (await import(configPath)) as Order;

/** A file's layer (src/<layer>) and, within src/lib, its room ('.': the files directly in src/lib). */
function placeOf(file: string): { layer: string; room: string | null } {
  const parts = relative('src', file).split('/');
  const layer = parts.length > 1 ? parts[0]! : '.';
  if (layer !== 'lib') return { layer, room: null };
  if (parts.length > 2) return { layer, room: parts[1]! };
  return { layer, room: file === 'src/lib/schema.ts' ? 'schema' : '.' };
}
const nameOf = (file: string) => {
  const { layer, room } = placeOf(file);
  return room === null ? layer : room === '.' ? 'lib/*.ts' : `lib/${room}`;
};

/** Why an import runs the wrong way, or null when it may. */
function wrongWay(from: string, edge: Edge): string | null {
  const a = placeOf(from);
  const b = placeOf(edge.to);
  if (!(a.layer in LAYERS)) return `src/${a.layer} is no layer of eslint.config.js' LAYERS`;
  if (a.layer !== b.layer) {
    if (LAYERS[a.layer]!.includes(b.layer)) return null;
    const allowed = LAYER_EXCEPTIONS.some(
      (e) => from.startsWith(e.files) && edge.to.startsWith(e.imports) && (!e.only || e.only.includes(edge.kind)),
    );
    return allowed ? null : `${a.layer} may not import ${b.layer}`;
  }
  if (a.room === null || b.room === null) return null;
  const [i, j] = [LIB_ROOMS.indexOf(a.room), LIB_ROOMS.indexOf(b.room)];
  if (i < 0 || j < 0) return `src/lib/${i < 0 ? a.room : b.room} is no room of eslint.config.js' LIB_ROOMS`;
  return j > i ? `${nameOf(from)} sits below ${nameOf(edge.to)}` : null;
}

const files = sourceFiles(SRC);
const graph = importGraph(files);
const targets = new Map([...graph].map(([file, edges]) => [file, edges.map((e) => e.to)]));
const found = circles(targets);
for (const component of found) {
  console.log(`circle of ${component.length} files:`);
  for (const cycle of cyclesOf(component, targets)) console.log(`  ${[...cycle, cycle[0]].join(' -> ')}`);
}

const arrows = new Map<string, { imports: string[]; wrong: string[]; kinds: Set<Kind> }>();
for (const [from, edges] of graph) {
  for (const edge of edges) {
    const key = `${nameOf(from)} -> ${nameOf(edge.to)}`;
    if (nameOf(from) === nameOf(edge.to)) continue;
    const arrow = arrows.get(key) ?? { imports: [], wrong: [], kinds: new Set() };
    const why = wrongWay(from, edge);
    const line = `${from} -> ${edge.to}${edge.kind === 'value' ? '' : ` (${edge.kind})`}`;
    arrow.imports.push(line);
    arrow.kinds.add(edge.kind);
    if (why) arrow.wrong.push(`${line}: ${why}`);
    arrows.set(key, arrow);
  }
}
const showFiles = process.argv.includes('--files');
const quiet = process.argv.includes('--quiet');
let wrong = 0;
for (const [key, arrow] of [...arrows].sort()) {
  const kinds = arrow.kinds.has('value') ? '' : ` [${[...arrow.kinds].join(', ')} only]`;
  if (!quiet || arrow.wrong.length)
    console.log(`${arrow.wrong.length ? 'WRONG WAY ' : ''}${key} (${arrow.imports.length})${kinds}`);
  for (const w of arrow.wrong) console.log(`    ${w}`);
  if (showFiles) for (const i of arrow.imports) console.log(`    ${i}`);
  wrong += arrow.wrong.length;
}
console.log(`${files.length} files, ${found.length} circle(s), ${wrong} wrong-way import(s)`);
process.exitCode = found.length || wrong ? 1 : 0;
