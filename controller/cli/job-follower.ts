/**
 * `--wait`: follows a job through the controller's WatchJob stream until it is finished. On a
 * terminal it redraws one status line; otherwise it prints a line per state or phase change.
 * If the controller goes away mid-job (a restart), it reconnects until `reconnectForMs` passes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job__Output } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import { ControllerUnreachableError, JobFailedError } from './cli-errors.js';
import type { ControllerApi } from './controller-api.js';
import { jobJson, jobLine, printJob, printJson, progressText } from './output.js';

export interface FollowOptions {
  /** Print progress at all (not with --json). */
  readonly quiet: boolean;
  readonly tty: boolean;
  readonly reconnectForMs?: number;
}

/** Resolves with the finished job (succeeded or failed). */
export async function followJob(api: ControllerApi, jobId: string, opts: FollowOptions): Promise<Job__Output> {
  const reconnectForMs = opts.reconnectForMs ?? 120_000;
  let lastKey = '';
  let lastContact = Date.now();
  let drawn = false;
  let told = false;
  const show = (job: Job__Output) => {
    if (opts.quiet) return;
    const phase = job.progress?.phase ?? '';
    const text = job.state === 'running' && job.progress ? `${jobLine(job)}: ${progressText(job)}` : jobLine(job);
    if (opts.tty) {
      process.stdout.write(`\r\x1b[K${text}`);
      drawn = true;
    } else {
      const key = `${job.state}/${phase}`;
      if (key !== lastKey) console.log(text);
      lastKey = key;
    }
  };
  try {
    for (;;) {
      let last: Job__Output | undefined;
      try {
        for await (const job of api.watchJob(jobId)) {
          lastContact = Date.now();
          last = job;
          show(job);
          if (job.state === 'succeeded' || job.state === 'failed') return job;
        }
      } catch (err) {
        if (!(err instanceof ControllerUnreachableError)) throw err;
        if (Date.now() - lastContact > reconnectForMs) throw err;
      }
      // The stream ended early or broke: the controller restarted. Watch again.
      if (!opts.quiet && !told && last === undefined) {
        told = true;
        console.error(`\nwaiting for the controller at ${api.location.address}…`);
      }
      await sleep(1000);
    }
  } finally {
    if (drawn) process.stdout.write('\n');
  }
}

export interface StartedJobOptions {
  readonly wait: boolean;
  readonly json: boolean;
  /** How a finished job is printed for people (default: printJob). */
  readonly print?: (job: Job__Output) => void;
}

/**
 * What every job-starting command does with the job it got: print it, or follow it to the end
 * and print the outcome. A failed job throws JobFailedError (exit 1) after it was printed.
 */
export async function reportStartedJob(api: ControllerApi, job: Job__Output, opts: StartedJobOptions): Promise<void> {
  if (!opts.wait) {
    if (opts.json) printJson(jobJson(job));
    else console.log(`${jobLine(job)}\nfollow it with: bulwark job ${job.id}`);
    return;
  }
  const done = await followJob(api, job.id, { quiet: opts.json, tty: process.stdout.isTTY });
  if (opts.json) printJson(jobJson(done));
  else if (done.state === 'succeeded' && opts.print) opts.print(done);
  else printJob(done);
  if (done.state === 'failed') throw new JobFailedError(done.id, done.error || 'no reason given');
}

/**
 * The same for several jobs started by one command (a lock at every site): printed together,
 * followed one after another; the first failure throws once every job was printed.
 */
export async function reportStartedJobs(api: ControllerApi, jobs: readonly Job__Output[], opts: StartedJobOptions): Promise<void> {
  if (!opts.wait) {
    if (opts.json) printJson(jobs.map(jobJson));
    else {
      for (const job of jobs) console.log(jobLine(job));
      console.log(`follow them with: ${jobs.map((j) => `bulwark job ${j.id}`).join('; ')}`);
    }
    return;
  }
  const done: Job__Output[] = [];
  for (const job of jobs) done.push(await followJob(api, job.id, { quiet: opts.json, tty: process.stdout.isTTY }));
  if (opts.json) printJson(done.map(jobJson));
  else done.forEach((job, i) => {
    if (i > 0) console.log('');
    printJob(job);
  });
  const failed = done.find((j) => j.state === 'failed');
  if (failed) throw new JobFailedError(failed.id, failed.error || 'no reason given');
}
