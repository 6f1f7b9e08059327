/** In-process notifications that a job's row changed, for watchers (WatchJob). */
export class JobChangeFeed {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly everyJob = new Set<(jobId: string) => void>();

  /** Calls `listener` after each change of any job (the metrics endpoint); returns the unsubscribe function. */
  subscribeAll(listener: (jobId: string) => void): () => void {
    this.everyJob.add(listener);
    return () => this.everyJob.delete(listener);
  }

  /** Calls `listener` after each change of job `jobId`; returns the unsubscribe function. */
  subscribe(jobId: string, listener: () => void): () => void {
    let set = this.listeners.get(jobId);
    if (!set) {
      set = new Set();
      this.listeners.set(jobId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(jobId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(jobId);
    };
  }

  /** Tells the watchers of `jobId` that it changed (call after the change is committed). */
  notify(jobId: string): void {
    for (const listener of [...(this.listeners.get(jobId) ?? [])]) listener();
    for (const listener of [...this.everyJob]) listener(jobId);
  }
}
