/**
 * `bulwark token create|list|revoke`: the API tokens of the controller (roles viewer, operator,
 * admin; docs/OPERATORS.md "API tokens, roles and audit"). Admin only. A token's secret is
 * printed once, by `create` (or written to `--out`, mode 0600); the controller keeps only its
 * SHA-256. Named apart from `bulwark storage-token`, which makes storage credentials.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../../../shared/errors.js';
import { writeFileAtomic } from '../../../shared/fs/atomic-file.js';
import type { ApiToken__Output } from '../../../shared/rpc/generated/bulwark/v1/ApiToken.js';
import { withController } from '../cli-context.js';
import { parseDir, parseDuration, zodParser } from '../option-parsers.js';
import { formatTime, printJson, printTable } from '../output.js';

const parseRole = zodParser(z.enum(['viewer', 'operator', 'admin'], { error: 'must be one of viewer, operator, admin' }));
const parseTokenName = zodParser(
  z
    .string()
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit'),
);

interface CreateOptions {
  role: 'viewer' | 'operator' | 'admin';
  expires?: number;
  out?: string;
  json?: boolean;
}

/** A token without its secret, as `--json` prints it. */
function tokenJson(t: ApiToken__Output): Record<string, unknown> {
  return {
    name: t.name,
    id: t.id,
    role: t.role,
    state: t.state,
    createdAt: t.createdAt,
    createdBy: t.createdBy,
    expiresAt: t.expiresAt || null,
    revokedAt: t.revokedAt || null,
    lastUsedAt: t.lastUsedAt || null,
  };
}

/** Registers `bulwark token`. */
export function registerTokenCommands(program: Command): void {
  const cmd = program
    .command('token')
    .description("the controller's API tokens: roles viewer (read), operator (run jobs, policies), admin (tokens, audit, deletes); admin only");

  cmd
    .command('create')
    .description('make an API token and print its secret, once (the controller keeps only its hash)')
    .argument('<name>', 'a name for the token, shown in `bulwark audit` (lower-case letters, digits, ".", "_", "-")', parseTokenName)
    .requiredOption('--role <role>', 'viewer, operator or admin', parseRole)
    .option('--expires <duration>', 'the token stops working after this long (90d, 12h, 2w); default: never', parseDuration)
    .option('--out <file>', 'write the secret to this file (mode 0600, refuses to overwrite) instead of printing it', parseDir)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: CreateOptions, command: Command) => {
      if (opts.out !== undefined && existsSync(opts.out)) throw new ValidationError('--out', `${opts.out} exists; refusing to overwrite a token`);
      if (opts.expires === 0) throw new ValidationError('--expires', 'must be more than 0 (leave it out for a token that never expires)');
      await withController(command, async (api) => {
        const { token, secret } = await api.createApiToken({ name, role: opts.role, expiresInMs: opts.expires ?? 0 });
        if (!token) throw new Error('the controller answered without the token');
        if (opts.out !== undefined) await writeFileAtomic(opts.out, Buffer.from(`${secret}\n`), { mode: 0o600 });
        if (opts.json) {
          printJson({ ...tokenJson(token), ...(opts.out === undefined ? { secret } : { secretFile: opts.out }) });
          return;
        }
        console.log(`token ${token.name}: role ${token.role}, ${token.expiresAt ? `expires ${formatTime(token.expiresAt)}` : 'never expires'}`);
        if (opts.out === undefined) {
          console.log(`secret  ${secret}`);
          console.log('\nThis is the only time the secret is shown. Keep it in a file (mode 0600) and use it with');
          console.log('--token-file <file>, BULWARK_TOKEN, or "tokenFile" in client.json.');
        } else {
          console.log(`secret written to ${opts.out} (mode 0600); use it with --token-file ${opts.out}`);
        }
      });
    });

  cmd
    .command('list')
    .description('list the API tokens (no secrets), revoked and expired ones too')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withController(command, async (api) => {
        const { tokens } = await api.listApiTokens();
        if (opts.json) {
          printJson(tokens.map(tokenJson));
          return;
        }
        printTable(
          ['NAME', 'ROLE', 'STATE', 'CREATED', 'BY', 'EXPIRES', 'LAST USED'],
          tokens.map((t) => [
            t.name,
            t.role,
            t.state === 'revoked' ? `revoked ${formatTime(t.revokedAt)}` : t.state,
            formatTime(t.createdAt),
            t.createdBy,
            t.expiresAt ? formatTime(t.expiresAt) : 'never',
            formatTime(t.lastUsedAt),
          ]),
          'no API tokens',
        );
      });
    });

  cmd
    .command('revoke')
    .description('revoke an API token at once: its next call is refused (revoking a revoked token changes nothing)')
    .argument('<name>', 'the token', parseTokenName)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      await withController(command, async (api) => {
        const token = await api.revokeApiToken(name);
        if (opts.json) {
          printJson(tokenJson(token));
          return;
        }
        console.log(`token ${token.name} revoked at ${formatTime(token.revokedAt)}`);
      });
    });
}
