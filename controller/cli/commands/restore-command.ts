import { Option, type Command } from 'commander';
import { progressFlagOf, withController } from '../cli-context.js';
import { reportStartedJob } from '../job-follower.js';
import { parseDir, parseId, parseSite, parseWorker } from '../option-parsers.js';

/** `bulwark restore <backup-id> --to <dir>`. */
export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description("restore a backup's disks into a directory on an agent's host (sparse <disk>.img files, or <disk>.qcow2 images)")
    .argument('<backup-id>', 'the backup to restore (see `bulwark backups`)', parseId)
    .requiredOption('--to <dir>', 'target directory on the agent host (relative paths are resolved here)', parseDir)
    .option('--site <site>', "site whose storage serves the data (default: the VM's own site)", parseSite)
    .option('--worker <agent>', "agent that writes the disks (default: the VM's agent)", parseWorker)
    .addOption(new Option('--format <format>', 'image format of the restored disks').choices(['raw', 'qcow2']).default('raw'))
    .option('--start', "start the VM on the restored disks (QEMU on the agent's host, from the backup's VM definition)")
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(
      async (
        backupId: string,
        opts: { to: string; site?: string; worker?: string; format: string; start?: boolean; wait?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        await withController(cmd, async (api) => {
          const job = await api.startRestore({
            backupId,
            targetDir: opts.to,
            site: opts.site ?? '',
            worker: opts.worker ?? '',
            format: opts.format,
            start: opts.start === true,
          });
          await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true, progress: progressFlagOf(cmd) });
        });
      },
    );
}
