import { Option, type Command } from 'commander';
import { PreconditionError, ValidationError } from '../../../shared/errors.js';
import { progressFlagOf, withController } from '../cli-context.js';
import type { ControllerApi } from '../controller-api.js';
import { reportStartedJob } from '../job-follower.js';
import { parseByteRate, parseConcurrency, parseDuration, parseId, parseSite, parseSyncMode, parseVmName } from '../option-parsers.js';

interface SyncOptions {
  from?: string;
  to?: string;
  mode?: 'pull' | 'push';
  rate?: number;
  concurrency?: number;
  wait?: boolean;
  json?: boolean;
}

interface VerifyOptions {
  site?: string;
  backup?: string;
  vm?: string;
  force?: boolean;
  skipWithin?: number;
  repair?: boolean;
  withKey?: boolean;
  wait?: boolean;
  json?: boolean;
}

/** `bulwark sync` and `bulwark verify`. */
export function registerStorageCommands(program: Command): void {
  program
    .command('sync')
    .description('replicate: copy every backup one site lacks from another (the replica pulls, or the primary pushes)')
    .option('--from <site>', 'site to copy from (default: the configured replication pair)', parseSite)
    .option('--to <site>', 'site to copy to (default: the configured replication pair)', parseSite)
    .option('--mode <mode>', "pull (run at the replica) or push (run at the primary); default: the pair's, else pull", parseSyncMode)
    .option('--rate <bytes/s>', "at most this many bytes per second, e.g. 10MiB (default: the pair's, else unlimited)", parseByteRate)
    .option('--concurrency <n>', "chunk transfers in flight, 1-32 (default: the pair's, else the storage's)", parseConcurrency)
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (opts: SyncOptions, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.startSync({
          fromSite: opts.from ?? '',
          toSite: opts.to ?? '',
          mode: opts.mode ?? '',
          ...(opts.rate !== undefined ? { rateBytesPerSecond: opts.rate } : {}),
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        });
        await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true, progress: progressFlagOf(cmd) });
      });
    });

  program
    .command('verify')
    .description(
      "re-read and check the chunks of a site's storage (one backup, one VM or everything); --repair heals damage from other sites; --with-key has the VM's agent decrypt and check a backup with its key",
    )
    .option('--site <site>', "site to verify (default: the backup's copy at the primary site, else the primary site)", parseSite)
    .addOption(new Option('--backup <id>', 'only this backup').argParser(parseId).conflicts('vm'))
    .option('--vm <vm>', "only this VM's backups (with --with-key: its newest backup)", parseVmName)
    .option('--force', 'check even the backups verified within the skip age')
    .addOption(
      new Option('--skip-within <duration>', "skip backups verified within this age, e.g. 12h; 0s skips none (default: the controller's, 24h)")
        .argParser(parseDuration)
        .conflicts('force'),
    )
    .option('--repair', 'fetch damaged or missing chunks from the other sites')
    .addOption(
      new Option('--with-key', "deep verify through the VM's agent: decrypt and check every chunk with the key, write nothing")
        .conflicts(['repair', 'force', 'skipWithin']),
    )
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (opts: VerifyOptions, cmd: Command) => {
      if (opts.withKey && opts.backup === undefined && opts.vm === undefined) {
        throw new ValidationError('--with-key', 'needs --backup <id> or --vm <vm>: a deep verify checks one backup');
      }
      await withController(cmd, async (api) => {
        const job = opts.withKey
          ? await api.startRestore({
              backupId: opts.backup ?? (await newestBackupOf(api, opts.vm ?? '', opts.site)),
              targetDir: '',
              site: opts.site ?? '',
              worker: '',
              verifyOnly: true,
            })
          : await api.startVerify({
              site: opts.site ?? '',
              repair: opts.repair === true,
              backupId: opts.backup ?? '',
              vm: opts.vm ?? '',
              force: opts.force === true,
              ...(opts.skipWithin !== undefined ? { skipVerifiedWithinMs: opts.skipWithin } : {}),
            });
        await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true, progress: progressFlagOf(cmd) });
      });
    });
}

async function newestBackupOf(api: ControllerApi, vm: string, site: string | undefined): Promise<string> {
  const { backups } = await api.listBackups({ vm, site: site ?? '' });
  const newest = backups[0];
  if (!newest) throw new PreconditionError(`VM ${vm} has no backup${site === undefined ? '' : ` at site ${site}`} to verify`, { vm });
  return newest.backupId;
}
