/**
 * A secret given in a config file either inline (`token`) or as a file that holds it
 * (`tokenFile`, so the config itself can be shared or logged): one reader for both.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Where a token comes from; at most one of the two is set (the config schemas check it). */
export interface TokenSource {
  readonly token?: string | undefined;
  readonly tokenFile?: string | undefined;
}

/**
 * The token of `source` (a file's content without its trailing newline), or undefined when
 * neither is set. An unreadable file, an empty one, or a token with spaces or control
 * characters is a ConfigError naming `source` and `field`.
 */
export function readTokenSource(src: TokenSource, source: string, field: string): string | undefined {
  let token = src.token;
  let where = field;
  if (src.tokenFile !== undefined) {
    where = `${field}File`;
    try {
      token = readFileSync(src.tokenFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(source, where, `cannot read ${src.tokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  }
  if (token === undefined) return undefined;
  if (token === '') throw new ConfigError(source, where, 'the token is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(token)) throw new ConfigError(source, where, 'the token must not contain spaces or control characters');
  return token;
}
