/**
 * The tasks a pipeline starts without awaiting each one: the first failure is kept (and handed to
 * `onFailure`, which wakes the stages blocked on a queue), and `settled()` waits until every task,
 * including those started by other tasks meanwhile, has finished.
 */
export class TaskGroup {
  private readonly running = new Set<Promise<void>>();
  private firstFailure: Error | undefined;

  constructor(private readonly onFailure: (err: Error) => void) {}

  /** The first error any task (or `fail`) raised. */
  get failure(): Error | undefined {
    return this.firstFailure;
  }

  spawn(fn: () => Promise<void>): void {
    const task = (async () => {
      try {
        await fn();
      } catch (err) {
        this.fail(err);
      }
    })();
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  fail(err: unknown): void {
    if (this.firstFailure) return;
    this.firstFailure = err instanceof Error ? err : new Error(String(err));
    this.onFailure(this.firstFailure);
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
