/**
 * Runs async tasks with at most `limit` in flight. `run` waits for a free slot, so a producer
 * that awaits it is slowed to the pool's pace (backpressure); `drain` waits for the rest and
 * throws the first failure. After a failure new tasks are refused with that failure.
 */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** Starts `task` once a slot is free. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure.err;
    const p: Promise<void> = task()
      .catch((err: unknown) => {
        this.failure ??= { err };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Waits for every task; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure) throw this.failure.err;
  }
}
