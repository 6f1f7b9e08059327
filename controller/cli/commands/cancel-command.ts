/**
 * `bulwark cancel <job-id> [--wait] [--json]`: cancels a job. One not yet published is cancelled
 * at once; a published one is asked to stop (its worker cleans up and reports it cancelled), and
 * `--wait` follows it until it has ended. Exit 0 once the job is (or, without --wait, is being)
 * cancelled; 1 when it had already finished, or finished before the cancel reached it.
 */
import type { Command } from 'commander';
import { PreconditionError } from '../../../shared/errors.js';
import type { Job__Output } from '../../../shared/rpc/generated/bulwark/v1/Job.js';
import { progressViewOf, withController } from '../cli-context.js';
import { followJob } from '../job-follower.js';
import { parseId } from '../option-parsers.js';
import { jobJson, jobLine, printJob, printJson } from '../output.js';

export function registerCancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('cancel a job: at once when it is still queued, else its worker stops it and cleans up')
    .argument('<job-id>', 'the job id (bulwark jobs lists them)', parseId)
    .option('--wait', 'follow the job until it has ended')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { wait?: boolean; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const job = await api.cancelJob(id);
        const show = (j: Job__Output) => {
          if (opts.json) printJson({ ...jobJson(j), cancelRequestedAt: j.cancelRequestedAt || null });
          else printJob(j);
        };
        if (job.state === 'cancelled') {
          if (opts.json) show(job);
          else console.log(`${jobLine(job)}: it never reached a worker`);
          return;
        }
        if (!opts.wait) {
          if (opts.json) show(job);
          else console.log(`${jobLine(job)}: cancel requested; its worker stops it and cleans up\nfollow it with: bulwark job ${job.id} --wait`);
          return;
        }
        const done = await followJob(api, job.id, { view: progressViewOf(cmd, opts.json === true) });
        show(done);
        if (done.state !== 'cancelled') {
          throw new PreconditionError(`job ${done.id} ${done.state} before the cancel reached it`, { jobId: done.id, state: done.state });
        }
      });
    });
}
