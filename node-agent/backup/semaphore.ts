/**
 * A counting semaphore (of bytes, or of slots) for the data path's bounded queues. Waiters are
 * served in order; once `fail()` is called every waiter and every later `acquire()` rejects, so
 * a stage blocked on a full queue wakes up when the pipeline fails elsewhere.
 */
export class Semaphore {
  private used = 0;
  private peak = 0;
  private failure: Error | undefined;
  private readonly waiters: { readonly units: number; resolve(): void; reject(err: Error): void }[] = [];

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new RangeError('a semaphore needs a positive limit');
  }

  /** Units held now. */
  get inUse(): number {
    return this.used;
  }

  /** Most units ever held at once. */
  get peakInUse(): number {
    return this.peak;
  }

  /** Waits until `units` fit under the limit, then holds them. */
  acquire(units = 1): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (units > this.limit) return Promise.reject(new RangeError(`${units} units can never fit under a limit of ${this.limit}`));
    if (this.waiters.length === 0 && this.used + units <= this.limit) {
      this.take(units);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ units, resolve, reject }));
  }

  release(units = 1): void {
    this.used -= units;
    for (let next = this.waiters[0]; next && this.used + next.units <= this.limit; next = this.waiters[0]) {
      this.waiters.shift();
      this.take(next.units);
      next.resolve();
    }
  }

  /** Rejects every waiter and every later acquire with `err`. */
  fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }

  private take(units: number): void {
    this.used += units;
    this.peak = Math.max(this.peak, this.used);
  }
}
