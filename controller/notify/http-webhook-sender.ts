/**
 * POSTs a webhook body over HTTP(S) with node's fetch (undici): one attempt, bounded by
 * AbortSignal.timeout (connect, request and response headers). Redirects are not followed (a
 * 3xx is not an acknowledgement). The response body is discarded so the connection is reused.
 */
import type { WebhookSender } from './webhook-outbox.js';

export class HttpWebhookSender implements WebhookSender {
  async post(url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<number> {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new Error(describeFetchError(err, timeoutMs), { cause: err });
    }
    await res.body?.cancel().catch(() => undefined);
    return res.status;
  }
}

/** "timed out after 5000 ms", "ECONNREFUSED", or the error's message. */
function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
