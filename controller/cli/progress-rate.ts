/**
 * Transfer rate and ETA of a followed job, from the progress updates its WatchJob stream
 * delivers (about one a second): bytes done between the oldest and the newest sample of a
 * sliding window, over the time between them. A window rather than "since the start" so a
 * stall or a burst shows within seconds, and a job followed from the middle (`bulwark job <id>
 * --wait`) is not credited with bytes moved before it was watched. A new phase (a backup's
 * `read`, then `commit`) or bytes going backwards (a retried attempt) start a new series.
 */

/** One progress update as the CLI saw it. */
interface Sample {
  readonly atMs: number;
  readonly doneBytes: number;
}

export interface RateEstimate {
  /** Bytes per second over the window; undefined until two samples some time apart. */
  readonly bytesPerSecond: number | undefined;
  /** Milliseconds left at that rate; undefined without a rate, 0 when done. */
  readonly etaMs: number | undefined;
}

export class ProgressRate {
  private samples: Sample[] = [];
  private phase = '';
  private totalBytes = 0;

  /**
   * `windowMs`: how far back samples count (default 10 s). `stallAfterMs`: with no new bytes for
   * longer than this (updates come about once a second), the window is taken to end now, so a
   * stalled transfer shows a falling rate instead of the last one forever.
   */
  constructor(
    private readonly windowMs = 10_000,
    private readonly stallAfterMs = 3000,
  ) {}

  /** Records an update received at `atMs` (a monotonic clock, e.g. performance.now()). */
  add(atMs: number, phase: string, doneBytes: number, totalBytes: number): void {
    const last = this.samples.at(-1);
    if (phase !== this.phase || (last !== undefined && doneBytes < last.doneBytes)) this.samples = [];
    this.phase = phase;
    this.totalBytes = totalBytes;
    // The same bytes again (a state change, a repeated update) is no new measurement.
    if (this.samples.at(-1)?.doneBytes === doneBytes) return;
    this.samples.push({ atMs, doneBytes });
    // Keep one sample at or before the window's start, so the window spans windowMs once
    // there is that much history.
    const start = atMs - this.windowMs;
    while (this.samples.length > 2 && (this.samples[1]?.atMs ?? Infinity) <= start) this.samples.shift();
  }

  /** The rate over the window ending at the newest update (or at `nowMs` when stalled), and the time left at that rate. */
  estimate(nowMs: number): RateEstimate {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined) return { bytesPerSecond: undefined, etaMs: undefined };
    const left = Math.max(0, this.totalBytes - last.doneBytes);
    if (left === 0 && this.totalBytes > 0) {
      return { bytesPerSecond: this.rate(first, last, last.atMs), etaMs: 0 };
    }
    const endMs = nowMs - last.atMs > this.stallAfterMs ? nowMs : last.atMs;
    const bytesPerSecond = this.rate(first, last, endMs);
    if (bytesPerSecond === undefined) return { bytesPerSecond, etaMs: undefined };
    return { bytesPerSecond, etaMs: bytesPerSecond > 0 ? (left * 1000) / bytesPerSecond : undefined };
  }

  private rate(first: Sample, last: Sample, endMs: number): number | undefined {
    const elapsedMs = endMs - first.atMs;
    if (elapsedMs <= 0) return undefined;
    return ((last.doneBytes - first.doneBytes) * 1000) / elapsedMs;
  }
}
