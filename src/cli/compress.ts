/**
 * Compressed copies of the build, as a static host or CDN would send them: brotli for browsers that accept it, gzip
 * for the rest, for text and wasm only (hosts commonly leave application/octet-stream, our model files, as they are).
 * Every copy is made before a first visit is timed, so compressing never lands inside a measurement, and kept on disk
 * (node_modules/.cache) by the file's size and modification time, so only the first such run pays for it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Quality 5 is near what CDNs use when they compress on the fly; a build that precompresses at 11 saves ~15% more. */
export const BROTLI_QUALITY = 5;
export const GZIP_LEVEL = 6;
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.json', '.svg', '.wasm', '.txt']);
/** Below this, compression saves less than its header costs (the same floor common hosts use). */
const MIN_BYTES = 1024;

export type Encoding = 'br' | 'gzip';
export interface Compressed {
  br: Buffer;
  gzip: Buffer;
  etag: string;
  /** The file's own size. */
  bytes: number;
}

export const COMPRESSION_NOTE = `br (quality ${BROTLI_QUALITY}) or gzip (level ${GZIP_LEVEL}) for scripts, styles and wasm, as the browser accepts; model files uncompressed, as most static hosts send application/octet-stream`;

export class CompressedFiles {
  private readonly byPath = new Map<string, Compressed>();

  private constructor(private readonly cacheDir: string) {}

  /** Compresses every eligible file under `root` (URL path -> copy), reading copies made before from `cacheDir`. */
  static async build(
    root: string,
    cacheDir: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<CompressedFiles> {
    const out = new CompressedFiles(cacheDir);
    mkdirSync(cacheDir, { recursive: true });
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir, { withFileTypes: true })) {
        const abs = join(dir, name.name);
        if (name.isDirectory()) walk(abs);
        else if (COMPRESSIBLE.has(extname(name.name).toLowerCase()) && statSync(abs).size >= MIN_BYTES) files.push(abs);
      }
    };
    walk(root);
    for (const [i, abs] of files.entries()) {
      out.byPath.set(`/${relative(root, abs).split(sep).join('/')}`, out.compress(abs));
      onProgress?.(i + 1, files.length);
      // Let the event loop breathe between big files (the server may already be answering).
      await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  private compress(abs: string): Compressed {
    const st = statSync(abs);
    const key = createHash('sha256')
      .update(`${abs}\0${st.size}\0${st.mtimeMs}\0${BROTLI_QUALITY}\0${GZIP_LEVEL}`)
      .digest('hex')
      .slice(0, 32);
    const etag = `"${key.slice(0, 16)}`;
    const cached = (enc: Encoding) => join(this.cacheDir, `${key}.${enc === 'br' ? 'br' : 'gz'}`);
    if (existsSync(cached('br')) && existsSync(cached('gzip')))
      return { br: readFileSync(cached('br')), gzip: readFileSync(cached('gzip')), etag, bytes: st.size };
    const raw = readFileSync(abs);
    const br = brotliCompressSync(raw, {
      params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
    });
    const gzip = gzipSync(raw, { level: GZIP_LEVEL });
    writeFileSync(cached('br'), br);
    writeFileSync(cached('gzip'), gzip);
    return { br, gzip, etag, bytes: st.size };
  }

  /** The copy to send for a URL path (relative to the served root) and an Accept-Encoding header, if any. */
  pick(
    path: string,
    acceptEncoding: string | undefined,
  ): { encoding: Encoding; body: Buffer; etag: string; bytes: number } | null {
    const c = this.byPath.get(path);
    if (!c || !acceptEncoding) return null;
    const accepts = (enc: string) =>
      acceptEncoding.split(',').some((part) => part.trim().split(';')[0] === enc && !/;\s*q=0(\.0*)?\s*$/.test(part));
    if (accepts('br')) return { encoding: 'br', body: c.br, etag: `${c.etag}-br"`, bytes: c.bytes };
    if (accepts('gzip')) return { encoding: 'gzip', body: c.gzip, etag: `${c.etag}-gz"`, bytes: c.bytes };
    return null;
  }
}
