import type { Command } from 'commander';
import { withController } from '../cli-context.js';
import { reportStartedJob } from '../job-follower.js';
import { parseSite } from '../option-parsers.js';

/** `bulwark sync` and `bulwark verify`. */
export function registerStorageCommands(program: Command): void {
  program
    .command('sync')
    .description('replicate: the storage of one site pulls every backup it lacks from another')
    .option('--from <site>', 'site to copy from (default: the configured replication pair)', parseSite)
    .option('--to <site>', 'site to copy to (default: the configured replication pair)', parseSite)
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (opts: { from?: string; to?: string; wait?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.startSync({ fromSite: opts.from ?? '', toSite: opts.to ?? '' });
        await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true });
      });
    });

  program
    .command('verify')
    .description("re-read and check every chunk of a site's storage; --repair heals damage from other sites")
    .option('--site <site>', 'site to verify (default: the primary site)', parseSite)
    .option('--repair', 'fetch damaged or missing chunks from the other sites')
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (opts: { site?: string; repair?: boolean; wait?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.startVerify({ site: opts.site ?? '', repair: opts.repair === true });
        await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true });
      });
    });
}
