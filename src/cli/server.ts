/**
 * A small static server for the production build, on 127.0.0.1, with the cross-origin isolation headers
 * (COOP/COEP) that give wasm threads and the 5 us timer. It records every path it serves.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  // application/wasm lets the browser compile while it downloads.
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export interface StaticServer {
  url: string;
  served: string[];
  close(): Promise<void>;
}

export interface ServeOptions {
  port?: number;
  /** false: no COOP/COEP headers (a plain static host, as GitHub Pages is). */
  isolate?: boolean;
  /** URL path -> file on disk, served as well (the CLI's local model files). */
  files?: ReadonlyMap<string, string>;
  /** Interface to listen on (default 127.0.0.1; 0.0.0.0 for remote browsers). */
  host?: string;
  /** Serve rootDir under this path prefix (e.g. '/lab/'), as a sub-path host would; other paths are 404. */
  base?: string;
}

export async function serveStatic(rootDir: string, options: ServeOptions = {}): Promise<StaticServer> {
  const root = resolve(rootDir);
  const served: string[] = [];
  const base = options.base ?? '/';
  const server: Server = createServer((req, res) => {
    const fullPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const extra = options.files?.get(fullPath);
    if (!extra && !fullPath.startsWith(base)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${fullPath}`);
      return;
    }
    const path = extra ? fullPath : `/${fullPath.slice(base.length)}`;
    const file = extra ?? normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!extra && file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    served.push(fullPath);
    res.writeHead(200, {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Cache-Control': 'no-cache',
      ...(options.isolate === false ? {} : ISOLATION_HEADERS),
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server has no address');
  return {
    url: `http://127.0.0.1:${address.port}${base}`,
    served,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
