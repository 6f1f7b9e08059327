import type { BackupRow, JobRow, VmRow, WorkerRow } from '../catalog/catalog.js';
import type { CatalogBackup } from '../../shared/rpc/generated/bulwark/v1/CatalogBackup.js';
import type { Job } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import type { Vm } from '../../shared/rpc/generated/bulwark/v1/Vm.js';
import type { Worker } from '../../shared/rpc/generated/bulwark/v1/Worker.js';

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
  };
}
