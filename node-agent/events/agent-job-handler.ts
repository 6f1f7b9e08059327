/**
 * The agent's JobHandler: decodes a job from the worker loop into a call of the backup or
 * restore domain, with a BlockStore opened on the job's storage and closed afterwards.
 */
import type { Clock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import type { JobResult } from '../../shared/messages/events.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import type { JobContext, JobHandler } from '../../shared/nats/job-worker.js';
import { runBackup } from '../backup/backup-job.js';
import type { HypervisorDriver } from '../hypervisors/hypervisor.js';
import type { BlockStore } from '../ports/block-store.js';
import { runRestore } from '../restore/restore-job.js';

export interface AgentJobHandlerDeps {
  readonly driver: HypervisorDriver;
  readonly clock: Clock;
  /** A BlockStore on a storage's gRPC address; closed when the job ends. */
  openBlockStore(address: string): BlockStore;
}

export function createAgentJobHandler(deps: AgentJobHandlerDeps): JobHandler {
  return async (job: JobMessage, ctx: JobContext): Promise<JobResult> => {
    switch (job.kind) {
      case 'backup': {
        const store = deps.openBlockStore(job.params.storage.address);
        try {
          const result = await runBackup(
            { jobId: job.jobId, attempt: job.attempt, vm: job.params.vm, mode: job.params.mode },
            { driver: deps.driver, store, log: ctx.log, clock: deps.clock, signal: ctx.signal, progress: (phase, done, total) => ctx.progress(phase, done, total) },
          );
          return { kind: 'backup', result };
        } finally {
          store.close();
        }
      }
      case 'restore': {
        const store = deps.openBlockStore(job.params.storage.address);
        try {
          const result = await runRestore(
            { backupId: job.params.backupId, vm: job.params.vm, targetDir: job.params.targetDir },
            { store, log: ctx.log, clock: deps.clock, signal: ctx.signal, progress: (phase, done, total) => ctx.progress(phase, done, total) },
          );
          return { kind: 'restore', result };
        } finally {
          store.close();
        }
      }
      case 'sync':
      case 'verify':
        throw new PreconditionError(`an agent does not run ${job.kind} jobs`, { kind: job.kind });
    }
  };
}
