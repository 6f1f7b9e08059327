/**
 * The rate limit of a sync's blob transfer: one token bucket shared by every batch in flight.
 * A batch reserves its expected bytes BEFORE it is asked for (so the sender cannot run ahead of
 * the limit by a flow-control window), and settles when it ends: bytes beyond the reservation
 * are taken then, a reservation not used is credited to the next batches (up to one burst, as
 * a bucket never holds more). The expected size of a blob is the running mean of those seen;
 * until one is seen, batches are of one blob, reserved at the chunk size.
 */
import type { Clock } from '../../shared/clock.js';
import { TokenBucket } from '../../shared/flow/token-bucket.js';

export class TransferGate {
  private readonly bucket: TokenBucket | undefined;
  private credit = 0;
  private seenBytes = 0;
  private seenBlobs = 0;

  constructor(
    rateBytesPerSecond: number | undefined,
    private readonly chunkSizeBytes: number,
    clock: Clock,
    sleep: (ms: number) => Promise<void>,
  ) {
    this.bucket = rateBytesPerSecond === undefined ? undefined : new TokenBucket({ rateBytesPerSecond }, clock, sleep);
  }

  /** Expected bytes of one blob. */
  get blobEstimate(): number {
    return this.seenBlobs === 0 ? this.chunkSizeBytes : Math.ceil(this.seenBytes / this.seenBlobs);
  }

  /**
   * Blobs per batch: at most `batchSize`; with a limit about a quarter of a burst's worth (so
   * the flow is smooth, not a burst a second), and one until a blob was seen.
   */
  batchCount(batchSize: number): number {
    if (!this.bucket) return batchSize;
    if (this.seenBlobs === 0) return 1;
    return Math.max(1, Math.min(batchSize, Math.floor(this.bucket.burstBytes / 4 / this.blobEstimate)));
  }

  /** Waits until a batch of `blobs` blobs may be asked for; returns the bytes reserved. */
  async reserve(blobs: number): Promise<number> {
    if (!this.bucket) return 0;
    const want = blobs * this.blobEstimate;
    const fromCredit = Math.min(this.credit, want);
    this.credit -= fromCredit;
    if (want > fromCredit) await this.bucket.take(want - fromCredit);
    return want;
  }

  /** A batch ended having moved `bytes` in `blobs` blobs against `reserved`. */
  async settle(reserved: number, blobs: number, bytes: number): Promise<void> {
    this.seenBlobs += blobs;
    this.seenBytes += bytes;
    if (!this.bucket) return;
    if (bytes > reserved) await this.bucket.take(bytes - reserved);
    else this.credit = Math.min(this.bucket.burstBytes, this.credit + reserved - bytes);
  }
}
