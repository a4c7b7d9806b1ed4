/**
 * The Pages workflow publishes only what passed the typecheck, lint and unit tests. Read as text, not with a YAML
 * library (no dependency for one file): Prettier formats the workflow, so jobs sit at two spaces, their keys at four
 * and steps at six, which is all this reader assumes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const WORKFLOW = join(import.meta.dirname, '..', '..', '.github', 'workflows', 'pages.yml');
const CHECKS = ['npm run typecheck', 'npm run lint', 'npm run test:unit'];

interface Step {
  uses: string | null;
  run: string | null;
}
interface Job {
  needs: string[];
  steps: Step[];
}

/** A key's value on its line, quotes and a trailing comment taken off. */
const valueOf = (line: string, key: string): string | null => {
  const m = new RegExp(`^\\s*(?:- )?${key}:\\s*(.*)$`).exec(line);
  return m ? m[1]!.replace(/\s+#.*$/, '').replace(/^(['"])(.*)\1$/, '$2') : null;
};

function needsOf(lines: readonly string[]): string[] {
  const at = lines.findIndex((l) => /^ {4}needs:/.test(l));
  if (at < 0) return [];
  const value = valueOf(lines[at]!, 'needs')!;
  if (value)
    return value
      .replace(/^\[|\]$/g, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^ {6}- (\S+)/.exec(l);
    if (!m) break;
    out.push(m[1]!);
  }
  return out;
}

function stepsOf(lines: readonly string[]): Step[] {
  const at = lines.findIndex((l) => /^ {4}steps:\s*$/.test(l));
  const steps: string[][] = [];
  for (const l of at < 0 ? [] : lines.slice(at + 1)) {
    if (/^ {0,4}\S/.test(l)) break; // the job's next key
    if (/^ {6}- /.test(l)) steps.push([l]);
    else if (steps.length && l.trim()) steps[steps.length - 1]!.push(l);
  }
  const first = (step: string[], key: string) =>
    step.map((l) => valueOf(l, key)).find((v): v is string => v !== null) ?? null;
  return steps.map((s) => ({ uses: first(s, 'uses'), run: first(s, 'run') }));
}

function jobsOf(text: string): Map<string, Job> {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const start = lines.findIndex((l) => /^jobs:\s*$/.test(l));
  const jobs = new Map<string, Job>();
  let name: string | null = null;
  let body: string[] = [];
  const close = () => name && jobs.set(name, { needs: needsOf(body), steps: stepsOf(body) });
  for (const l of start < 0 ? [] : lines.slice(start + 1)) {
    if (/^\S/.test(l)) break; // the next top-level key
    const header = /^ {2}([\w-]+):\s*$/.exec(l);
    if (!header) body.push(l);
    else {
      close();
      [name, body] = [header[1]!, []];
    }
  }
  close();
  return jobs;
}

/** What lets the deploy publish unchecked code, in words; empty when nothing does. */
function publishGaps(text: string): string[] {
  const jobs = [...jobsOf(text)];
  const uploading = jobs.filter(([, j]) => j.steps.some((s) => s.uses?.startsWith('actions/upload-pages-artifact')));
  const deploying = jobs.filter(([, j]) => j.steps.some((s) => s.uses?.startsWith('actions/deploy-pages')));
  if (uploading.length !== 1 || deploying.length !== 1) return ['not one upload job and one deploy job'];
  const [[builder, build], [, deploy]] = [uploading[0]!, deploying[0]!];
  const upload = build.steps.findIndex((s) => s.uses?.startsWith('actions/upload-pages-artifact'));
  const gaps = CHECKS.filter((c) => !build.steps.slice(0, upload).some((s) => s.run === c)).map(
    (c) => `'${c}' does not run before the upload`,
  );
  if (!deploy.needs.includes(builder)) gaps.push(`the deploy does not need '${builder}'`);
  // Either would let a job or step go on past a failed check.
  if (/continue-on-error|\b(always|failure|cancelled)\(\)/.test(text)) gaps.push('a step may run past a failure');
  return gaps;
}

describe('the Pages workflow', () => {
  const text = readFileSync(WORKFLOW, 'utf8');
  it('deploys only after the typecheck, lint and unit tests pass', () => {
    expect([...jobsOf(text).keys()]).toEqual(['build', 'deploy']);
    expect(publishGaps(text)).toEqual([]);
  });
  it('would say so of a workflow that deploys without them', () => {
    const without = text.replace(/^ +- run: npm run test:unit\n/m, '');
    expect(without).not.toBe(text);
    expect(publishGaps(without)).toEqual([`'npm run test:unit' does not run before the upload`]);
    const after = text
      .replace(/^ +- run: npm run lint\n/m, '')
      .replace(/(\n +path: dist\n)/, '$1      - run: npm run lint\n');
    expect(publishGaps(after)).toEqual([`'npm run lint' does not run before the upload`]);
    expect(publishGaps(text.replace(/needs: build/, 'needs: []'))).toEqual([`the deploy does not need 'build'`]);
    expect(
      publishGaps(
        text.replace('- run: npm run typecheck', '- run: npm run typecheck\n        continue-on-error: true'),
      ),
    ).toEqual(['a step may run past a failure']);
  });
});
