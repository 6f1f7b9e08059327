import type { Command } from 'commander';
import { progressFlagOf, withController } from '../cli-context.js';
import { reportStartedJob } from '../job-follower.js';
import { parseId, parseJobState, parseLimit } from '../option-parsers.js';
import { formatTime, jobJson, printJob, printJson, printTable, progressText, scheduleText } from '../output.js';

/** `bulwark jobs` and `bulwark job <id>`. */
export function registerJobCommands(program: Command): void {
  program
    .command('jobs')
    .description('list jobs, newest first')
    .option('--state <state>', 'only jobs in this state: queued, running, succeeded, failed, cancelled or skipped', parseJobState)
    .option('--limit <n>', 'at most this many jobs', parseLimit, 50)
    .option('--json', 'print JSON')
    .action(async (opts: { state?: string; limit: number; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { jobs } = await api.listJobs({ limit: opts.limit, state: opts.state ?? '' });
        if (opts.json) {
          printJson(jobs.map(jobJson));
          return;
        }
        printTable(
          ['JOB', 'KIND', 'STATE', 'WORKER', 'VM', 'POLICY', 'PRI', 'CREATED', 'FINISHED', 'DETAIL'],
          jobs.map((j) => [
            j.id,
            j.kind,
            j.state,
            `${j.site}/${j.worker}`,
            j.vm || '-',
            j.policy || '-',
            String(j.priority),
            formatTime(j.createdAt),
            formatTime(j.finishedAt),
            j.error || (j.state === 'running' ? progressText(j) : scheduleText(j)),
          ]),
          'no jobs',
        );
      });
    });

  program
    .command('job')
    .description('show one job and its result')
    .argument('<id>', 'the job id', parseId)
    .option('--wait', 'follow the job until it is finished (a progress bar on a terminal; see --progress)')
    .option('--watch', 'the same as --wait')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { wait?: boolean; watch?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.getJob(id);
        if (opts.wait || opts.watch) {
          await reportStartedJob(api, job, { wait: true, json: opts.json === true, progress: progressFlagOf(cmd) });
          return;
        }
        if (opts.json) printJson(jobJson(job));
        else printJob(job);
      });
    });
}
