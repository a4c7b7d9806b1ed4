/**
 * A page opened from `latency-lab host` (its URL carries `?host=TOKEN`) sends each finished run back to that host:
 * one POST to the same origin, with the token. Nothing is sent from any other page.
 */
import { HOST_RESULTS_PATH } from '../lib/contracts/job.ts';
import type { RunResult } from '../lib/schema.ts';

/** The host's token, when this page was opened from a host's URL. */
export function hostToken(): string | null {
  return new URLSearchParams(location.search).get('host');
}

/** Sends a result file to the host; resolves with the device name the host gave it, or throws its refusal. */
export async function sendToHost(run: RunResult, token: string): Promise<string> {
  const res = await fetch(`${HOST_RESULTS_PATH}?token=${encodeURIComponent(token)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(run),
  });
  const answer = (await res.json().catch(() => ({}))) as { device?: string; error?: string };
  if (!res.ok) throw new Error(`the host refused the result (${res.status}): ${answer.error ?? res.statusText}`);
  return answer.device ?? 'this device';
}
