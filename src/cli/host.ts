/**
 * `latency-lab host`: the lab for phones and tablets on the LAN. Serves the build (with the isolation headers) on a
 * LAN interface, prints its URL and a QR code, and takes back each device's result file: one POST endpoint, a
 * per-session token (in the URL the QR code carries), a size limit, schema validation, nothing else accepted.
 * Each arrival is printed and merged into one multi-device report under --out, as `run --connect` does.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';
import { fmtMs, resultTable } from '../lib/report/format.ts';
import { compareToFastest } from '../lib/measure/compare.ts';
import { HOST_RESULTS_PATH } from '../lib/contracts/job.ts';
import { REPORT_FILES, writeReports } from './reports.ts';
import { okCells, parseResultFile, SchemaError, type RunResult } from '../lib/schema.ts';
import { UsageError } from './args.ts';
import { checkDist } from './driver.ts';
import { checkWritable, EXIT, portArg } from './run-config.ts';
import { serveStatic } from './server.ts';
import { CELL_WORKER_SCRIPT, WEBNN_CSP_NOTICE } from './serve-headers.ts';
import { errorMessage } from '../lib/errors.ts';

export const HOST_OPTIONS = {
  port: { type: 'string' },
  bind: { type: 'string' },
  out: { type: 'string' },
  'max-mb': { type: 'string' },
  dist: { type: 'string' },
  webnn: { type: 'boolean' },
} as const;

/** The first non-internal IPv4 address: where phones on the same network reach this machine. */
export function lanAddress(): string | null {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return null;
}

/** What the upload endpoint answers: a status and one line (JSON for the page). */
type Answer = { status: number; body: Record<string, unknown> };

/**
 * Takes one uploaded result file: checks the token, the size and the schema; names the device; returns the runs to
 * keep. Pure of the network, for testing: `body` is what arrived, `tooBig` whether it passed the limit.
 */
export function acceptUpload(
  token: string,
  given: string | null,
  body: string,
  tooBig: boolean,
  maxBytes: number,
): { answer: Answer; runs: RunResult[] } {
  const a = Buffer.from(token);
  const b = Buffer.from(given ?? '');
  if (a.length !== b.length || !timingSafeEqual(a, b))
    return {
      answer: { status: 403, body: { error: 'wrong or missing token: open the lab from the URL the host printed' } },
      runs: [],
    };
  if (tooBig)
    return {
      answer: { status: 413, body: { error: `the result file is over ${maxBytes} bytes (--max-mb)` } },
      runs: [],
    };
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (e) {
    return { answer: { status: 400, body: { error: `not JSON: ${errorMessage(e)}` } }, runs: [] };
  }
  try {
    return { answer: { status: 200, body: { ok: true } }, runs: parseResultFile(data) };
  } catch (e) {
    const why = e instanceof SchemaError ? e.issues.slice(0, 5).join('; ') : errorMessage(e);
    return { answer: { status: 400, body: { error: `not a result file: ${why}` } }, runs: [] };
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<{ body: string; tooBig: boolean }> {
  return new Promise((ok, fail) => {
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      req.resume();
      return ok({ body: '', tooBig: true });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        req.destroy();
        ok({ body: '', tooBig: true });
      } else chunks.push(c);
    });
    req.on('end', () => ok({ body: Buffer.concat(chunks).toString('utf8'), tooBig: false }));
    req.on('error', fail);
  });
}

export async function cmdHost(argv: string[], ctx: { projectRoot: string }): Promise<number> {
  const { values: v } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: HOST_OPTIONS });
  const distDir = resolve(v.dist ?? join(ctx.projectRoot, 'dist'));
  checkDist(distDir);
  const maxMb = v['max-mb'] === undefined ? 64 : Number(v['max-mb']);
  if (!(maxMb > 0 && maxMb <= 1024))
    throw new UsageError(`--max-mb: '${v['max-mb']}' is not a size in MB in (0, 1024]`);
  const outDir = resolve(v.out ?? join('lab-results', `host-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  checkWritable(outDir);
  const lan = lanAddress();
  const bind = v.bind ?? (lan ? '0.0.0.0' : '127.0.0.1');
  const inbox = new Inbox(randomBytes(16).toString('hex'), Math.round(maxMb * 2 ** 20), outDir);
  const server = await serveStatic(distDir, {
    host: bind,
    port: portArg(v.port),
    post: { path: HOST_RESULTS_PATH, handle: inbox.handle },
    // The devices' own browsers decide whether WebNN exists; what the lab decides is whether ORT's WebNN provider may
    // run there: the cell worker's script allowed to eval (src/lib/csp.ts), as `run --webnn` does.
    evalScripts: v.webnn ? CELL_WORKER_SCRIPT : undefined,
  });
  if (v.webnn)
    console.log(
      `latency-lab host: ${WEBNN_CSP_NOTICE}; WebNN itself must be on in each device's browser (Chrome: chrome://flags, "WebNN API")`,
    );
  const port = new URL(server.url).port;
  const url = `http://${bind === '127.0.0.1' || !lan ? '127.0.0.1' : lan}:${port}/?host=${inbox.token}`;
  console.log(
    `latency-lab host: open this on each device (same network), run, and its results come back here:\n\n  ${url}\n`,
  );
  console.log(await QRCode.toString(url, { type: 'terminal', small: true }));
  console.log(
    `results go to ${outDir}/; up to ${maxMb} MB each; only pages opened from this URL (its token) can send. Ctrl-C to stop.`,
  );
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  console.log(`\nlatency-lab host: stopped; ${inbox.runs.length} device run(s) in ${outDir}/`);
  return EXIT.ok;
}

/** The runs devices send back: each named by its device (#2, #3 for twins), kept, printed, merged into the reports. */
class Inbox {
  readonly runs: RunResult[] = [];
  private readonly seen = new Map<string, number>();

  constructor(
    readonly token: string,
    private readonly maxBytes: number,
    private readonly outDir: string,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const given = new URL(req.url ?? '/', 'http://host').searchParams.get('token');
    void readBody(req, this.maxBytes).then(
      ({ body, tooBig }) => {
        const { answer, runs: arrived } = acceptUpload(this.token, given, body, tooBig, this.maxBytes);
        for (const run of arrived) answer.body.device = this.keep(run);
        if (arrived.length) {
          // One merged multi-device report, rewritten at each arrival, as run --connect writes it.
          writeReports(this.outDir, this.runs, { runs: this.runs });
          console.log(`merged: ${this.runs.length} device run(s) in ${this.outDir}/ (${REPORT_FILES})`);
        } else console.error(`latency-lab host: refused an upload (${answer.status}): ${String(answer.body.error)}`);
        res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
      },
      () => res.destroy(),
    );
  };

  /** Keeps one device's run under its device name, writes it alone, prints its table; the name. */
  private keep(run: RunResult): string {
    const e = run.environment;
    const base = `${e.browser.name} ${e.browser.version} · ${e.platform} · ${e.hardwareConcurrency} cores`;
    const n = (this.seen.get(base) ?? 0) + 1;
    this.seen.set(base, n);
    const device = n > 1 ? `${base} #${n}` : base;
    this.runs.push({ ...run, device });
    writeFileSync(
      join(this.outDir, `device-${this.runs.length}.json`),
      JSON.stringify({ ...run, device }, null, 2) + '\n',
    );
    const ok = okCells(run.cells);
    const some = ok.slice(0, 3).map((c) => `${c.cell.id} ${fmtMs(c.summary.total.median)} ms`);
    console.log(
      `\n[${device}] ${run.cells.length} cells, ${ok.length} ok (${some.join('; ')}${ok.length > 3 ? '; ...' : ''})`,
    );
    console.log(resultTable(run.cells, compareToFastest(ok), process.stdout.columns ?? 160));
    return device;
  }
}
