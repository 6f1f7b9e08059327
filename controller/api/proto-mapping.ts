import type { AffectedRange, RepairRecord } from '../../shared/messages/events.js';
import type { AffectedRange as AffectedRangeProto } from '../../shared/rpc/generated/bulwark/v1/AffectedRange.js';
import type { Alert } from '../../shared/rpc/generated/bulwark/v1/Alert.js';
import type { CatalogBackup } from '../../shared/rpc/generated/bulwark/v1/CatalogBackup.js';
import type { ImportCatalogResponse } from '../../shared/rpc/generated/bulwark/v1/ImportCatalogResponse.js';
import type { GetStatusResponse } from '../../shared/rpc/generated/bulwark/v1/GetStatusResponse.js';
import type { Job } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import type { Repair } from '../../shared/rpc/generated/bulwark/v1/Repair.js';
import type { ReplicationPairStatus } from '../../shared/rpc/generated/bulwark/v1/ReplicationPairStatus.js';
import type { Vm } from '../../shared/rpc/generated/bulwark/v1/Vm.js';
import type { VmReplicationLag } from '../../shared/rpc/generated/bulwark/v1/VmReplicationLag.js';
import type { VmStatus } from '../../shared/rpc/generated/bulwark/v1/VmStatus.js';
import type { Worker } from '../../shared/rpc/generated/bulwark/v1/Worker.js';
import type { AlertRow, BackupRow, JobRow, VmRow, WorkerRow } from '../catalog/catalog.js';
import type { CatalogImportReport } from '../jobs/catalog-import.js';
import type { DeploymentStatus, VmStatus as VmStatusRow } from '../jobs/deployment-status.js';
import type { PairStatus, VmLag } from '../jobs/replication-status.js';
import type { RpoEntry as RpoEntryProto } from '../../shared/rpc/generated/bulwark/v1/RpoEntry.js';
import type { RpoEntry } from '../policies/rpo-watch.js';
import type { PolicyEntry } from '../../shared/rpc/generated/bulwark/v1/PolicyEntry.js';
import type { PolicyView } from '../policies/policy-store.js';

/** A catalog job as the wire shows it (proto3: empty strings for absent values). */
export function jobToProto(job: JobRow): Job {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    site: job.site,
    worker: job.worker,
    vm: job.vm ?? '',
    attempt: job.attempt,
    createdAt: job.createdAt,
    startedAt: job.startedAt ?? '',
    finishedAt: job.finishedAt ?? '',
    error: job.error ?? '',
    progress: job.progress
      ? { doneBytes: job.progress.doneBytes, totalBytes: job.progress.totalBytes, phase: job.progress.phase }
      : null,
    paramsJson: JSON.stringify(job.params),
    resultJson: job.result === null || job.result === undefined ? '' : JSON.stringify(job.result),
    cancelRequestedAt: job.cancelRequestedAt ?? '',
    // scheduling
    policy: job.policy ?? '',
    priority: job.priority ?? 0,
    dueAt: job.dueAt ?? '',
    notBefore: job.notBefore ?? '',
    startBy: job.startBy ?? '',
    maxAttempts: job.maxAttempts ?? 1,
    publishedAt: job.publishedAt ?? '',
  };
}

export function vmToProto(vm: VmRow, lastBackup: BackupRow | undefined): Vm {
  return {
    name: vm.name,
    site: vm.site,
    worker: vm.worker,
    hypervisor: vm.hypervisor,
    disks: vm.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
    lastBackupId: lastBackup?.backupId ?? '',
    lastBackupAt: lastBackup?.createdAt ?? '',
    tags: [...vm.tags],
  };
}

export function workerToProto(w: WorkerRow): Worker {
  return {
    site: w.site,
    id: w.id,
    kind: w.kind,
    state: w.state,
    lastSeenAt: w.lastSeenAt,
    address: w.address ?? '',
    version: w.version,
  };
}

export function backupToProto(b: BackupRow): CatalogBackup {
  return {
    backupId: b.backupId,
    vm: b.vm,
    site: b.site,
    createdAt: b.createdAt,
    mode: b.mode,
    sizeBytes: b.sizeBytes,
    diskCount: b.disks.length,
    jobId: b.jobId,
    verifiedAt: b.verifiedAt ?? '',
    state: b.state,
    lockedUntil: b.lockedUntil ?? '',
    parentBackupId: b.parentBackupId ?? '',
  };
}

function affectedToProto(r: AffectedRange): AffectedRangeProto {
  return { backupId: r.backupId, vm: r.vm, disk: r.disk, offsetBytes: r.offsetBytes, lengthBytes: r.lengthBytes };
}

export function repairToProto(r: RepairRecord): Repair {
  return {
    repairId: r.repairId,
    site: r.site,
    object: r.object,
    digest: r.digest ?? '',
    backupId: r.backupId ?? '',
    disk: r.disk ?? '',
    problem: r.problem,
    trigger: r.trigger,
    peer: r.peer,
    bytes: r.bytes,
    at: r.at,
    affected: r.affected.map(affectedToProto),
  };
}

export function alertToProto(a: AlertRow): Alert {
  return {
    alertId: a.alertId,
    site: a.site,
    object: a.object,
    digest: a.digest ?? '',
    backupId: a.backupId ?? '',
    disk: a.disk ?? '',
    problem: a.problem,
    peersTried: a.peersTried.map((p) => ({ site: p.site, error: p.error })),
    raisedAt: a.raisedAt,
    affected: a.affected.map(affectedToProto),
    message: a.message,
    state: a.state,
    resolvedAt: a.resolvedAt ?? '',
    resolution: a.resolution ?? '',
  };
}

function vmLagToProto(l: VmLag): VmReplicationLag {
  return {
    vm: l.vm,
    newestAtPrimaryId: l.newestAtPrimary.backupId,
    newestAtPrimaryAt: l.newestAtPrimary.createdAt,
    newestAtReplicaId: l.newestAtReplica?.backupId ?? '',
    newestAtReplicaAt: l.newestAtReplica?.createdAt ?? '',
    lagMs: l.lagMs,
    notYetReplicated: l.notYetReplicated,
    ...(l.dataAgeAtReplicaMs !== null ? { dataAgeAtReplicaMs: l.dataAgeAtReplicaMs } : {}),
    backupsAtPrimary: l.backupsAtPrimary,
    backupsAtReplica: l.backupsAtReplica,
  };
}

export function pairStatusToProto(p: PairStatus): ReplicationPairStatus {
  return {
    fromSite: p.from,
    toSite: p.to,
    mode: p.mode,
    intervalMs: p.intervalMs ?? 0,
    rateBytesPerSecond: p.rateBytesPerSecond ?? 0,
    concurrency: p.concurrency ?? 0,
    configured: p.configured,
    lastSync: p.lastSync ? jobToProto(p.lastSync) : null,
    lastSuccessAt: p.lastSuccessAt ?? '',
    vms: p.vms.map(vmLagToProto),
  };
}

function vmStatusToProto(v: VmStatusRow): VmStatus {
  return {
    name: v.name,
    site: v.site ?? '',
    worker: v.worker ?? '',
    newest: v.newest.map((c) => ({ site: c.site, backupId: c.backupId, createdAt: c.createdAt, state: c.state })),
  };
}

export function statusToProto(s: DeploymentStatus): GetStatusResponse {
  return {
    now: s.now,
    workers: s.workers.map(workerToProto),
    vms: s.vms.map(vmStatusToProto),
    openAlerts: s.openAlerts.map(alertToProto),
    replication: s.replication.map(pairStatusToProto),
    activeJobs: s.activeJobs.map(jobToProto),
    failedJobs: s.failedJobs.map(jobToProto),
    failedWithinMs: s.failedWithinMs,
    rpo: s.rpo.map(rpoEntryToProto),
    needsAttention: s.needsAttention,
  };
}

// --- RPO watch ---
export function rpoEntryToProto(e: RpoEntry): RpoEntryProto {
  return {
    vm: e.vm,
    site: e.site,
    policy: e.policy,
    rpoMs: e.rpoMs,
    newestBackupId: e.newestGood?.backupId ?? '',
    newestBackupAt: e.newestGood?.createdAt ?? '',
    ...(e.ageMs !== null ? { ageMs: e.ageMs } : {}),
    state: e.state,
    alertId: e.alertId ?? '',
    breachedSince: e.breachedSince ?? '',
  };
}

/** What a catalog import did, as the wire shows it. */
export function importReportToProto(report: CatalogImportReport): ImportCatalogResponse {
  return { ...report, skipped: report.skipped.map((s) => ({ backupId: s.backupId, reason: s.reason })) };
}

// --- policies ---
export function policyToProto(view: PolicyView): PolicyEntry {
  return {
    name: view.policy.name,
    policyJson: JSON.stringify(view.policy),
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
    coveredVms: [...view.coveredVms],
    nextDue: [...view.nextDue],
  };
}
