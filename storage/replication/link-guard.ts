/**
 * Rides out a failed link between two sites during a sync. A step that fails because of the
 * link (UNAVAILABLE: refused, reset, dropped; DEADLINE_EXCEEDED: silent) is retried after a
 * capped exponential backoff for up to `linkRetryMs` from the first failure of the outage; any
 * other error is the caller's. Each outage that ends with a step succeeding again is a resume.
 */
import type { Clock } from '../../shared/clock.js';
import { AppError, UnavailableError, errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';

/** First wait after a failure; doubled on each further failure, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2000;

/** Whether a failed call failed because of the link rather than what it asked. */
export function isLinkFailure(err: unknown): boolean {
  return err instanceof AppError && !(err instanceof LinkDownError) && (err.code === 'UNAVAILABLE' || err.code === 'DEADLINE_EXCEEDED');
}

/** The link stayed down longer than the sync may wait. */
export class LinkDownError extends UnavailableError {
  constructor(peer: string, downMs: number, linkRetryMs: number, cause: unknown) {
    super(`the link to ${peer} has been down for ${downMs} ms (longer than linkRetryMs ${linkRetryMs}): ${errorMessage(cause)}`, {
      cause,
      details: { peer, downMs, linkRetryMs },
    });
  }
}

export interface LinkGuardOptions {
  /** The other site, for messages. */
  readonly peer: string;
  readonly linkRetryMs: number;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: Logger;
  readonly signal?: AbortSignal | undefined;
}

export class LinkGuard {
  private outageStartMs: number | undefined;
  private backoffMs = FIRST_BACKOFF_MS;
  private failures = 0;
  /** Outages ridden out so far. */
  resumes = 0;

  constructor(private readonly opts: LinkGuardOptions) {}

  /** Whether an outage is going on (the last step failed on the link). */
  get down(): boolean {
    return this.outageStartMs !== undefined;
  }

  /** A step over the link succeeded: an outage, if any, is over. */
  ok(): void {
    if (this.outageStartMs === undefined) return;
    this.resumes++;
    this.opts.log.info(
      { peer: this.opts.peer, downMs: this.opts.clock.nowMs() - this.outageStartMs, failures: this.failures, resumes: this.resumes },
      'link back: sync resumes',
    );
    this.outageStartMs = undefined;
    this.backoffMs = FIRST_BACKOFF_MS;
    this.failures = 0;
  }

  /**
   * A step failed. Rethrows an error that is not the link's; throws LinkDownError once the
   * outage has lasted `linkRetryMs`; otherwise resolves after the backoff, to retry.
   */
  async failed(err: unknown): Promise<void> {
    if (!isLinkFailure(err)) throw err;
    this.opts.signal?.throwIfAborted();
    const nowMs = this.opts.clock.nowMs();
    if (this.outageStartMs === undefined) {
      this.outageStartMs = nowMs;
      this.opts.log.warn({ peer: this.opts.peer, err: errorMessage(err) }, 'link failed mid-sync: retrying');
    }
    this.failures++;
    const downMs = nowMs - this.outageStartMs;
    if (downMs >= this.opts.linkRetryMs) throw new LinkDownError(this.opts.peer, downMs, this.opts.linkRetryMs, err);
    await this.opts.sleep(Math.min(this.backoffMs, this.opts.linkRetryMs - downMs));
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.opts.signal?.throwIfAborted();
  }

  /** Runs one step, retrying it while the link is down. */
  async run<T>(step: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const value = await step();
        this.ok();
        return value;
      } catch (err) {
        await this.failed(err);
      }
    }
  }
}
