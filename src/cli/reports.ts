/** The output folder's files: the result file(s) and the reports made from them (run and host write the same). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportMarkdown } from '../lib/report/report.ts';
import { reportHtml } from '../lib/report/report-html.ts';
import { samplesCsv, summaryCsv } from '../lib/report/report-csv.ts';
import type { ReportInput } from '../lib/report/report-rows.ts';

export const REPORT_FILES = 'results.json, summary.csv, samples.csv, report.md, report.html';

/** results.json (`results`: one run, or an array, one per device) and the four reports, in `outDir`. */
export function writeReports(outDir: string, results: unknown, input: ReportInput): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(outDir, 'summary.csv'), summaryCsv(input.runs));
  writeFileSync(join(outDir, 'samples.csv'), samplesCsv(input.runs));
  writeFileSync(join(outDir, 'report.md'), reportMarkdown(input));
  writeFileSync(join(outDir, 'report.html'), reportHtml(input));
}
