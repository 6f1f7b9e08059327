/**
 * `bulwark audit`: the controller's audit log, newest first: every call of a mutating method
 * (whatever its outcome) and every refused call, with the caller's token name and role, the
 * request (secrets redacted) and the outcome. Admin only.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { AuditEntry__Output } from '../../../shared/rpc/generated/bulwark/v1/AuditEntry.js';
import { withController } from '../cli-context.js';
import { parseLimit, parseSince, zodParser } from '../option-parsers.js';
import { formatTime, printJson, printTable } from '../output.js';

interface AuditOptions {
  since?: string;
  token?: string;
  method?: string;
  limit: number;
  json?: boolean;
}

const parseMethod = zodParser(z.string().regex(/^[A-Za-z]{1,64}$/, 'must be a method name such as StartBackup'));
const parseName = zodParser(z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'));

/** An audit entry as `--json` prints it: the request as JSON, not as a string. */
function entryJson(e: AuditEntry__Output): Record<string, unknown> {
  let request: unknown = null;
  if (e.requestJson) {
    try {
      request = JSON.parse(e.requestJson);
    } catch {
      request = e.requestJson;
    }
  }
  return {
    id: e.id,
    at: e.at,
    token: e.tokenName,
    tokenId: e.tokenId || null,
    role: e.role || null,
    method: e.method,
    request,
    outcome: e.outcome,
    error: e.error || null,
  };
}

/** Registers `bulwark audit`. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('the audit log, newest first: every mutating call and every refused call, with token, role and outcome (admin)')
    .option('--since <time|duration>', 'only entries since a time (2027-01-01, 2027-01-01T12:00:00Z) or for a duration back (24h, 7d)', (v: string) =>
      parseSince(v),
    )
    .option('--token <name>', "only this token's calls (anonymous: calls without a token; -: unknown tokens)", parseName)
    .option('--method <method>', 'only calls of this method (StartBackup, CreateApiToken, ...)', parseMethod)
    .option('--limit <n>', 'at most this many entries', parseLimit, 100)
    .option('--json', 'print JSON')
    .action(async (opts: AuditOptions, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { entries } = await api.listAuditEntries({
          since: opts.since ?? '',
          tokenName: opts.token ?? '',
          method: opts.method ?? '',
          limit: opts.limit,
        });
        if (opts.json) {
          printJson(entries.map(entryJson));
          return;
        }
        printTable(
          ['TIME', 'TOKEN', 'ROLE', 'METHOD', 'OUTCOME', 'REQUEST / ERROR'],
          entries.map((e) => [
            formatTime(e.at),
            e.tokenName,
            e.role || '-',
            e.method,
            e.outcome,
            e.outcome === 'ok' ? e.requestJson : `${e.requestJson}${e.requestJson ? ' ' : ''}${e.error}`.slice(0, 200),
          ]),
          'no audit entries',
        );
      });
    });
}
