import type { Command } from 'commander';
import { withController } from '../cli-context.js';
import { reportStartedJob } from '../job-follower.js';
import { parseId, parseJobState, parseLimit } from '../option-parsers.js';
import { formatTime, jobJson, printJob, printJson, printTable, progressText } from '../output.js';

/** `bulwark jobs` and `bulwark job <id>`. */
export function registerJobCommands(program: Command): void {
  program
    .command('jobs')
    .description('list jobs, newest first')
    .option('--state <state>', 'only jobs in this state: queued, running, succeeded or failed', parseJobState)
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
          ['JOB', 'KIND', 'STATE', 'WORKER', 'VM', 'CREATED', 'FINISHED', 'DETAIL'],
          jobs.map((j) => [
            j.id,
            j.kind,
            j.state,
            `${j.site}/${j.worker}`,
            j.vm || '-',
            formatTime(j.createdAt),
            formatTime(j.finishedAt),
            j.error || (j.state === 'running' ? progressText(j) : ''),
          ]),
          'no jobs',
        );
      });
    });

  program
    .command('job')
    .description('show one job and its result')
    .argument('<id>', 'the job id', parseId)
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { wait?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.getJob(id);
        if (opts.wait) {
          await reportStartedJob(api, job, { wait: true, json: opts.json === true });
          return;
        }
        if (opts.json) printJson(jobJson(job));
        else printJob(job);
      });
    });
}
