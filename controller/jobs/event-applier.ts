/**
 * Applies worker events to the catalog, each exactly once and in any order (NATS-JETSTREAM.md
 * §3, §9.14): the event id is recorded in the same transaction as its effects, so a replay is a
 * no-op; job states only move forward (queued → running → succeeded | failed), so a late
 * `job.started` after `job.succeeded` changes nothing; backups are keyed by (backupId, site), so
 * a redelivered job that reports the same backup again adds no row.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { JobResult, WorkerEvent } from '../../shared/messages/events.js';
import type { BackupRecord } from '../../shared/messages/results.js';
import type { Catalog, JobRow, JobState } from '../catalog/catalog.js';
import type { JobChangeFeed } from './job-change-feed.js';

type JobEvent = Exclude<WorkerEvent, { type: 'inventory' }>;
type InventoryEvent = Extract<WorkerEvent, { type: 'inventory' }>;

const terminal: ReadonlySet<JobState> = new Set(['succeeded', 'failed']);

export interface EventApplierOptions {
  readonly catalog: Catalog;
  readonly changes: JobChangeFeed;
  readonly clock: Clock;
  readonly log: Logger;
}

export class EventApplier {
  constructor(private readonly opts: EventApplierOptions) {}

  /** Applies one event in one transaction; false when it had been applied before. */
  apply(event: WorkerEvent): boolean {
    const { catalog, clock } = this.opts;
    let changedJob: string | undefined;
    const applied = catalog.transaction(() => {
      if (!catalog.recordEvent(event.eventId, clock.nowIso())) return false;
      if (event.type === 'inventory') this.applyInventory(event);
      else if (this.applyJobEvent(event)) changedJob = event.jobId;
      return true;
    });
    // Notify only after the commit, so a watcher re-reading the job sees the change.
    if (changedJob !== undefined) this.opts.changes.notify(changedJob);
    return applied;
  }

  private applyInventory(event: InventoryEvent): void {
    for (const vm of event.vms) {
      this.opts.catalog.upsertVm({
        name: vm.name,
        site: event.site,
        worker: event.worker,
        hypervisor: vm.hypervisor,
        disks: vm.disks,
      });
    }
    this.opts.log.info({ site: event.site, worker: event.worker, vms: event.vms.length }, 'inventory applied');
  }

  /** Returns whether the job's row changed. */
  private applyJobEvent(event: JobEvent): boolean {
    const { catalog } = this.opts;
    const log = this.opts.log.child({ jobId: event.jobId, eventId: event.eventId, type: event.type });
    const job = catalog.getJob(event.jobId);
    if (!job) {
      log.warn('event for an unknown job ignored');
      return false;
    }
    if (event.attempt !== job.attempt) {
      log.info({ attempt: event.attempt, current: job.attempt }, 'event of another attempt ignored');
      return false;
    }
    if (terminal.has(job.state)) return false;
    const startedAt = job.startedAt ?? event.at;
    switch (event.type) {
      case 'job.started':
        if (job.state !== 'queued') return false;
        catalog.updateJob(job.id, { state: 'running', startedAt });
        return true;
      case 'job.progress':
        if (job.progress && job.progress.at > event.at) return false;
        catalog.updateJob(job.id, {
          state: 'running',
          startedAt,
          progress: { phase: event.phase, doneBytes: event.doneBytes, totalBytes: event.totalBytes, at: event.at },
        });
        return true;
      case 'job.failed':
        catalog.updateJob(job.id, {
          state: 'failed',
          startedAt,
          finishedAt: event.at,
          error: `${event.error.code}: ${event.error.message}`,
        });
        log.warn({ error: event.error }, 'job failed');
        return true;
      case 'job.succeeded': {
        const outcome = event.outcome;
        if (outcome.kind !== job.kind) {
          catalog.updateJob(job.id, {
            state: 'failed',
            startedAt,
            finishedAt: event.at,
            error: `INTERNAL: the worker reported a ${outcome.kind} result for a ${job.kind} job`,
          });
          log.error({ resultKind: outcome.kind }, 'job result of the wrong kind');
          return true;
        }
        catalog.updateJob(job.id, { state: 'succeeded', startedAt, finishedAt: event.at, result: outcome.result });
        this.recordBackups(job, outcome, event.at);
        log.info('job succeeded');
        return true;
      }
    }
  }

  private recordBackups(job: JobRow, outcome: JobResult, at: string): void {
    const { catalog } = this.opts;
    const insert = (record: BackupRecord, site: string) =>
      catalog.insertBackup({ ...record, site, verifiedAt: null, state: 'ok' });
    switch (outcome.kind) {
      case 'backup':
        insert(outcome.result.backup, outcome.result.backup.site);
        return;
      case 'sync':
        for (const copy of outcome.result.copied) insert(copy, outcome.result.site);
        return;
      case 'verify': {
        const { site } = outcome.result;
        for (const backupId of outcome.result.verifiedBackupIds) {
          catalog.setBackupVerified(backupId, site, at);
          catalog.setBackupState(backupId, site, 'ok');
        }
        for (const file of outcome.result.damagedFiles) catalog.setBackupState(file.backupId, site, 'damaged');
        for (const finding of outcome.result.chunks) {
          if (finding.outcome !== 'unrepaired') continue;
          for (const b of finding.backups) catalog.setBackupState(b.backupId, site, 'damaged');
        }
        return;
      }
      case 'restore':
        this.opts.log.debug({ jobId: job.id }, 'restore finished; nothing to record');
        return;
    }
  }
}
