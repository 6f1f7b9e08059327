/**
 * The webhook signature: `X-Bulwark-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with
 * the webhook's shared secret, so a receiver can tell a POST comes from this controller and was
 * not altered. The body carries the event's id and time, so a receiver can also refuse replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Bulwark-Signature';

/** The header value for `body` signed with `secret`. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** True when `header` is the signature of `body` with `secret` (compared in constant time). */
export function verifyWebhookSignature(secret: string, body: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
