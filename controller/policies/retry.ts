/**
 * Retries of failed jobs with capped exponential backoff. A job that fails with a retryable error
 * while it has attempts left (attempt < maxAttempts: its policy's retry.maxAttempts; a manual job
 * has 1, so it is never retried) is queued again as attempt + 1, unpublished, not before
 * now + min(initialBackoffMs × 2^(attempt-1), maxBackoffMs), with the backoff of its policy's
 * retry rule (the defaults when the policy is gone). It keeps its id: storage sessions are keyed
 * by job id and attempt, so each attempt is idempotent and a late event of an earlier attempt is
 * ignored by the event applier.
 *
 * Not retryable (waiting changes nothing): invalid arguments, not found, failed preconditions,
 * cancelled. Everything else (unavailable, internal, I/O, data loss) is retried.
 *
 * The requeue follows the job's `failed` state (a change-feed notification), as a conditional
 * update (failed at that attempt), so doing it twice does nothing; a crash between the failure
 * and the requeue is repaired at start, which retries every failed job with attempts left.
 */
import type { Clock } from '../../shared/clock.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { RetryRule } from '../../shared/messages/policy.js';
import type { Catalog, JobRow } from '../catalog/catalog.js';
import type { JobChangeFeed } from '../jobs/job-change-feed.js';

const notRetryable: ReadonlySet<string> = new Set<ErrorCode>(['INVALID_ARGUMENT', 'NOT_FOUND', 'FAILED_PRECONDITION', 'CANCELLED']);

/** The wait before the attempt after `failedAttempt` (1-based): doubling from initialBackoffMs, capped at maxBackoffMs. */
export function backoffMs(rule: RetryRule, failedAttempt: number): number {
  const exponent = Math.max(0, failedAttempt - 1);
  // 2^exponent overflows nothing here: maxAttempts is at most 20.
  return Math.min(rule.initialBackoffMs * 2 ** exponent, rule.maxBackoffMs);
}

/** The error code of a job's recorded error (`CODE: message`, as the event applier writes it). */
export function errorCodeOf(error: string | null): string | undefined {
  if (error === null) return undefined;
  const match = /^([A-Z_]+):/.exec(error);
  return match?.[1];
}

/** Whether a failure with this recorded error may succeed when tried again. */
export function isRetryableError(error: string | null): boolean {
  const code = errorCodeOf(error);
  return code !== undefined && !notRetryable.has(code);
}

export interface JobRetrierOptions {
  readonly catalog: Catalog;
  readonly changes: JobChangeFeed;
  readonly clock: Clock;
  readonly log: Logger;
}

export class JobRetrier {
  private readonly defaultRule = RetryRule.parse(undefined);
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: JobRetrierOptions) {}

  /** Retries the failed jobs a crash left with attempts left, then follows every failure. */
  start(): void {
    for (const job of this.opts.catalog.listRetryCandidates()) this.consider(job);
    this.unsubscribe = this.opts.changes.subscribeAll((jobId) => {
      const job = this.opts.catalog.getJob(jobId);
      if (job) this.consider(job);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Queues the job's next attempt when it failed retryably with attempts left; true when it did. */
  consider(job: JobRow): boolean {
    if (job.state !== 'failed' || job.attempt >= (job.maxAttempts ?? 1)) return false;
    const log = this.opts.log.child({ jobId: job.id, attempt: job.attempt, policy: job.policy });
    if (job.cancelRequestedAt != null) return false;
    if (!isRetryableError(job.error)) {
      log.info({ error: job.error }, 'job failed with an error retrying cannot fix: not retried');
      return false;
    }
    const waitMs = backoffMs(this.ruleOf(job), job.attempt);
    const notBefore = new Date(this.opts.clock.nowMs() + waitMs).toISOString();
    if (!this.opts.catalog.requeueJob(job.id, job.attempt, notBefore)) return false;
    log.info({ nextAttempt: job.attempt + 1, maxAttempts: job.maxAttempts, backoffMs: waitMs, notBefore, error: job.error }, 'job failed; retry queued');
    this.opts.changes.notify(job.id);
    return true;
  }

  private ruleOf(job: JobRow): RetryRule {
    if (job.policy == null) return this.defaultRule;
    return this.opts.catalog.getPolicy(job.policy)?.policy.retry ?? this.defaultRule;
  }
}
