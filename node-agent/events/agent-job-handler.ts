/**
 * The agent's JobHandler: decodes a job from the worker loop into a call of the backup or
 * restore domain, with a BlockStore opened on the job's storage and closed afterwards, the
 * agent's datastore key (or none), and a chunk processor per job.
 */
import type { Clock } from '../../shared/clock.js';
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { PreconditionError } from '../../shared/errors.js';
import type { JobResult } from '../../shared/messages/events.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import type { JobContext, JobHandler } from '../../shared/nats/job-worker.js';
import { runBackup } from '../backup/backup-job.js';
import type { HypervisorDriver } from '../hypervisors/hypervisor.js';
import type { BlockStore } from '../ports/block-store.js';
import type { OpenChunkProcessor } from '../ports/chunk-processor.js';
import type { DiskTargets } from '../ports/disk-target.js';
import { runRestore } from '../restore/restore-job.js';

export interface AgentJobHandlerDeps {
  readonly driver: HypervisorDriver;
  readonly clock: Clock;
  /** The datastore key from the agent's config, or null. */
  readonly keys: DatastoreKeys | null;
  /** Opens the hashing/encoding workers of one job. */
  readonly openProcessor: OpenChunkProcessor;
  /** Creates the images a restore writes (raw, qcow2). */
  readonly diskTargets: DiskTargets;
  /** A BlockStore on a storage's gRPC address; closed when the job ends. */
  openBlockStore(address: string): BlockStore;
}

export function createAgentJobHandler(deps: AgentJobHandlerDeps): JobHandler {
  return async (job: JobMessage, ctx: JobContext): Promise<JobResult> => {
    const common = {
      log: ctx.log,
      clock: deps.clock,
      signal: ctx.signal,
      keys: deps.keys,
      openProcessor: deps.openProcessor,
      progress: (phase: string, done: number, total: number) => ctx.progress(phase, done, total),
    };
    switch (job.kind) {
      case 'backup': {
        const store = deps.openBlockStore(job.params.storage.address);
        try {
          const result = await runBackup(
            { jobId: job.jobId, attempt: job.attempt, vm: job.params.vm, mode: job.params.mode },
            { ...common, driver: deps.driver, store },
          );
          return { kind: 'backup', result };
        } finally {
          store.close();
        }
      }
      case 'restore': {
        const store = deps.openBlockStore(job.params.storage.address);
        try {
          const { backupId, vm, targetDir, verifyOnly, format } = job.params;
          const result = await runRestore({ backupId, vm, targetDir, verifyOnly, format }, { ...common, store, diskTargets: deps.diskTargets });
          return { kind: 'restore', result };
        } finally {
          store.close();
        }
      }
      case 'sync':
      case 'verify':
      case 'prune':
      case 'gc':
      case 'lock':
        throw new PreconditionError(`an agent does not run ${job.kind} jobs`, { kind: job.kind });
    }
  };
}
