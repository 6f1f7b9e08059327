/**
 * The agent's JobHandler: decodes a job from the worker loop into a call of the backup or
 * restore domain, with a BlockStore opened on the job's storage and closed afterwards, the
 * agent's datastore key (or none), and a chunk processor per job; a snapshot job goes to the
 * driver's snapshots (no storage involved).
 */
import type { Clock } from '../../shared/clock.js';
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { PreconditionError } from '../../shared/errors.js';
import { Ulid } from '../../shared/ids.js';
import type { JobResult } from '../../shared/messages/events.js';
import type { JobMessage, SnapshotJobParams } from '../../shared/messages/jobs.js';
import type { SnapshotResult } from '../../shared/messages/results.js';
import type { JobContext, JobHandler } from '../../shared/nats/job-worker.js';
import { runBackup } from '../backup/backup-job.js';
import type { HypervisorDriver, SnapshotOutcome } from '../hypervisors/hypervisor.js';
import type { BlockStore } from '../ports/block-store.js';
import type { OpenChunkProcessor } from '../ports/chunk-processor.js';
import type { DiskTargets } from '../ports/disk-target.js';
import type { VmLauncher } from '../ports/vm-launcher.js';
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
  /** Starts VMs on restored disks (restore with start); absent: such restores are refused. */
  readonly vmLauncher?: VmLauncher;
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
            { jobId: job.jobId, attempt: job.attempt, vm: job.params.vm, mode: job.params.mode, consistency: job.params.consistency },
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
          const { backupId, vm, targetDir, verifyOnly, format, start } = job.params;
          const result = await runRestore(
            { backupId, vm, targetDir, verifyOnly, format, start },
            { ...common, store, diskTargets: deps.diskTargets, ...(deps.vmLauncher ? { vmLauncher: deps.vmLauncher } : {}) },
          );
          return { kind: 'restore', result };
        } finally {
          store.close();
        }
      }
      case 'snapshot':
        return { kind: 'snapshot', result: await runSnapshot(deps, job.jobId, job.params) };
      case 'sync':
      case 'verify':
      case 'prune':
      case 'gc':
      case 'lock':
        throw new PreconditionError(`an agent does not run ${job.kind} jobs`, { kind: job.kind });
    }
  };
}

/**
 * Whether this agent can run a job of its site's shared queue: an agent job of a VM it reports.
 * The names are kept from the last look at the inventory; a VM not among them makes it look
 * again (the VM may be new) before the answer is no.
 */
export function createSharedJobFilter(inventory: () => Promise<readonly string[]>): (job: JobMessage) => Promise<boolean> {
  let known: ReadonlySet<string> | undefined;
  return async (job) => {
    if (job.kind !== 'backup' && job.kind !== 'restore' && job.kind !== 'snapshot') return false;
    const vm = job.params.vm;
    if (known?.has(vm) === true) return true;
    known = new Set(await inventory());
    return known.has(vm);
  };
}

async function runSnapshot(deps: AgentJobHandlerDeps, jobId: string, params: SnapshotJobParams): Promise<SnapshotResult> {
  const snapshots = deps.driver.snapshots;
  if (snapshots === undefined) {
    throw new PreconditionError(`the ${deps.driver.kind} driver does not manage snapshots`, { driver: deps.driver.kind, vm: params.vm });
  }
  const startedMs = deps.clock.nowMs();
  const { vm, op, name, keep } = params;
  let outcome: SnapshotOutcome;
  switch (op) {
    case 'create': {
      // An unnamed snapshot is named after the job (a ULID), so a redelivered job finds the one it made.
      const naming = name !== undefined ? { name } : Ulid.safeParse(jobId).success ? { id: jobId } : {};
      outcome = await snapshots.create(vm, { ...naming, ...(keep !== undefined ? { keep } : {}) });
      break;
    }
    case 'list':
      outcome = await snapshots.list(vm);
      break;
    case 'remove':
    case 'revert':
      if (name === undefined) throw new PreconditionError(`a snapshot ${op} needs a name`, { vm });
      outcome = op === 'remove' ? await snapshots.remove(vm, name) : await snapshots.revert(vm, name);
      break;
  }
  return {
    vm,
    op,
    created: outcome.created,
    removed: [...outcome.removed],
    reverted: outcome.reverted,
    vmRunning: outcome.vmRunning,
    snapshots: [...outcome.snapshots],
    incomplete: [...outcome.incomplete],
    note: outcome.note,
    durationMs: deps.clock.nowMs() - startedMs,
  };
}
