/**
 * Result links: a run's summary (src/lib/plan/share.ts), JSON, deflated (CompressionStream) and base64url-encoded into
 * the URL fragment, which never reaches a server. Loaded only when a link is made or opened.
 */
import { describeIssues, type RunResult } from '../lib/schema.ts';
import { SharedRun, summariseForLink } from '../lib/plan/share.ts';
import { toBase64 } from '../lib/base64.ts';
import { SHARE_PREFIX } from '../lib/plan/setup-url.ts';

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

/** The link to this page that shows `run`'s summary. */
export async function resultLink(run: RunResult, page: string = location.href.split('#')[0]!): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(summariseForLink(run)));
  return `${page}${SHARE_PREFIX}${toBase64Url(await pipe(json, new CompressionStream('deflate')))}`;
}

/** The shared run in a fragment, or an error that says what is wrong with the link. */
export async function readResultLink(hash: string): Promise<SharedRun> {
  const payload = hash.slice(SHARE_PREFIX.length);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(payload);
  } catch {
    throw new Error('this result link is damaged: its data is not base64url (was it cut short when copied?)');
  }
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(await pipe(bytes, new DecompressionStream('deflate'))));
  } catch {
    throw new Error('this result link is damaged: its data does not unpack (was it cut short when copied?)');
  }
  const parsed = SharedRun.safeParse(data);
  if (!parsed.success)
    throw new Error(`this link does not hold a result summary: ${describeIssues(parsed.error).slice(0, 3).join('; ')}`);
  return parsed.data;
}
