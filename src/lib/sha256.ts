/**
 * SHA-256 as lowercase hex, by Web Crypto (pages, workers and Node alike): how model files and pictures are checked.
 * The pure core has no DOM types, so the one global it uses is declared here, as narrow as it is used.
 */
declare const crypto: { subtle: { digest(algorithm: 'SHA-256', data: ArrayBuffer): Promise<ArrayBuffer> } };

export async function sha256Hex(buf: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
