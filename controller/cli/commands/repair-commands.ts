import type { Command } from 'commander';
import type { AffectedRange__Output } from '../../../shared/rpc/generated/bulwark/v1/AffectedRange.js';
import { withController } from '../cli-context.js';
import { parseLimit, parseSince, parseSite, parseVmName } from '../option-parsers.js';
import { alertLines, formatBytes, formatTime, printJson, printTable } from '../output.js';

interface RepairsOptions {
  site?: string;
  vm?: string;
  since?: string;
  limit: number;
  json?: boolean;
}

/** `bulwark repairs` and `bulwark alerts`. */
export function registerRepairCommands(program: Command): void {
  program
    .command('repairs')
    .description('list repairs, newest first: damaged or missing chunks, indexes and manifests a storage healed from another site')
    .option('--site <site>', 'only repairs at this site', parseSite)
    .option('--vm <vm>', 'only repairs that affect this VM', parseVmName)
    .option('--since <time|duration>', 'only repairs since a time (2027-01-01, 2027-01-01T12:00:00Z) or for a duration back (24h, 7d)', (v: string) =>
      parseSince(v),
    )
    .option('--limit <n>', 'at most this many repairs', parseLimit, 100)
    .option('--json', 'print JSON')
    .action(async (opts: RepairsOptions, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { repairs } = await api.listRepairs({ site: opts.site ?? '', vm: opts.vm ?? '', since: opts.since ?? '', limit: opts.limit });
        if (opts.json) {
          printJson(repairs);
          return;
        }
        printTable(
          ['TIME', 'SITE', 'OBJECT', 'DIGEST / BACKUP', 'PROBLEM', 'TRIGGER', 'PEER', 'BYTES', 'AFFECTED'],
          repairs.map((r) => [
            formatTime(r.at),
            r.site,
            r.object,
            r.object === 'chunk' ? `${r.digest.slice(0, 16)}…` : r.disk ? `${r.backupId}/${r.disk}` : r.backupId,
            r.problem,
            r.trigger,
            r.peer,
            formatBytes(r.bytes),
            affectedDisks(r.affected),
          ]),
          'no repairs',
        );
      });
    });

  program
    .command('alerts')
    .description('list damage no other site could heal: the VMs, disks and byte ranges affected (open alerts; --all: resolved ones too)')
    .option('--all', 'resolved alerts too')
    .option('--json', 'print JSON')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { alerts } = await api.listAlerts({ all: opts.all === true, limit: 0 });
        if (opts.json) {
          printJson(alerts);
          return;
        }
        if (alerts.length === 0) {
          console.log(opts.all ? 'no alerts' : 'no open alerts');
          return;
        }
        alerts.forEach((a, i) => {
          if (i > 0) console.log('');
          for (const line of alertLines(a)) console.log(line);
        });
      });
    });
}

/** "vm1/disk0 (2 backups), vm2/root (1 backup)". */
function affectedDisks(ranges: readonly AffectedRange__Output[]): string {
  const backups = new Map<string, Set<string>>();
  for (const r of ranges) {
    const key = `${r.vm}/${r.disk}`;
    backups.set(key, (backups.get(key) ?? new Set<string>()).add(r.backupId));
  }
  if (backups.size === 0) return '-';
  return [...backups].map(([disk, ids]) => `${disk} (${ids.size} backup${ids.size === 1 ? '' : 's'})`).join(', ');
}
