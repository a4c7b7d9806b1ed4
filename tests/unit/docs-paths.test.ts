/**
 * The docs point at things that exist. README.md and every docs/*.md are read as text: every path they name under
 * src/, scripts/, tests/ or public/ (in backticks, links, code blocks or prose) must exist on disk, relative to the
 * project root (a folder with or without its trailing slash); glob-like paths (with `*`) are skipped. Every relative
 * link must land on a file, and a link's #anchor on a heading of the file it names. A file that moves without its
 * pointers fails here, naming the doc and the path.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** README.md and the docs, as paths relative to the project root. */
function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
  return ['README.md', ...docs.sort().map((f) => `docs/${f}`)];
}

/**
 * Paths under the source roots that a text names. A path starts where the text isn't already inside a path or a
 * word (so `node_modules/x/src/y`, `../src/y` and `dist/` paths don't count) and runs over path characters; a
 * sentence's full stop after it is not part of it.
 */
export function namedPaths(text: string): string[] {
  const found = text.matchAll(/(?<![\w./~-])(?:src|scripts|tests|public)\/[\w./*-]*/g);
  const paths = [...found].map((m) => m[0].replace(/\.+$/, '')).filter((p) => !p.includes('*'));
  return [...new Set(paths)];
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a markdown file's headings (outside code blocks), with GitHub's -1, -2 for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets of a markdown text (not URLs, not mail), with any #anchor. */
function links(text: string): string[] {
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** What a doc points at that isn't there: missing paths, link targets and anchors, each as `doc: pointer`. */
export function brokenPointers(doc: string, text: string): string[] {
  const broken: string[] = [];
  for (const path of namedPaths(text)) {
    if (!existsSync(join(ROOT, path.replace(/\/$/, '')))) broken.push(`${doc}: ${path}`);
  }
  for (const link of links(text)) {
    const [file, anchor] = link.split('#') as [string, string | undefined];
    const target = resolve(dirname(join(ROOT, doc)), file);
    if (file !== '' && !existsSync(target)) broken.push(`${doc}: link ${link} (no ${relative(ROOT, target)})`);
    else if (anchor && (file === '' || target.endsWith('.md'))) {
      const headings = anchors(file === '' ? text : readFileSync(target, 'utf8'));
      if (!headings.has(anchor)) broken.push(`${doc}: link ${link} (no heading #${anchor} in ${file || doc})`);
    }
  }
  return broken;
}

describe('paths the docs name', () => {
  it('finds paths in backticks, links, code and prose, and skips globs and other folders', () => {
    const text =
      'See `src/lib/measure/stats.ts`, [x](../scripts/host-noise.ts), tests/unit/ and src/app/plan-run.ts. ' +
      'Not `src/**/*.ts`, `dist/src/a.ts`, `node_modules/x/tests/y.ts` or `lab-results/run/`.';
    expect(namedPaths(text)).toEqual(['src/lib/measure/stats.ts', 'tests/unit/', 'src/app/plan-run.ts']);
  });

  it('reports a path that is not on disk, and a link that lands nowhere', () => {
    const text =
      'In `src/lib/measure/no-such-file.ts`, not `src/lib/measure/stats.ts`; see [gone](gone.md), [no](#nowhere), ' +
      '[yes](#here-too), [cli](cli.md#which-browser) and [cli](cli.md#no-such-part).\n\n## Here, too\n';
    expect(brokenPointers('docs/x.md', text)).toEqual([
      'docs/x.md: src/lib/measure/no-such-file.ts',
      'docs/x.md: link gone.md (no docs/gone.md)',
      'docs/x.md: link #nowhere (no heading #nowhere in docs/x.md)',
      'docs/x.md: link cli.md#no-such-part (no heading #no-such-part in cli.md)',
    ]);
  });

  it('README.md and docs/*.md name only paths that exist, and their links land', () => {
    const docs = docFiles();
    expect(docs.length).toBeGreaterThan(1);
    const broken = docs.flatMap((doc) => brokenPointers(doc, readFileSync(join(ROOT, doc), 'utf8')));
    expect(broken).toEqual([]);
  });
});
