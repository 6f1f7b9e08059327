import type { Command } from 'commander';
import { progressFlagOf, withController } from '../cli-context.js';
import { reportStartedJob } from '../job-follower.js';
import { parseMode, parseSite, parseVmName } from '../option-parsers.js';
import { formatBytes, formatTime, printJson, printTable } from '../output.js';

/** `bulwark backup <vm>` and `bulwark backups`. */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description("back up a VM: its agent sends the disks' changed chunks to its site's storage")
    .argument('<vm>', 'the VM to back up', parseVmName)
    .option('--mode <mode>', 'auto (incremental when a parent exists), full or incremental', parseMode, 'auto')
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: { mode: string; wait?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.startBackup({ vm, mode: opts.mode });
        await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true, progress: progressFlagOf(cmd) });
      });
    });

  program
    .command('backups')
    .description('list the backups in the catalog, one row per copy at each site (pruned copies are left out)')
    .option('--vm <vm>', 'only this VM', parseVmName)
    .option('--site <site>', 'only copies at this site', parseSite)
    .option('--json', 'print JSON')
    .action(async (opts: { vm?: string; site?: string; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { backups } = await api.listBackups({ vm: opts.vm ?? '', site: opts.site ?? '' });
        if (opts.json) {
          printJson(backups);
          return;
        }
        printTable(
          ['BACKUP', 'VM', 'SITE', 'CREATED', 'MODE', 'SIZE', 'DISKS', 'VERIFIED', 'LOCKED UNTIL', 'STATE'],
          backups.map((b) => [
            b.backupId,
            b.vm,
            b.site,
            formatTime(b.createdAt),
            b.mode,
            formatBytes(b.sizeBytes),
            b.diskCount,
            formatTime(b.verifiedAt),
            formatTime(b.lockedUntil),
            b.state,
          ]),
          'no backups',
        );
      });
    });
}
