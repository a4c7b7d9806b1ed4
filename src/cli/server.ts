/**
 * The static server for the production build, with the cross-origin isolation headers (COOP/COEP) that give wasm
 * threads and the 5 us timer. Files are served by sirv (the server Vite's own preview uses: ranges, ETags, MIME
 * types); this wrapper is the lab's policy in front of it, so no request can end a run:
 *  - GET and HEAD only (405 otherwise);
 *  - a URL that doesn't decode, holds a NUL, or is longer than 4 KB gets 400/414, never an exception;
 *  - files are indexed once at start, and a symlink whose target lies outside the root is refused (403);
 *  - `served` lists each distinct path served once, so it stays as small as the build however long a run lasts.
 */
import { createReadStream, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import sirv from 'sirv';
import { errorMessage } from '../lib/errors.ts';
import { policyHeaders, type HeadersFor } from './serve-headers.ts';
import type { CompressedFiles } from './compress.ts';

export { ISOLATION_HEADERS } from './serve-headers.ts';

/** Types sirv's table may not know (or not as a browser wants them); application/wasm lets it compile while it downloads. */
const MIME: Record<string, string> = {
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.mjs': 'text/javascript; charset=utf-8',
};

const MAX_URL = 4096;

/** One response as sent: body bytes on the wire (compressed when it was) and the file's own size. */
export interface Sent {
  path: string;
  status: number;
  encoding: string | null;
  sentBytes: number;
  bytes: number;
}

export interface StaticServer {
  url: string;
  /** Each distinct URL path served, in first-served order. */
  served: string[];
  /** Every response finished since the server started, in order (first visits count their bytes from it). */
  sent: readonly Sent[];
  close(): Promise<void>;
}

export interface ServeOptions {
  port?: number;
  /** false: no COOP/COEP headers (a plain static host, as GitHub Pages is). */
  isolate?: boolean;
  /** URL path -> file on disk, served as well (the CLI's local model files and pictures). */
  files?: ReadonlyMap<string, string>;
  /** One POST endpoint (`latency-lab host`'s result upload): the only request other than GET/HEAD answered. */
  post?: { path: string; handle(req: IncomingMessage, res: ServerResponse): void };
  /** Interface to listen on (default 127.0.0.1; 0.0.0.0 for remote browsers). */
  host?: string;
  /** Serve rootDir under this path prefix (e.g. '/lab/'), as a sub-path host would; other paths are 404. */
  base?: string;
  /** Folders (besides the root) that symlinks in the root may point into (the test harness links the real build). */
  symlinkTargets?: readonly string[];
  /** Compressed copies of the root's text and wasm files, sent to browsers that accept them (first visits). */
  compressed?: CompressedFiles;
  /** Script paths (in the root) sent with WEBNN_WORKER_CSP_HEADER ('unsafe-eval'): the cell worker's, for --webnn. */
  evalScripts?: RegExp;
}

/**
 * Vite names everything under assets/ by its content hash, so a host can let browsers keep those for a year without
 * asking again; the rest (the page, the models) is revalidated on each use, as a host must for names that are reused.
 */
function cacheControl(pathInRoot: string): string {
  return pathInRoot.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** Counts the body bytes a response writes (after any compression: what crosses the wire). */
function countSent(res: ServerResponse, onDone: (sentBytes: number) => void): void {
  let n = 0;
  const add = (chunk: unknown) => {
    if (typeof chunk === 'string') n += Buffer.byteLength(chunk);
    else if (chunk instanceof Uint8Array) n += chunk.byteLength;
  };
  const write = res.write.bind(res) as (...a: unknown[]) => boolean;
  const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    add(chunk);
    return write(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'function') add(chunk);
    return end(chunk, ...rest);
  }) as typeof res.end;
  res.once('finish', () => onDone(n));
}

/** URL paths (relative to the root) of symlinks whose real target is outside the root and the allowed folders. */
function escapingLinks(root: string, allowed: readonly string[]): Set<string> {
  const inside = [root, ...allowed].map((d) => realpathSync(d));
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) {
        let target = '';
        try {
          target = realpathSync(abs);
        } catch {
          out.add(`/${relative(root, abs).split(sep).join('/')}`); // dangling
          continue;
        }
        if (!inside.some((d) => target === d || target.startsWith(d + sep)))
          out.add(`/${relative(root, abs).split(sep).join('/')}`);
        else if (statSync(abs).isDirectory()) walk(abs);
      } else if (st.isDirectory()) walk(abs);
    }
  };
  walk(root);
  return out;
}

function refuse(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(text);
}

/** The request's decoded path, or null when it was refused (method, length, encoding, NUL). */
function requestPath(req: IncomingMessage, res: ServerResponse): string | null {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    refuse(res, 405, `${req.method} is not served here`, { Allow: 'GET, HEAD' });
    return null;
  }
  const raw = req.url ?? '/';
  if (raw.length > MAX_URL) {
    refuse(res, 414, 'URL too long');
    return null;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(raw, 'http://lab').pathname);
  } catch {
    refuse(res, 400, 'the URL does not decode');
    return null;
  }
  if (path.includes('\0')) {
    refuse(res, 400, 'NUL in the URL');
    return null;
  }
  return path;
}

/** A file served from outside the root (a person's own model, given by path), never cached. */
function sendFile(req: IncomingMessage, res: ServerResponse, file: string, isolation: Record<string, string>): void {
  res.writeHead(200, {
    'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(statSync(file).size),
    'Cache-Control': 'no-cache',
    ...isolation,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}

/** Listens on the given (or a free) port; the port. */
async function listen(server: Server, options: ServeOptions): Promise<number> {
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server has no address');
  return address.port;
}

/** The built folder's files: ETags, our MIME types and cache rules, the isolation headers; 404 in words. */
function staticFiles(root: string, headersFor: HeadersFor) {
  return sirv(root, {
    dev: false,
    etag: true,
    dotfiles: false,
    setHeaders: (res, pathname) => {
      for (const [k, v] of Object.entries(headersFor(pathname))) res.setHeader(k, v);
      res.setHeader('Cache-Control', cacheControl(pathname));
      const type = MIME[extname(pathname).toLowerCase()];
      if (type) res.setHeader('Content-Type', type);
    },
    onNoMatch: (_req, res) => refuse(res, 404, 'not found'),
  });
}

export async function serveStatic(rootDir: string, options: ServeOptions = {}): Promise<StaticServer> {
  const root = resolve(rootDir);
  const base = options.base ?? '/';
  const served = new Set<string>();
  const sent: Sent[] = [];
  const headersFor = policyHeaders(options.isolate !== false, options.evalScripts);
  const blocked = escapingLinks(root, options.symlinkTargets ?? []);
  const files = staticFiles(root, headersFor);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (options.post && req.method === 'POST' && (req.url ?? '').split('?')[0] === options.post.path)
      return options.post.handle(req, res);
    const path = requestPath(req, res);
    if (path === null) return;
    countSent(res, (sentBytes) => {
      const encoding = (res.getHeader('Content-Encoding') as string | undefined) ?? null;
      const length = decodedSize.get(res) ?? Number(res.getHeader('Content-Length') ?? sentBytes);
      sent.push({ path, status: res.statusCode, encoding, sentBytes, bytes: res.statusCode === 200 ? length : 0 });
    });
    const extra = options.files?.get(path);
    if (extra) {
      served.add(path);
      return sendFile(req, res, extra, headersFor(path));
    }
    if (!path.startsWith(base)) return refuse(res, 404, 'not found');
    const inRoot = `/${path.slice(base.length)}`;
    if ([...blocked].some((b) => inRoot === b || inRoot.startsWith(`${b}/`)))
      return refuse(res, 403, 'forbidden: a link out of the served folder');
    // sirv sees the path relative to the root (the base stripped); anything it can't find is its 404.
    const packed = options.compressed?.pick(inRoot, req.headers['accept-encoding']);
    if (packed) return sendCompressed(req, res, inRoot, packed, headersFor(inRoot));
    req.url = inRoot.split('/').map(encodeURIComponent).join('/');
    res.once('finish', () => {
      if (res.statusCode < 400) served.add(path);
    });
    files(req, res);
  };
  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      // Whatever a request does, the run goes on.
      if (!res.headersSent) refuse(res, 500, `server error: ${errorMessage(e)}`);
      else res.destroy();
    }
  });
  const port = await listen(server, options);
  return {
    url: `http://127.0.0.1:${port}${base}`,
    get served() {
      return [...served];
    },
    sent,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        // Keep-alive sockets of a browser that died (or whose child processes outlive it) would hold close() open,
        // and with it the CLI: a run that lost its browser must still write what it has and exit.
        server.closeAllConnections();
      }),
  };
}

/** A compressed copy, with what sirv would send beside it (type, validator, caching) and a 304 for a matching ETag. */
function sendCompressed(
  req: IncomingMessage,
  res: ServerResponse,
  inRoot: string,
  packed: NonNullable<ReturnType<CompressedFiles['pick']>>,
  isolation: Record<string, string>,
): void {
  const headers: Record<string, string> = {
    ...isolation,
    'Content-Type':
      MIME[extname(inRoot).toLowerCase()] ?? TEXT_MIME[extname(inRoot).toLowerCase()] ?? 'application/octet-stream',
    'Cache-Control': cacheControl(inRoot),
    ETag: packed.etag,
    Vary: 'Accept-Encoding',
  };
  if (req.headers['if-none-match'] === packed.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  decodedSize.set(res, packed.bytes);
  // Set one by one (not passed to writeHead), so the response log can read them back.
  for (const [k, v] of Object.entries({
    ...headers,
    'Content-Encoding': packed.encoding,
    'Content-Length': String(packed.body.length),
  }))
    res.setHeader(k, v);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : packed.body);
}

/** The file's own size, for responses whose Content-Length is the compressed one. */
const decodedSize = new WeakMap<ServerResponse, number>();

const TEXT_MIME: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};
