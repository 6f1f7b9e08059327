/**
 * Applies worker events to the catalog, each exactly once and in any order (NATS-JETSTREAM.md
 * §3, §9.14): the event id is recorded in the same transaction as its effects, so a replay is a
 * no-op; job states only move forward (queued → running → succeeded | failed | cancelled, a
 * `job.failed` with code CANCELLED being a cancel), so a late `job.started` after `job.succeeded`
 * changes nothing; a shared job's worker becomes the agent whose `job.started` took it; backups
 * are keyed by (backupId, site), so a redelivered job that reports the same backup again adds no
 * row.
 *
 * Results of different jobs may also arrive out of order, so every change to a backup copy
 * carries the worker's time and loses to a newer one already recorded: a verify finding older
 * than the copy's `stateAt` is ignored, `verifiedAt` and `lockedUntil` only move forward, a prune
 * is ignored for a copy reported present again after it (a sync re-copied it), and a copy
 * reported present after its prune comes back. A pruned copy keeps its row (history) with
 * `prunedAt` set.
 *
 * Repairs and damage alerts from storages: a repair is recorded once (its id). An alert marks
 * the copies it covers at its site damaged as a finding at `raisedAt`; its resolution is a
 * finding `ok` at the resolution's time, so with verify findings the newest one wins whatever
 * the order they arrive in. Besides, the catalog reads a copy damaged while any open alert
 * covers it, so a finding `ok` (a verify, another alert's resolution) never hides an open alert.
 * A resolution that arrives before its alert is kept, and the alert enters resolved.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { DamageAlert, JobResult, WorkerEvent } from '../../shared/messages/events.js';
import type { BackupRecord, LockResult, PruneResult, VerifyResult } from '../../shared/messages/results.js';
import { FinishedJobStates, type BackupState, type Catalog, type JobRow, type JobState } from '../catalog/catalog.js';
import { SHARED_WORKER } from '../../shared/messages/subjects.js';
import type { JobChangeFeed } from './job-change-feed.js';
import type { AlertRow } from '../catalog/catalog.js';

type JobEvent = Extract<WorkerEvent, { jobId: string }>;
type InventoryEvent = Extract<WorkerEvent, { type: 'inventory' }>;
type RepairEvent = Extract<WorkerEvent, { type: 'repair' }>;
type AlertResolvedEvent = Extract<WorkerEvent, { type: 'alert.resolved' }>;

const terminal: ReadonlySet<JobState> = new Set(FinishedJobStates);

export interface EventApplierOptions {
  readonly catalog: Catalog;
  readonly changes: JobChangeFeed;
  readonly clock: Clock;
  readonly log: Logger;
  /** Told of each damage alert raised or resolved, inside the transaction that records it (webhooks). */
  readonly onDamageAlert?: (type: 'alert.raised' | 'alert.resolved', alert: AlertRow) => void;
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
      else if (event.type === 'repair') this.applyRepair(event);
      else if (event.type === 'alert.raised') this.applyAlertRaised(event.alert);
      else if (event.type === 'alert.resolved') this.applyAlertResolved(event);
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
        tags: vm.tags ?? [],
      });
    }
    // Who reports which VM: a VM several agents of a site report gets its jobs on the shared queue.
    this.opts.catalog.replaceVmWorkers(event.site, event.worker, event.vms.map((vm) => vm.name));
    this.opts.log.info({ site: event.site, worker: event.worker, vms: event.vms.length }, 'inventory applied');
  }

  private applyRepair(event: RepairEvent): void {
    const repair = { ...event.repair, at: isoTime(event.repair.at) };
    const inserted = this.opts.catalog.insertRepair(repair);
    const log = this.opts.log.child({ repairId: repair.repairId, site: repair.site });
    if (!inserted) {
      log.debug('repair recorded before');
      return;
    }
    log.info(
      { object: repair.object, digest: repair.digest, backupId: repair.backupId, peer: repair.peer, trigger: repair.trigger, bytes: repair.bytes },
      'repair recorded',
    );
  }

  private applyAlertRaised(raised: DamageAlert): void {
    const { catalog } = this.opts;
    const alert = { ...raised, raisedAt: isoTime(raised.raisedAt) };
    const log = this.opts.log.child({ alertId: alert.alertId, site: alert.site });
    if (!catalog.insertAlert(alert)) {
      log.debug('alert raised before; nothing changes');
      return;
    }
    const backupIds = coveredBackups(alert);
    for (const backupId of backupIds) this.recordFinding(backupId, alert.site, 'damaged', alert.raisedAt, false);
    const row = catalog.getAlert(alert.alertId);
    if (row) this.opts.onDamageAlert?.('alert.raised', row);
    if (row?.state === 'resolved' && row.resolvedAt !== null) {
      // Its resolution came first: apply it now, so the order of the two changes nothing.
      for (const backupId of backupIds) this.recordFinding(backupId, alert.site, 'ok', row.resolvedAt, false);
      this.opts.onDamageAlert?.('alert.resolved', row);
      log.info({ resolvedAt: row.resolvedAt, resolution: row.resolution }, 'alert raised after its resolution: recorded resolved');
      return;
    }
    log.warn({ object: alert.object, digest: alert.digest, backups: backupIds.length, message: alert.message }, 'damage alert raised');
  }

  private applyAlertResolved(event: AlertResolvedEvent): void {
    const { catalog } = this.opts;
    const log = this.opts.log.child({ alertId: event.alertId, site: event.site });
    const resolvedAt = isoTime(event.at);
    if (!catalog.recordAlertResolution(event.alertId, resolvedAt, event.reason)) {
      log.debug('alert resolved before; nothing changes');
      return;
    }
    const alert = catalog.getAlert(event.alertId);
    if (!alert) {
      log.info({ reason: event.reason }, 'resolution of an alert not raised yet: kept for when it comes');
      return;
    }
    for (const backupId of coveredBackups(alert)) this.recordFinding(backupId, alert.site, 'ok', resolvedAt, false);
    this.opts.onDamageAlert?.('alert.resolved', alert);
    log.info({ reason: event.reason }, 'damage alert resolved');
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
    // A shared job's worker is the agent that started it; after a redelivery, the one that took it over.
    const taker =
      job.shared === true && event.worker !== job.worker && (event.type === 'job.started' || job.worker === SHARED_WORKER)
        ? { worker: event.worker }
        : {};
    switch (event.type) {
      case 'job.started':
        if (job.state !== 'queued') {
          if (taker.worker === undefined) return false;
          catalog.updateJob(job.id, taker);
          log.info({ worker: event.worker }, 'shared job taken over by another agent');
          return true;
        }
        catalog.updateJob(job.id, { state: 'running', startedAt, ...taker });
        return true;
      case 'job.progress':
        if (job.progress && job.progress.at > event.at) return false;
        catalog.updateJob(job.id, {
          ...taker,
          state: 'running',
          startedAt,
          progress: { phase: event.phase, doneBytes: event.doneBytes, totalBytes: event.totalBytes, at: event.at },
        });
        return true;
      case 'job.failed':
        if (event.error.code === 'CANCELLED') {
          // Cancelled on request: the worker cleaned up as on failure. A job cancelled before it
          // ran keeps no start time.
          catalog.updateJob(job.id, { ...taker, state: 'cancelled', finishedAt: event.at, error: `CANCELLED: ${event.error.message}` });
          log.info('job cancelled');
          return true;
        }
        catalog.updateJob(job.id, {
          ...taker,
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
        catalog.updateJob(job.id, { ...taker, state: 'succeeded', startedAt, finishedAt: event.at, result: outcome.result });
        this.recordOutcome(job, outcome, event.at);
        log.info('job succeeded');
        return true;
      }
    }
  }

  private recordOutcome(job: JobRow, outcome: JobResult, at: string): void {
    switch (outcome.kind) {
      case 'backup':
        // The storage's commit time, on the same clock as a later prune at that site.
        this.recordCopy(outcome.result.backup, outcome.result.backup.site, outcome.result.backup.createdAt);
        return;
      case 'sync':
        for (const copy of outcome.result.copied) this.recordCopy(copy, outcome.result.site, at);
        return;
      case 'verify':
        this.recordVerify(outcome.result, at);
        return;
      case 'restore':
        // A deep verify read and checked every chunk with the key: the copy it read is good.
        if (outcome.result.verifyOnly) this.recordFinding(outcome.result.backupId, outcome.result.site, 'ok', at, true);
        else this.opts.log.debug({ jobId: job.id }, 'restore finished; nothing to record');
        return;
      case 'prune':
        this.recordPrune(outcome.result, at);
        return;
      case 'lock':
        this.recordLock(outcome.result);
        return;
      case 'snapshot':
        // The hypervisor keeps the snapshots; the catalog records only the job and its result.
        this.opts.log.info({ jobId: job.id, vm: outcome.result.vm, op: outcome.result.op, snapshots: outcome.result.snapshots.length }, 'snapshot job finished');
        return;
      case 'gc':
        this.opts.log.info(
          { jobId: job.id, site: outcome.result.site, chunksRemoved: outcome.result.chunksRemoved, bytesReclaimed: outcome.result.bytesReclaimed },
          'gc finished',
        );
        return;
    }
  }

  /** A storage reports a copy present at `at`: insert it, or bring back a copy pruned before then. */
  private recordCopy(record: BackupRecord, site: string, at: string): void {
    const { catalog } = this.opts;
    const existing = catalog.getBackupCopy(record.backupId, site);
    if (!existing) {
      catalog.insertBackup({
        ...record,
        site,
        verifiedAt: null,
        state: 'ok',
        stateAt: null,
        lockedUntil: null,
        prunedAt: null,
        seenAt: at,
      });
      return;
    }
    if (existing.prunedAt !== null && existing.prunedAt < at) {
      catalog.updateBackup(record.backupId, site, { prunedAt: null, seenAt: at, verifiedAt: null, state: 'ok', stateAt: at });
      this.opts.log.info({ backupId: record.backupId, site }, 'pruned backup copied again');
      return;
    }
    if (existing.seenAt === null || existing.seenAt < at) catalog.updateBackup(record.backupId, site, { seenAt: at });
  }

  private recordVerify(result: VerifyResult, at: string): void {
    const verifiedAt = result.verifiedAt ?? at;
    const damaged = new Set(result.damagedFiles.filter((f) => f.outcome === 'unrepaired').map((f) => f.backupId));
    for (const finding of result.chunks) {
      if (finding.outcome === 'unrepaired') for (const b of finding.backups) damaged.add(b.backupId);
    }
    const verified = new Set(result.verifiedBackupIds);
    for (const backupId of new Set([...verified, ...damaged])) {
      this.recordFinding(backupId, result.site, damaged.has(backupId) ? 'damaged' : 'ok', verifiedAt, verified.has(backupId));
    }
  }

  /** A check of a copy at `at`; an older finding than the one recorded changes nothing. */
  private recordFinding(backupId: string, site: string, state: BackupState, at: string, verified: boolean): void {
    const { catalog } = this.opts;
    const existing = catalog.getBackupCopy(backupId, site);
    if (!existing || existing.prunedAt !== null) return;
    const newerVerify = verified && (existing.verifiedAt === null || existing.verifiedAt < at);
    const newerState = existing.stateAt === null || existing.stateAt <= at;
    catalog.updateBackup(backupId, site, {
      ...(newerVerify ? { verifiedAt: at } : {}),
      ...(newerState ? { state, stateAt: at } : {}),
    });
    if (newerState && state !== existing.state) {
      this.opts.log.info({ backupId, site, from: existing.state, to: state }, 'backup state changed');
    }
  }

  private recordPrune(result: PruneResult, at: string): void {
    if (result.dryRun) return;
    const { catalog } = this.opts;
    for (const removed of result.removed) {
      const existing = catalog.getBackupCopy(removed.backupId, result.site);
      if (!existing || existing.prunedAt !== null) continue;
      // Reported present after this prune: a sync copied it again, and that is the newer news.
      if (existing.seenAt !== null && existing.seenAt > at) continue;
      catalog.updateBackup(removed.backupId, result.site, { prunedAt: at });
    }
    this.opts.log.info({ site: result.site, removed: result.removed.length, kept: result.kept.length }, 'prune applied');
  }

  private recordLock(result: LockResult): void {
    const { catalog } = this.opts;
    const existing = catalog.getBackupCopy(result.backupId, result.site);
    if (!existing) {
      this.opts.log.warn({ backupId: result.backupId, site: result.site }, 'lock of a backup the catalog does not know');
      return;
    }
    const until = isoTime(result.lockedUntil);
    // A lock only ever grows: a late result of an older, shorter lock changes nothing.
    if (existing.lockedUntil === null || existing.lockedUntil < until) {
      catalog.updateBackup(result.backupId, result.site, { lockedUntil: until });
    }
  }
}

/** The backups whose copies at the alert's site it covers: its own and every affected range's. */
function coveredBackups(alert: DamageAlert): string[] {
  const ids = new Set(alert.affected.map((r) => r.backupId));
  if (alert.backupId !== null) ids.add(alert.backupId);
  return [...ids];
}

/** The same instant in the catalog's one format (ISO-8601 UTC with milliseconds), so times compare as strings. */
function isoTime(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}
