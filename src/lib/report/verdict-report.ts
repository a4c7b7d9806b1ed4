/**
 * The "What to ship" section of report.md and report.html: per model (and device), the verdict's headline, its
 * details, the candidates with their bytes (and, in HTML, the latency-against-bytes chart), and the code to ship.
 */
import { escapeXml } from './svg-chart.ts';
import { paretoChartSvg } from './verdict-chart.ts';
import type { ShippedVerdict } from './verdict-ship.ts';
import {
  CANDIDATE_HEADER,
  candidateRows,
  VERDICT_NOTE,
  verdictAgainst,
  verdictDetails,
  verdictPick,
  verdictTitle,
} from './verdict-words.ts';

const DOCS = 'docs/verdict.md says what the verdict does and does not say.';

/** Said under the code: the files the app serves itself, and the packages it installs. */
function codeFoot(s: ShippedVerdict): string {
  const c = s.code!;
  const files = c.selfHost.map((f) => `${f.from} -> ${f.to}`).join(', ');
  return `Install ${c.packages.join(', ')}${files ? `; serve from your own origin: ${files}` : ''}.`;
}

/** Markdown, given the report's table and cell escapers (report.ts owns them). */
export function verdictMarkdown(
  shipped: readonly ShippedVerdict[],
  table: (header: string[], rows: string[][]) => string,
  cell: (text: string) => string,
): string[] {
  if (!shipped.length) return [];
  const out = ['', '## What to ship', '', `${VERDICT_NOTE} ${DOCS}`];
  for (const s of shipped) {
    const v = s.verdict;
    const against = verdictAgainst(v);
    out.push('', `### ${cell(verdictTitle(v))}`, '', `**${cell(verdictPick(v))}**`, '');
    if (against) out.push(cell(against), '');
    out.push(...verdictDetails(v).map((l) => `- ${cell(l)}`));
    if (v.candidates.length) out.push('', table(CANDIDATE_HEADER, candidateRows(v)));
    if (s.code)
      out.push(
        '',
        'Code to ship (generated from what ran):',
        '',
        '```js',
        s.code.code.trimEnd(),
        '```',
        '',
        codeFoot(s),
      );
  }
  return out;
}

/** HTML, given the report's table builder. */
export function verdictHtml(
  shipped: readonly ShippedVerdict[],
  table: (header: string[], rows: string[][], numeric?: Set<number>) => string,
): string[] {
  if (!shipped.length) return [];
  const out = [
    '<h2 id="what-to-ship">What to ship</h2>',
    `<p class="muted">${escapeXml(`${VERDICT_NOTE} ${DOCS}`)}</p>`,
  ];
  for (const s of shipped) {
    const v = s.verdict;
    out.push(
      `<h3>${escapeXml(verdictTitle(v))}</h3>`,
      `<p class="${v.pick ? 'ok' : 'bad'}"><strong>${escapeXml(verdictPick(v))}</strong></p>`,
      ...(verdictAgainst(v) ? [`<p>${escapeXml(verdictAgainst(v)!)}</p>`] : []),
      `<ul>${verdictDetails(v)
        .map((l) => `<li>${escapeXml(l)}</li>`)
        .join('')}</ul>`,
    );
    if (v.candidates.length) {
      out.push(
        paretoChartSvg(v, `${verdictTitle(v)}: steady latency against bytes (Pareto set in orange, pick ringed)`),
      );
      out.push(table(CANDIDATE_HEADER, candidateRows(v), new Set([2, 4, 5, 6])));
    }
    if (s.code)
      out.push(
        '<p>Code to ship (generated from what ran):</p>',
        `<pre class="code"><code>${escapeXml(s.code.code)}</code></pre>`,
        `<p class="muted">${escapeXml(codeFoot(s))}</p>`,
      );
  }
  return out;
}
