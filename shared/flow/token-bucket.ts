/**
 * A token bucket for bytes per second: a transfer takes tokens for what it is about to send and
 * waits while the bucket is short. Tokens accrue at `rateBytesPerSecond` up to `burstBytes`; a
 * take larger than the burst waits for the whole amount (the bucket goes to zero, never further
 * into debt than one take), so over any interval the bytes taken never exceed
 * burst + rate × elapsed. Takes are served in order (one waiter at a time), so concurrent
 * streams share the rate fairly in arrival order. Time comes from a Clock and a sleep function,
 * so tests drive it without waiting.
 */
import type { Clock } from '../clock.js';

export interface TokenBucketOptions {
  /** Sustained rate; must be positive. */
  readonly rateBytesPerSecond: number;
  /** Most bytes that may pass at once after an idle time; default one second's worth. */
  readonly burstBytes?: number;
}

export class TokenBucket {
  readonly rateBytesPerSecond: number;
  readonly burstBytes: number;
  private tokens: number;
  private lastMs: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    options: TokenBucketOptions,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    if (!(options.rateBytesPerSecond > 0) || !Number.isFinite(options.rateBytesPerSecond)) {
      throw new RangeError(`rateBytesPerSecond must be a positive number, not ${options.rateBytesPerSecond}`);
    }
    this.rateBytesPerSecond = options.rateBytesPerSecond;
    this.burstBytes = Math.max(1, options.burstBytes ?? options.rateBytesPerSecond);
    this.tokens = this.burstBytes;
    this.lastMs = clock.nowMs();
  }

  /** Resolves once `bytes` may be sent. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const now = this.clock.nowMs();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.lastMs) * this.rateBytesPerSecond) / 1000);
    this.lastMs = now;
  }

  private async wait(bytes: number): Promise<void> {
    this.refill();
    // Up to a burst must be in the bucket; beyond it the take goes into debt and waits it off
    // before it resolves, so what has passed never exceeds burst + rate × elapsed.
    const want = Math.min(Math.max(0, bytes), this.burstBytes);
    if (this.tokens < want) {
      await this.sleep(Math.ceil(((want - this.tokens) * 1000) / this.rateBytesPerSecond));
      this.refill();
    }
    this.tokens -= Math.max(0, bytes);
    if (this.tokens < 0) {
      await this.sleep(Math.ceil((-this.tokens * 1000) / this.rateBytesPerSecond));
      this.refill();
    }
  }
}
