/**
 * The import directions hold: a wrong-way import planted in a folder of src is an ESLint error there (the layers and
 * src/lib's rooms at the top of eslint.config.js), and a right-way one is not. The planted files are linted as text
 * under their path (ESLint applies that folder's rules), so nothing is written into src.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';
let eslint: ESLint;

/** The restricted-import messages for `code` as if it were the file at `path`. */
async function restricted(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

describe('import directions', () => {
  it('forbids a lower room of src/lib importing a higher one', async () => {
    const code = "import { fmtMs } from '../report/format.ts';\nexport const planted = fmtMs;\n";
    const messages = await restricted('src/lib/measure/planted.ts', code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/src\/lib\/measure may not import src\/lib\/report/);
  });

  it('forbids the files directly in src/lib importing any room, the schema included', async () => {
    const code = "import { STAGES } from './schema.ts';\nexport const planted = STAGES;\n";
    expect(await restricted('src/lib/planted.ts', code)).toHaveLength(1);
  });

  it('forbids src/lib importing the page, and the runtimes importing the worker', async () => {
    const page = "import { Lab } from '../app/lab.svelte.ts';\nexport const planted = Lab;\n";
    expect(await restricted('src/lib/planted.ts', page)).toEqual([expect.stringMatching(/src\/lib may not/)]);
    const worker = "import { CellRun } from '../worker/pipeline.ts';\nexport const planted = CellRun;\n";
    expect(await restricted('src/runtimes/planted.ts', worker)).toHaveLength(1);
  });

  it('lets the page import the worker as types only', async () => {
    const types =
      "import type { CellWorkerApi } from '../worker/cell-worker.ts';\nexport type Planted = CellWorkerApi;\n";
    expect(await restricted('src/app/planted.ts', types)).toEqual([]);
    const code = "import { CellRun } from '../worker/pipeline.ts';\nexport const planted = CellRun;\n";
    expect(await restricted('src/app/planted.ts', code)).toHaveLength(1);
  });

  it("lets only the CLI's native cells import the worker's pipeline", async () => {
    const code = "import { CellRun } from '../../worker/pipeline.ts';\nexport const planted = CellRun;\n";
    expect(await restricted('src/cli/native/planted.ts', code)).toEqual([]);
    expect(await restricted('src/cli/run/planted.ts', code)).toHaveLength(1);
    const other = "import { loadAdapter } from '../../worker/cell-io.ts';\nexport const planted = loadAdapter;\n";
    expect(await restricted('src/cli/native/planted.ts', other)).toHaveLength(1);
  });

  it('lets a higher room import a lower one', async () => {
    const code = [
      "import { median } from '../measure/stats.ts';",
      "import { okCells } from '../schema.ts';",
      "import { mulberry32 } from '../rng.ts';",
      'export const planted = [median, okCells, mulberry32];',
      '',
    ].join('\n');
    expect(await restricted('src/lib/report/planted.ts', code)).toEqual([]);
  });

  it('finds no import circle and no wrong-way import in src (scripts/import-graph.ts)', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/import-graph.ts', '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out).toMatch(/ 0 circle\(s\), 0 wrong-way import\(s\)/);
  });
});
