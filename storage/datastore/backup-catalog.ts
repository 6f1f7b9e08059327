import type { Manifest } from '../../shared/format/manifest.js';

/**
 * The committed backups of a datastore, in memory: built by scanning backups/ at startup and
 * kept in step by every commit. The manifests on disk stay the truth.
 */
export class BackupCatalog {
  private readonly byId = new Map<string, Manifest>();
  private readonly byJob = new Map<string, string>();

  private static jobKey(jobId: string, attempt: number): string {
    return `${jobId}#${attempt}`;
  }

  add(manifest: Manifest): void {
    this.byId.set(manifest.backupId, manifest);
    if (manifest.jobId !== '') this.byJob.set(BackupCatalog.jobKey(manifest.jobId, manifest.attempt), manifest.backupId);
  }

  /** Forgets a deleted backup. */
  remove(backupId: string): void {
    const manifest = this.byId.get(backupId);
    if (!manifest) return;
    this.byId.delete(backupId);
    if (manifest.jobId !== '') this.byJob.delete(BackupCatalog.jobKey(manifest.jobId, manifest.attempt));
  }

  get(backupId: string): Manifest | undefined {
    return this.byId.get(backupId);
  }

  /** The backup a job attempt committed, if it did. */
  findByJob(jobId: string, attempt: number): Manifest | undefined {
    if (jobId === '') return undefined;
    const id = this.byJob.get(BackupCatalog.jobKey(jobId, attempt));
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Backups oldest first (ids are time-ordered ULIDs), optionally of one VM. */
  list(vm?: string): Manifest[] {
    const all = [...this.byId.values()].filter((m) => vm === undefined || m.vm === vm);
    return all.sort((a, b) => (a.backupId < b.backupId ? -1 : a.backupId > b.backupId ? 1 : 0));
  }

  get size(): number {
    return this.byId.size;
  }
}
