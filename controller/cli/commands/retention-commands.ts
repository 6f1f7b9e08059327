import type { Command } from 'commander';
import { ValidationError } from '../../../shared/errors.js';
import { progressFlagOf, withController } from '../cli-context.js';
import { reportStartedJob, reportStartedJobs } from '../job-follower.js';
import { parseDuration, parseId, parseKeepCount, parseSite, parseUntil, parseVmName } from '../option-parsers.js';
import { printPruneDecisions } from '../output.js';

interface PruneOptions {
  site?: string;
  vm?: string;
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
}

const keepOptions = ['--keep-last', '--keep-hourly', '--keep-daily', '--keep-weekly', '--keep-monthly', '--keep-yearly'];

/** `bulwark prune`, `bulwark gc` and `bulwark lock`: what stays in a datastore and for how long. */
export function registerRetentionCommands(program: Command): void {
  program
    .command('prune')
    .description(
      "remove the backups no retention rule keeps, per VM, at one site's storage (locked backups always stay); --dry-run shows the decision and removes nothing",
    )
    .option('--site <site>', 'site whose storage is pruned (default: the primary site)', parseSite)
    .option('--vm <vm>', 'only this VM (default: every VM, each on its own)', parseVmName)
    .option('--keep-last <n>', 'keep the n newest backups', parseKeepCount)
    .option('--keep-hourly <n>', 'keep the newest backup of each of the last n hours that have one', parseKeepCount)
    .option('--keep-daily <n>', 'keep the newest backup of each of the last n days that have one', parseKeepCount)
    .option('--keep-weekly <n>', 'keep the newest backup of each of the last n ISO weeks that have one', parseKeepCount)
    .option('--keep-monthly <n>', 'keep the newest backup of each of the last n months that have one', parseKeepCount)
    .option('--keep-yearly <n>', 'keep the newest backup of each of the last n years that have one', parseKeepCount)
    .option('--dry-run', 'decide and print the decision (implies --wait); remove nothing')
    .option('--wait', 'follow the job until it is finished and print what was removed')
    .option('--json', 'print JSON')
    .action(async (opts: PruneOptions, cmd: Command) => {
      const keep = [opts.keepLast, opts.keepHourly, opts.keepDaily, opts.keepWeekly, opts.keepMonthly, opts.keepYearly];
      if (keep.every((n) => n === undefined)) {
        throw new ValidationError(
          keepOptions.join(' | '),
          'give at least one retention rule: prune removes every backup no rule keeps',
        );
      }
      await withController(cmd, async (api) => {
        const job = await api.startPrune({
          site: opts.site ?? '',
          vm: opts.vm ?? '',
          keepLast: opts.keepLast ?? 0,
          keepHourly: opts.keepHourly ?? 0,
          keepDaily: opts.keepDaily ?? 0,
          keepWeekly: opts.keepWeekly ?? 0,
          keepMonthly: opts.keepMonthly ?? 0,
          keepYearly: opts.keepYearly ?? 0,
          dryRun: opts.dryRun === true,
        });
        await reportStartedJob(api, job, {
          wait: opts.wait === true || opts.dryRun === true,
          json: opts.json === true,
          print: printPruneDecisions,
          progress: progressFlagOf(cmd),
        });
      });
    });

  program
    .command('gc')
    .description(
      "garbage collection at one site's storage: remove the chunks no backup and no open upload references, once older than the grace period",
    )
    .option('--site <site>', 'site whose storage is collected (default: the primary site)', parseSite)
    .option('--grace <duration>', "keep unreferenced chunks younger than this, e.g. 1h, 30m, 7d (default: the controller's, 1h)", parseDuration)
    .option('--dry-run', 'count what would be removed; remove nothing')
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (opts: { site?: string; grace?: number; dryRun?: boolean; wait?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.startGc({
          site: opts.site ?? '',
          dryRun: opts.dryRun === true,
          ...(opts.grace !== undefined ? { graceMs: opts.grace } : {}),
        });
        await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true, progress: progressFlagOf(cmd) });
      });
    });

  program
    .command('lock')
    .description(
      'make a backup immutable until a time: no prune, GC or API call deletes it or its chunks before then; a lock can be extended, never shortened',
    )
    .argument('<backup-id>', 'the backup to lock (see `bulwark backups`)', parseId)
    .requiredOption('--until <date|duration>', 'a date (2027-01-01, UTC), an ISO time (2027-01-01T12:00:00Z) or a duration from now (90d)', (v: string) => parseUntil(v))
    .option('--site <site>', 'lock only the copy at this site (default: every site holding a copy)', parseSite)
    .option('--wait', 'follow the lock jobs until they are finished')
    .option('--json', 'print JSON')
    .action(
      async (backupId: string, opts: { until: string; site?: string; wait?: boolean; json?: boolean }, cmd: Command) => {
        await withController(cmd, async (api) => {
          const { jobs } = await api.lockBackup({ backupId, until: opts.until, site: opts.site ?? '' });
          await reportStartedJobs(api, jobs, { wait: opts.wait === true, json: opts.json === true, progress: progressFlagOf(cmd) });
        });
      },
    );
}
