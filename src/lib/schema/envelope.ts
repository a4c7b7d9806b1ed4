/**
 * The one builder of a result file's envelope: the page's runs, serving runs, and the CLI's partial runs (a browser
 * that died) all wrap their cells here, and the result is validated the way a reader would load it back.
 */
import { parseRunResult, SCHEMA_VERSION, type RunResult } from '../schema.ts';

export type RunBody = Pick<RunResult, 'source' | 'environment' | 'plan' | 'cells'> &
  Partial<Pick<RunResult, 'serving' | 'firstVisits' | 'device'>>;

export function runEnvelope(body: RunBody, toolVersion: string): RunResult {
  const run: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'inference-latency-lab', version: toolVersion },
    createdAt: new Date().toISOString(),
    device: body.device ?? null,
    serving: body.serving ?? null,
    firstVisits: body.firstVisits ?? null,
    source: body.source,
    environment: body.environment,
    plan: body.plan,
    cells: body.cells,
  };
  // A result that wouldn't load back is a bug, caught where it is made (the JSON round trip drops undefined fields).
  return parseRunResult(JSON.parse(JSON.stringify(run)));
}
