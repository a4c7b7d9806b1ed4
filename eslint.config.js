// ESLint for TypeScript and Svelte 5 (typescript-eslint's and eslint-plugin-svelte's recommended rules).
// Formatting is Prettier's (npm run format); nothing here argues with it.
//
// Which code may import which (no-restricted-imports below; scripts/import-graph.ts checks the same order on the
// whole graph, dynamic imports and workers started by URL included, and finds import circles).
//
// Layers, by where code runs (DESIGN.md, Layout): lib <- runtimes <- worker <- app, and lib <- cli.
// ("a <- b": b may import a; nothing imports the other way.) src/lib imports nothing of ours outside src/lib.
// Two exceptions, both narrow:
//   - src/app imports src/worker only as types (CellWorkerApi, ProbeWorkerApi: the page drives its workers through
//     Comlink, typed by what they expose) and starts workers by URL (new Worker(new URL(...))), which Vite bundles
//     apart. No worker code runs on the page.
//   - src/cli/native (the native reference cells) imports src/worker/pipeline.ts and src/runtimes/runtime.ts: a
//     native cell runs the lab's own cell pipeline in a Node worker thread, with onnxruntime-node behind the runtime
//     adapter interface, so it is timed exactly as a browser cell is.
//
// Rooms of src/lib, lowest first; a room imports only the rooms before it (and itself):
//   .          files directly in src/lib: leaves that import nothing of ours (errors, rng, stages, targets, builds...)
//   schema     the result file's zod schemas and their parts; src/lib/schema.ts is its front door
//   models     the zoo's manifest, input synthesis, image inputs, symbolic dims, a person's own model files
//   measure    sampling decisions, timer guard, statistics, steady state, invocations, validity, comparisons
//   plan       plans and targets, the CLI config, setup and result links, latency budgets
//   report     formats, reports (md, html, csv), charts' data and SVG, trace, tax, parity, baselines
//   serving    the serving simulator: batcher, dispatcher, load, capacity, its reports
//   contracts  what crosses a process boundary: the cell job (page <-> worker), the page's automation API
//              (page <-> CLI), the native wire (page <-> native cells)
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

/** Each layer (a folder of src) and the layers it may import besides itself. */
export const LAYERS = { lib: [], runtimes: ['lib'], worker: ['lib', 'runtimes'], app: ['lib'], cli: ['lib'] };
/** The rooms of src/lib, lowest first ('.': the files directly in src/lib). */
export const LIB_ROOMS = ['.', 'schema', 'models', 'measure', 'plan', 'report', 'serving', 'contracts'];
/**
 * Imports across layers allowed beyond LAYERS: files under `files` may import `imports` (a folder or one file);
 * `only`, when given, limits them to type imports ('type') and workers started by URL ('url').
 */
export const LAYER_EXCEPTIONS = [
  { files: 'src/app/', imports: 'src/worker/', only: ['type', 'url'] },
  { files: 'src/cli/native/', imports: 'src/worker/pipeline.ts' },
  { files: 'src/cli/native/', imports: 'src/runtimes/runtime.ts' },
];
/** Packages src/lib never imports: it is pure TypeScript that runs in the page, the workers and Node alike. */
const NOT_IN_LIB = ['onnxruntime-', '@tensorflow/', 'svelte', 'chart.js', 'comlink', 'idb', 'playwright-core', 'node:'];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A relative specifier that walks into folder `name` of src (or of src/lib), e.g. '../report/format.ts'. */
const into = (name, except = []) =>
  `^(\\.\\.?/)+(lib/)?${escape(name)}/` + (except.length ? `(?!(${except.map(escape).join('|')})$)` : '');

/** The restricted-import patterns of the files under `dir` (a folder of src, or 'src/lib/<room>/'). */
function patternsFor(dir) {
  const layer = dir.split('/')[1];
  const out = [];
  for (const other of Object.keys(LAYERS)) {
    if (other === layer || LAYERS[layer].includes(other)) continue;
    const exceptions = LAYER_EXCEPTIONS.filter((e) => dir.startsWith(e.files) && e.imports.startsWith(`src/${other}/`));
    const files = exceptions.filter((e) => !e.only).map((e) => e.imports.slice(`src/${other}/`.length));
    const typesOnly = exceptions.some((e) => e.only?.includes('type') && e.imports === `src/${other}/`);
    out.push({
      regex: into(other, files),
      message: `src/${layer} may not import src/${other}${typesOnly ? ' (types only)' : ''}: see the layers at the top of eslint.config.js.`,
      ...(typesOnly ? { allowTypeImports: true } : {}),
    });
  }
  if (layer === 'lib') {
    out.push({
      regex: `^(${NOT_IN_LIB.map(escape).join('|')})`,
      message: 'src/lib is pure TypeScript: no runtimes, no page libraries, no Node modules.',
    });
    const room = dir === 'src/lib/' ? '.' : dir.split('/')[2];
    for (const higher of LIB_ROOMS.slice(LIB_ROOMS.indexOf(room) + 1)) {
      const regex = higher === 'schema' ? `${into('schema')}|^(\\.\\.?/)+(lib/)?schema\\.ts$` : into(higher);
      out.push({
        regex,
        message: `src/lib/${room === '.' ? '*.ts' : room} may not import src/lib/${higher}: rooms run one way (top of eslint.config.js).`,
      });
    }
  }
  return out;
}

const restrict = (files, dir, ignores = []) => ({
  files,
  ignores,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: patternsFor(dir) }] },
});
const CODE = '**/*.{ts,svelte}';

/** One config object per folder; a later object's options replace an earlier one's for the files both match. */
const layerRules = [
  restrict([`src/lib/${CODE}`], 'src/lib/'),
  ...LIB_ROOMS.filter((r) => r !== '.').map((room) =>
    restrict([`src/lib/${room}/${CODE}`, ...(room === 'schema' ? ['src/lib/schema.ts'] : [])], `src/lib/${room}/`),
  ),
  ...Object.keys(LAYERS)
    .filter((l) => l !== 'lib')
    .map((layer) => restrict([`src/${layer}/${CODE}`], `src/${layer}/`)),
  ...[...new Set(LAYER_EXCEPTIONS.map((e) => e.files))]
    .filter((dir) => dir.split('/').length > 3)
    .map((dir) => restrict([`${dir}${CODE}`], dir)),
];

export default ts.config(
  { ignores: ['dist/', 'node_modules/', 'public/', 'lab-results/', 'test-results/', '.vite/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node, ...globals.worker, __LAB_VERSION__: 'readonly' },
    },
    rules: {
      // `_name` marks a parameter kept for its position in a signature.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // It flags every Map/Set/Date/URL made in a .svelte(.ts) file; ours are temporaries built and read inside one
      // function, or assigned whole to $state, never mutated in place while the page renders them.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    // Code a newcomer can hold in their head: small modules, functions that read as one step of a procedure.
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    rules: {
      // The cap counts code: a file's comments (the why) and blank lines are never the reason to cut it in two.
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  ...layerRules,
);
