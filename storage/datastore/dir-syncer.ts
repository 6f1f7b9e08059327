import { fsyncDir } from '../../shared/fs/atomic-file.js';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  remaining: number;
  failed: boolean;
}

/**
 * Group fsync of directories. `sync(dirs)` is called after the entries to make durable exist
 * (a rename, a mkdir); it resolves once each of those directories has been fsynced by a round
 * that STARTED after the call. While a round runs, new requests gather for the next one, so a
 * directory touched by many chunks at once is fsynced once per round, not once per chunk.
 */
export class DirSyncer {
  private pending = new Map<string, Waiter[]>();
  private running = false;

  sync(dirs: readonly string[]): Promise<void> {
    if (dirs.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, remaining: new Set(dirs).size, failed: false };
      for (const dir of new Set(dirs)) {
        const list = this.pending.get(dir);
        if (list) list.push(waiter);
        else this.pending.set(dir, [waiter]);
      }
      if (!this.running) void this.rounds();
    });
  }

  private async rounds(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Map();
        await Promise.all(
          [...batch].map(async ([dir, waiters]) => {
            let error: { err: unknown } | undefined;
            try {
              await fsyncDir(dir);
            } catch (err) {
              error = { err };
            }
            for (const w of waiters) {
              if (w.failed) continue;
              if (error) {
                w.failed = true;
                w.reject(error.err);
              } else if (--w.remaining === 0) {
                w.resolve();
              }
            }
          }),
        );
      }
    } finally {
      this.running = false;
    }
  }
}
