/**
 * `bulwark rpo`: per VM and site the RPO watch checks, the age of the newest good copy against
 * the target of the policies that want copies there, and ok or BREACHED. Exits 5 when any entry
 * shown is breached, so a script or a monitoring check can act on it.
 */
import type { Command } from 'commander';
import type { RpoEntry__Output } from '../../../shared/rpc/generated/bulwark/v1/RpoEntry.js';
import { withController } from '../cli-context.js';
import { ExitCode } from '../cli-errors.js';
import { parseSite, parseVmName } from '../option-parsers.js';
import { formatDuration, formatTime, printJson, printTable } from '../output.js';

/** The exit code of `bulwark status` and `bulwark rpo` when something needs attention. */
export const NEEDS_ATTENTION_EXIT_CODE = ExitCode.needsAttention;

/** Added to the help of `status` and `rpo`. */
export const needsAttentionHelp = `
Exit code ${NEEDS_ATTENTION_EXIT_CODE} (besides those below): it worked and something needs attention:
  status: an RPO breached, an open damage alert or a worker offline; rpo: a breached entry shown`;

/** An entry as --json prints it: the age as a number or null (none: no good copy). */
export function rpoEntryJson(e: RpoEntry__Output): Record<string, unknown> {
  // `_ageMs` is proto-loader's marker of the optional field, not data.
  const { _ageMs, ...rest } = e;
  return { ...rest, ageMs: e.ageMs ?? null };
}

/** Table rows: VM, SITE, POLICY, TARGET, NEWEST GOOD COPY, AGE, STATE, SINCE. */
export function rpoRows(entries: readonly RpoEntry__Output[]): string[][] {
  return entries.map((e) => [
    e.vm,
    e.site,
    e.policy,
    formatDuration(e.rpoMs),
    e.newestBackupId ? `${e.newestBackupId} (${formatTime(e.newestBackupAt)})` : 'no backup yet',
    e.ageMs === undefined ? 'unknown' : formatDuration(e.ageMs),
    e.state === 'breached' ? 'BREACHED' : 'ok',
    e.breachedSince ? formatTime(e.breachedSince) : '',
  ]);
}

export const RPO_HEAD = ['VM', 'SITE', 'POLICY', 'TARGET', 'NEWEST GOOD COPY', 'AGE', 'STATE', 'BREACHED SINCE'];

/** `bulwark rpo [--vm <vm>] [--site <site>] [--breached]`. */
export function registerRpoCommand(program: Command): void {
  program
    .command('rpo')
    .description(
      "RPO state per VM and site: the age of the newest good copy (present, not pruned, not damaged) against the smallest RPO of the policies covering the VM; breached when older, or when there is none",
    )
    .option('--vm <vm>', 'only this VM', parseVmName)
    .option('--site <site>', 'only this site', parseSite)
    .option('--breached', 'only the breached ones')
    .option('--json', 'print JSON')
    .addHelpText('after', needsAttentionHelp)
    .action(async (opts: { vm?: string; site?: string; breached?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const res = await api.listRpo({ vm: opts.vm ?? '', site: opts.site ?? '', breachedOnly: opts.breached === true });
        const breached = res.entries.filter((e) => e.state === 'breached').length;
        if (opts.json) {
          printJson({ now: res.now, breached, entries: res.entries.map(rpoEntryJson) });
        } else {
          printTable(RPO_HEAD, rpoRows(res.entries), emptyText(opts));
          if (res.entries.length > 0) console.log(`\n${res.entries.length} watched, ${breached} breached`);
        }
        if (breached > 0) process.exitCode = NEEDS_ATTENTION_EXIT_CODE;
      });
    });
}

function emptyText(opts: { vm?: string; site?: string; breached?: boolean }): string {
  if (opts.breached) return 'no breached VM/site pair';
  if (opts.vm !== undefined || opts.site !== undefined) return 'nothing watched matches';
  return 'no VM is watched: give a policy an RPO (bulwark policy create|edit --rpo <duration>)';
}
