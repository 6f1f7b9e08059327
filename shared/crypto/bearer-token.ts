/**
 * Bearer tokens: the credentials a client presents on a gRPC call (metadata
 * `authorization: Bearer <token>`). A token is `bwk_` + 32 random bytes in base64url; the
 * server keeps only its SHA-256 (hex), so a leaked config file grants nothing, and looks a
 * presented token up in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every token Bulwark makes starts with this, so a leaked one is easy to recognise. */
export const BEARER_TOKEN_PREFIX = 'bwk_';
/** Random bytes in a new token. */
export const BEARER_TOKEN_RANDOM_BYTES = 32;
/** The shape of a token `createBearerToken` makes. */
export const BEARER_TOKEN_PATTERN = /^bwk_[A-Za-z0-9_-]{43}$/;

/** A new random token. */
export function createBearerToken(): string {
  return `${BEARER_TOKEN_PREFIX}${randomBytes(BEARER_TOKEN_RANDOM_BYTES).toString('base64url')}`;
}

/** The SHA-256 of a token, lowercase hex: what a server's config lists instead of the token. */
export function bearerTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The entry whose `tokenSha256` matches `token`, comparing against every entry in constant time
 * (no early exit), or undefined.
 */
export function findByTokenSha256<T extends { readonly tokenSha256: string }>(entries: readonly T[], token: string): T | undefined {
  const presented = createHash('sha256').update(token, 'utf8').digest();
  let found: T | undefined;
  for (const entry of entries) {
    const expected = Buffer.from(entry.tokenSha256, 'hex');
    if (expected.length === presented.length && timingSafeEqual(expected, presented) && found === undefined) found = entry;
  }
  return found;
}
