/**
 * `--wait`: follows a job through the controller's WatchJob stream until it is finished,
 * showing its progress as chosen (progress-mode.ts): a bar on stderr (bytes, rate, ETA), a line
 * on stdout per state or phase change, or nothing. If the controller goes away mid-job (a
 * restart), it reconnects until `reconnectForMs` passes.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job__Output } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import { isFinishedJobState } from '../catalog/catalog.js';
import { ControllerUnreachableError, JobFailedError } from './cli-errors.js';
import type { ControllerApi } from './controller-api.js';
import { jobJson, jobLine, printJob, printJson, progressText } from './output.js';
import { JobProgressBar } from './progress-bar.js';
import { resolveProgressView, type ProgressMode, type ProgressView } from './progress-mode.js';

export interface FollowOptions {
  readonly view: ProgressView;
  readonly reconnectForMs?: number;
}

/** Shows a followed job's states: one of the three views. */
interface ProgressDisplay {
  show(job: Job__Output): void;
  /** Before a message on stderr, and at the end. */
  finish(): void;
}

function plainDisplay(): ProgressDisplay {
  let lastKey = '';
  return {
    show(job) {
      const text = job.state === 'running' && job.progress ? `${jobLine(job)}: ${progressText(job)}` : jobLine(job);
      const key = `${job.state}/${job.progress?.phase ?? ''}`;
      if (key !== lastKey) console.log(text);
      lastKey = key;
    },
    finish() {},
  };
}

function barDisplay(): ProgressDisplay {
  let bar: JobProgressBar | undefined;
  return {
    show(job) {
      bar ??= new JobProgressBar({ stream: process.stderr, now: () => performance.now() });
      bar.update(job);
    },
    finish() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function displayFor(view: ProgressView): ProgressDisplay {
  if (view === 'bar') return barDisplay();
  if (view === 'plain') return plainDisplay();
  return { show() {}, finish() {} };
}

/** Resolves with the finished job (succeeded, failed, cancelled or skipped). */
export async function followJob(api: ControllerApi, jobId: string, opts: FollowOptions): Promise<Job__Output> {
  const reconnectForMs = opts.reconnectForMs ?? 120_000;
  const display = displayFor(opts.view);
  let lastContact = Date.now();
  let told = false;
  try {
    for (;;) {
      let last: Job__Output | undefined;
      try {
        for await (const job of api.watchJob(jobId)) {
          lastContact = Date.now();
          last = job;
          display.show(job);
          if (isFinishedJobState(job.state)) return job;
        }
      } catch (err) {
        if (!(err instanceof ControllerUnreachableError)) throw err;
        if (Date.now() - lastContact > reconnectForMs) throw err;
      }
      // The stream ended early or broke: the controller restarted. Watch again.
      if (opts.view !== 'none' && !told && last === undefined) {
        told = true;
        display.finish();
        console.error(`waiting for the controller at ${api.location.address}…`);
      }
      await sleep(1000);
    }
  } finally {
    display.finish();
  }
}

export interface StartedJobOptions {
  readonly wait: boolean;
  readonly json: boolean;
  /** How a finished job is printed for people (default: printJob). */
  readonly print?: (job: Job__Output) => void;
  /** `--progress` (progressFlagOf); else $BULWARK_PROGRESS, else auto. */
  readonly progress?: ProgressMode | undefined;
}

function viewOf(opts: StartedJobOptions): ProgressView {
  return resolveProgressView({ flag: opts.progress, env: process.env, json: opts.json, stderrIsTty: process.stderr.isTTY === true });
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
  const done = await followJob(api, job.id, { view: viewOf(opts) });
  if (opts.json) printJson(jobJson(done));
  else if (done.state === 'succeeded' && opts.print) opts.print(done);
  else printJob(done);
  if (done.state !== 'succeeded') throw new JobFailedError(done.id, done.error || `${done.state}, no reason given`);
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
  const view = viewOf(opts);
  for (const job of jobs) done.push(await followJob(api, job.id, { view }));
  if (opts.json) printJson(done.map(jobJson));
  else done.forEach((job, i) => {
    if (i > 0) console.log('');
    printJob(job);
  });
  const failed = done.find((j) => j.state !== 'succeeded');
  if (failed) throw new JobFailedError(failed.id, failed.error || 'no reason given');
}
