/**
 * The Controller gRPC service (proto/bulwark/v1/controller.proto): decode, validate with zod,
 * call the jobs domain or read the catalog, map to proto. No decisions are made here.
 */
import type * as grpc from '@grpc/grpc-js';
import { NotFoundError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { serverStreamHandler, unaryHandler } from '../../shared/rpc/grpc-calls.js';
import type { ControllerHandlers } from '../../shared/rpc/proto-packages.js';
import type { Job } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import { isFinishedJobState, type Catalog, type JobRow } from '../catalog/catalog.js';
import type { DeploymentStatusReader } from '../jobs/deployment-status.js';
import type { JobChangeFeed } from '../jobs/job-change-feed.js';
import type { CatalogImporter } from '../jobs/catalog-import.js';
import type { JobService } from '../jobs/job-service.js';
import type { ReplicationStatusReader } from '../jobs/replication-status.js';
import type { ApiAccess } from '../access/api-access.js';
import { createAccessHandlers } from './grpc-access-control-service.js';
import type { RpoWatch } from '../policies/rpo-watch.js';
import type { PolicyStore } from '../policies/policy-store.js';
import { createPolicyHandlers } from './grpc-policy-service.js';
import type { JobCanceller } from '../jobs/job-cancel.js';
import { rpoEntryToProto } from './proto-mapping.js';
import { ListRpoInput } from './requests.js';
import {
  alertToProto,
  backupToProto,
  importReportToProto,
  jobToProto,
  pairStatusToProto,
  repairToProto,
  statusToProto,
  vmToProto,
  workerToProto,
} from './proto-mapping.js';
import {
  GetStatusInput,
  ImportCatalogInput,
  JobIdInput,
  ListAlertsInput,
  ListBackupsInput,
  ListJobsInput,
  ListRepairsInput,
  LockBackupInput,
  StartBackupInput,
  StartGcInput,
  StartPruneInput,
  StartRestoreInput,
  StartSnapshotInput,
  StartSyncInput,
  StartVerifyInput,
  parseRequest,
} from './requests.js';

export interface ControllerServiceDeps {
  readonly catalog: Catalog;
  readonly jobs: JobService;
  readonly changes: JobChangeFeed;
  readonly replication: ReplicationStatusReader;
  readonly status: DeploymentStatusReader;
  readonly importer: CatalogImporter;
  readonly access: ApiAccess;
  readonly log: Logger;
  /** The RPO watch (ListRpo). */
  readonly rpo: RpoWatch;
  /** Cancel of jobs (CancelJob). */
  readonly canceller: JobCanceller;
  /** Policies as data (CreatePolicy ... AssignPolicy). */
  readonly policies: PolicyStore;
}

export function createControllerService(deps: ControllerServiceDeps): ControllerHandlers {
  const { catalog, jobs, changes, replication, status, importer, access, log } = deps;
  const getJob = (id: string): JobRow => {
    const job = catalog.getJob(id);
    if (!job) throw new NotFoundError('job', id);
    return job;
  };

  return {
    ListVms: unaryHandler(log, () =>
      Promise.resolve({ vms: catalog.listVms().map((vm) => vmToProto(vm, catalog.latestBackup(vm.name))) }),
    ),
    ListWorkers: unaryHandler(log, () => Promise.resolve({ workers: catalog.listWorkers().map(workerToProto) })),
    ListJobs: unaryHandler(log, (req) => {
      const input = parseRequest(ListJobsInput, req);
      return Promise.resolve({
        jobs: catalog.listJobs({ limit: input.limit, ...(input.state ? { state: input.state } : {}) }).map(jobToProto),
      });
    }),
    GetJob: unaryHandler(log, (req) => Promise.resolve(jobToProto(getJob(parseRequest(JobIdInput, req).id)))),
    ListCatalogBackups: unaryHandler(log, (req) => {
      const input = parseRequest(ListBackupsInput, req);
      return Promise.resolve({
        backups: catalog
          .listBackups({ ...(input.vm ? { vm: input.vm } : {}), ...(input.site ? { site: input.site } : {}) })
          .map(backupToProto),
      });
    }),
    StartBackup: unaryHandler(log, async (req) => jobToProto(await jobs.startBackup(parseRequest(StartBackupInput, req)))),
    StartRestore: unaryHandler(log, async (req) =>
      jobToProto(await jobs.startRestore(parseRequest(StartRestoreInput, req))),
    ),
    StartSync: unaryHandler(log, async (req) => jobToProto(await jobs.startSync(parseRequest(StartSyncInput, req)))),
    StartVerify: unaryHandler(log, async (req) =>
      jobToProto(await jobs.startVerify(parseRequest(StartVerifyInput, req))),
    ),
    StartPrune: unaryHandler(log, async (req) => jobToProto(await jobs.startPrune(parseRequest(StartPruneInput, req)))),
    StartGc: unaryHandler(log, async (req) => jobToProto(await jobs.startGc(parseRequest(StartGcInput, req)))),
    StartSnapshot: unaryHandler(log, async (req) =>
      jobToProto(await jobs.startSnapshot(parseRequest(StartSnapshotInput, req))),
    ),
    LockBackup: unaryHandler(log, async (req) => ({
      jobs: (await jobs.startLock(parseRequest(LockBackupInput, req))).map(jobToProto),
    })),
    WatchJob: serverStreamHandler(log, (req, call) =>
      watchJob(parseRequest(JobIdInput, req).id, call, getJob, changes),
    ),
    ListRepairs: unaryHandler(log, (req) => {
      const input = parseRequest(ListRepairsInput, req);
      const repairs = catalog.listRepairs({
        limit: input.limit,
        ...(input.site !== undefined ? { site: input.site } : {}),
        ...(input.vm !== undefined ? { vm: input.vm } : {}),
        ...(input.since !== undefined ? { since: input.since } : {}),
      });
      return Promise.resolve({ repairs: repairs.map(repairToProto) });
    }),
    ListAlerts: unaryHandler(log, (req) => {
      const input = parseRequest(ListAlertsInput, req);
      return Promise.resolve({ alerts: catalog.listAlerts({ openOnly: !input.all, limit: input.limit }).map(alertToProto) });
    }),
    GetReplicationStatus: unaryHandler(log, () => {
      const report = replication.status();
      return Promise.resolve({ now: report.now, pairs: report.pairs.map(pairStatusToProto) });
    }),
    GetStatus: unaryHandler(log, (req) =>
      Promise.resolve(statusToProto(status.status(parseRequest(GetStatusInput, req).failedWithinMs))),
    ),
    ImportCatalog: unaryHandler(log, async (req) =>
      importReportToProto(await importer.importFrom(parseRequest(ImportCatalogInput, req))),
    ),
    // --- access: API tokens and the audit log ---
    ...createAccessHandlers(access, log),
    // --- RPO watch ---
    ListRpo: unaryHandler(log, (req) => {
      const input = parseRequest(ListRpoInput, req);
      const entries = deps.rpo.entries({
        ...(input.vm !== undefined ? { vm: input.vm } : {}),
        ...(input.site !== undefined ? { site: input.site } : {}),
        breachedOnly: input.breachedOnly,
      });
      return Promise.resolve({ now: new Date().toISOString(), entries: entries.map(rpoEntryToProto) });
    }),
    // --- dispatch: cancel ---
    // Inside the promise: a refusal (not found, already finished) becomes the rejection unaryHandler maps to a status.
    CancelJob: unaryHandler(log, (req) => Promise.resolve().then(() => jobToProto(deps.canceller.cancel(parseRequest(JobIdInput, req).id)))),
    // --- policies ---
    ...createPolicyHandlers(deps.policies, log),
  };
}

/**
 * Sends the job, then every change of it, until it is finished or the client goes away.
 * Subscribes before the first read, so no change between the read and the subscription is lost.
 */
async function watchJob(
  id: string,
  call: grpc.ServerWritableStream<unknown, Job>,
  getJob: (id: string) => JobRow,
  changes: JobChangeFeed,
): Promise<void> {
  let wake: (() => void) | undefined;
  let dirty = true;
  const unsubscribe = changes.subscribe(id, () => {
    dirty = true;
    wake?.();
  });
  const onGone = () => wake?.();
  call.on('cancelled', onGone);
  call.on('close', onGone);
  try {
    let lastSent = '';
    for (;;) {
      if (call.cancelled || call.destroyed) return;
      if (dirty) {
        dirty = false;
        const job = getJob(id);
        const message = jobToProto(job);
        const text = JSON.stringify(message);
        if (text !== lastSent) {
          lastSent = text;
          if (!call.write(message)) await new Promise<void>((resolve) => {
            wake = resolve;
            call.once('drain', resolve);
          });
        }
        if (isFinishedJobState(job.state)) return;
      }
      if (!dirty) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    }
  } finally {
    unsubscribe();
    call.off('cancelled', onGone);
    call.off('close', onGone);
  }
}
