/**
 * Jobs: the controller's half of the job protocol (DESIGN.md §2).
 * - Creating a job resolves who runs it and which storages it talks to (backup, restore and
 *   snapshot management run at the VM's agent, sync at the replica's storage (pull) or the
 *   primary's (push), verify, prune and gc at one site's storage,
 *   a lock at the storage of every site holding a copy), inserts the job row, then publishes it
 *   to the worker's queue and marks it published.
 * - Storage decides what prune removes and what GC sweeps; the controller only chooses where
 *   they run and with which rules, and records what they report (event-applier).
 * - A crash between insert and publish leaves a queued, unpublished row: `publishPending` (run
 *   at start and periodically) publishes it again; the queue dedupes on (jobId, attempt).
 * Errors name what is missing: an unknown VM or backup, no online storage at a site.
 */
import type { Clock } from '../../shared/clock.js';
import { NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import {
  JobMessage,
  SnapshotJobParams,
  type BackupMode,
  type JobKind,
  type RequestedConsistency,
  type RetentionRules,
  type SnapshotOp,
  type StorageRef,
} from '../../shared/messages/jobs.js';
import { SHARED_WORKER } from '../../shared/messages/subjects.js';
import type { BackupRow, Catalog, JobRow, VmRow, WorkerRow } from '../catalog/catalog.js';
import type { JobChangeFeed } from './job-change-feed.js';
import type { JobPublisher } from './job-publisher.js';

/** A replication pair (config.replication): the replica `to` keeps copies of `from`'s backups. */
export interface ReplicationPair {
  readonly from: string;
  readonly to: string;
  /** pull (default): the sync runs at the replica; push: at the primary. */
  readonly mode?: SyncMode | undefined;
  /** A sync every this many ms (the replication scheduler); absent: on demand only. */
  readonly intervalMs?: number | undefined;
  readonly rateBytesPerSecond?: number | undefined;
  readonly concurrency?: number | undefined;
}

export type SyncMode = 'pull' | 'push';

export interface JobServiceOptions {
  readonly catalog: Catalog;
  readonly publisher: JobPublisher;
  readonly changes: JobChangeFeed;
  readonly clock: Clock;
  readonly log: Logger;
  /** A new unique, time-ordered job id. */
  readonly newId: () => string;
  /** Default sync pairs (config.replication). */
  readonly replication: readonly ReplicationPair[];
  /** Verify skips backups verified within this age unless a request says otherwise (config.verifySkipWithinMs). */
  readonly verifySkipWithinMs: number;
  /** GC's grace period unless a request says otherwise (config.gcGraceMs). */
  readonly gcGraceMs: number;
  /** Chooses which ready jobs are published now (controller/policies/dispatch-gate.ts); absent: all of them. */
  readonly gate?: JobDispatchGate | undefined;
}

/**
 * The dispatch gate as the publish path sees it: given the ready unpublished jobs and the jobs
 * holding slots (published, not finished), the ones to publish now, in order.
 */
export interface JobDispatchGate {
  choose(ready: readonly JobRow[], inFlight: readonly JobRow[]): JobRow[];
}

/**
 * How a job is dispatched (controller/policies/). Every field optional: a job made by hand gets
 * MANUAL_JOB_PRIORITY, one attempt, and is due and publishable when created.
 */
export interface JobScheduling {
  /** The policy that makes the job. */
  readonly policy?: string | undefined;
  /** 0-100, higher first when jobs wait for a slot. */
  readonly priority?: number | undefined;
  /** The schedule time of a policy job (sent in the job message: dispatch latency runs from it). */
  readonly dueAt?: string | undefined;
  /** Not published before this time (a start window's opening). */
  readonly notBefore?: string | undefined;
  /** Skipped when still unpublished at this time (a start window's end). */
  readonly startBy?: string | undefined;
  /** Attempts allowed in all (retries of retryable failures); default 1. */
  readonly maxAttempts?: number | undefined;
}

/** The priority of a job an operator starts (bulwark backup, restore, ...): above a policy's default 50. */
export const MANUAL_JOB_PRIORITY = 70;

/** Jobs of a batch built between two turns of the event loop. */
const BUILD_SLICE = 25;

/** Job publishes awaiting their JetStream ack at once in a publish pass. */
const PUBLISH_CONCURRENCY = 256;

/** The retention rules, in the order operators read them. */
export const retentionRuleNames = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

/**
 * What a verify-only restore sends as its target directory: the job schema wants an absolute
 * path, and a verify-only restore writes nothing there.
 */
const VERIFY_ONLY_TARGET_DIR = '/';

export interface BackupRequest extends JobScheduling {
  readonly vm: string;
  readonly mode: BackupMode;
  /** What the policy asks of the backup's consistency (sent to the agent); absent: the VM's agent config decides. */
  readonly consistency?: RequestedConsistency | undefined;
  /** The site whose storage receives the backup; default: the VM's own site. */
  readonly storageSite?: string | undefined;
}

export interface RestoreRequest {
  readonly backupId: string;
  /** Absolute directory on the agent's host; unused (and optional) with verifyOnly. */
  readonly targetDir?: string | undefined;
  /** Deep verify: the agent reads and checks everything with its key and writes nothing. */
  readonly verifyOnly?: boolean | undefined;
  /** Site whose storage serves the data; default: the VM's site when it holds a copy, else the first copy's. */
  readonly site?: string | undefined;
  /** Agent that writes the disks; default: the VM's agent. */
  readonly worker?: string | undefined;
  /** Image format of the restored disks; default raw. */
  readonly format?: 'raw' | 'qcow2' | undefined;
  /** Start the VM on the restored disks. */
  readonly start?: boolean | undefined;
}

export interface SyncRequest extends JobScheduling {
  readonly fromSite?: string | undefined;
  readonly toSite?: string | undefined;
  /** Default: the pair's configured mode, else pull. */
  readonly mode?: SyncMode | undefined;
  /** Default: the pair's configured limit, else unlimited. */
  readonly rateBytesPerSecond?: number | undefined;
  /** Default: the pair's configured concurrency, else the storage's. */
  readonly concurrency?: number | undefined;
}

export interface VerifyRequest {
  /** Default: the site of the named backup's copy, else the primary site. */
  readonly site?: string | undefined;
  readonly repair: boolean;
  /** One backup, or every backup of one VM (not both); neither: the whole datastore. */
  readonly backupId?: string | undefined;
  readonly vm?: string | undefined;
  /** Check even backups verified within the skip age. */
  readonly force?: boolean | undefined;
  /** Default: verifySkipWithinMs. */
  readonly skipVerifiedWithinMs?: number | undefined;
}

export interface PruneRequest extends JobScheduling {
  readonly site?: string | undefined;
  readonly vm?: string | undefined;
  readonly keep: RetentionRules;
  readonly dryRun: boolean;
}

export interface GcRequest {
  readonly site?: string | undefined;
  /** Default: gcGraceMs. */
  readonly graceMs?: number | undefined;
  readonly dryRun: boolean;
}

export interface LockRequest {
  readonly backupId: string;
  /** ISO-8601 UTC with milliseconds (Date#toISOString), in the future. */
  readonly until: string;
  /** Default: every site holding a copy. */
  readonly site?: string | undefined;
}

export interface SnapshotRequest extends JobScheduling {
  readonly vm: string;
  readonly op: SnapshotOp;
  /** create: absent for `bulwark-<ULID>`; remove and revert: required. */
  readonly name?: string | undefined;
  /** create only: keep the N newest `bulwark-<ULID>` snapshots afterwards. */
  readonly keep?: number | undefined;
}

/** One job of JobService.startBatch: a backup, or a snapshot create (keeping the `keep` newest). */
export type BatchRequest =
  | (BackupRequest & { readonly kind: 'backup' })
  | (JobScheduling & { readonly kind: 'snapshot'; readonly vm: string; readonly keep?: number | undefined });

interface Target {
  readonly site: string;
  readonly worker: string;
  /** On the site's shared queue (`worker` is then SHARED_WORKER until an agent takes the job). */
  readonly shared?: boolean;
}

export class JobService {
  private pending: Promise<number> | undefined;
  private nextPending: Promise<number> | undefined;
  /** Jobs handed to JetStream and not yet marked published (or failed to publish). */
  private readonly sending = new Set<string>();

  constructor(private readonly opts: JobServiceOptions) {}

  /** A backup of a VM, run by its agent into the storage of the agent's site. */
  async startBackup(req: BackupRequest): Promise<JobRow> {
    const vm = this.opts.catalog.getVm(req.vm);
    if (!vm) throw new NotFoundError('VM', req.vm);
    const storage = this.onlineStorage(req.storageSite ?? vm.site);
    return this.create(
      'backup',
      this.agentOf(vm),
      vm.name,
      {
        vm: vm.name,
        mode: req.mode,
        storage,
        ...(req.consistency !== undefined ? { consistency: req.consistency } : {}),
      },
      req,
    );
  }

  /**
   * A restore of a backup into a directory, run by the VM's agent (or a chosen one); with
   * verifyOnly, the key holder's deep verify of that copy, which writes nothing.
   */
  async startRestore(req: RestoreRequest): Promise<JobRow> {
    const { catalog } = this.opts;
    const verifyOnly = req.verifyOnly === true;
    const targetDir = req.targetDir ?? (verifyOnly ? VERIFY_ONLY_TARGET_DIR : undefined);
    if (targetDir === undefined) throw new ValidationError('target_dir', 'must not be empty');
    const copies = this.presentCopies(req.backupId);
    const first = copies[0];
    if (!first) throw new NotFoundError('backup', req.backupId);
    const vm = catalog.getVm(first.vm);
    let target: Target;
    if (req.worker !== undefined) {
      target = this.agentNamed(req.worker);
    } else if (vm) {
      target = this.agentOf(vm);
    } else {
      throw new PreconditionError(`VM ${first.vm} of backup ${req.backupId} is not in the inventory: choose an agent with --worker`, {
        vm: first.vm,
      });
    }
    const site = this.copySite(req.backupId, copies, req.site ?? (vm && copies.some((c) => c.site === vm.site) ? vm.site : first.site));
    const storage = this.onlineStorage(site);
    return this.create('restore', target, first.vm, {
      backupId: req.backupId,
      vm: first.vm,
      targetDir,
      storage,
      verifyOnly,
      format: req.format ?? 'raw',
      start: req.start === true,
    });
  }

  /**
   * Snapshot management of a VM's disks, run by its agent (the hypervisor keeps the snapshots;
   * no storage is involved). Whether the VM's hypervisor can, and whether a revert may run now
   * (qemu: only with the VM stopped), is the agent's to say.
   */
  async startSnapshot(req: SnapshotRequest): Promise<JobRow> {
    const vm = this.opts.catalog.getVm(req.vm);
    if (!vm) throw new NotFoundError('VM', req.vm);
    const parsed = SnapshotJobParams.safeParse({
      vm: vm.name,
      op: req.op,
      ...(req.name !== undefined ? { name: req.name } : {}),
      ...(req.keep !== undefined ? { keep: req.keep } : {}),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(issue?.path.join('.') ?? '', issue?.message ?? 'invalid');
    }
    return this.create('snapshot', this.agentOf(vm), vm.name, parsed.data, req);
  }

  // --- scale: batch of policy jobs ---
  /**
   * Many backups and snapshot jobs at once (a policy's due time): every row is built and checked,
   * then all are inserted in one catalog transaction (one commit, not one per job), then one
   * publish pass sends them. Storage lookups are made once per site. A request that fails (an
   * unknown VM, no online storage) gets its error in its place; the others are still created.
   */
  async startBatch(requests: readonly BatchRequest[]): Promise<(JobRow | Error)[]> {
    const { catalog } = this.opts;
    const storageBySite = new Map<string, StorageRef | Error>();
    const storageOf = (site: string): StorageRef => {
      let ref = storageBySite.get(site);
      if (ref === undefined) {
        try {
          ref = this.onlineStorage(site);
        } catch (err) {
          ref = err instanceof Error ? err : new Error(String(err));
        }
        storageBySite.set(site, ref);
      }
      if (ref instanceof Error) throw ref;
      return ref;
    };
    const build = (req: BatchRequest): JobRow | Error => {
      try {
        const vm = catalog.getVm(req.vm);
        if (!vm) throw new NotFoundError('VM', req.vm);
        if (req.kind === 'snapshot') {
          const params = SnapshotJobParams.parse({ vm: vm.name, op: 'create', ...(req.keep !== undefined ? { keep: req.keep } : {}) });
          return this.jobRow('snapshot', this.agentOf(vm), vm.name, params, req);
        }
        const params = { vm: vm.name, mode: req.mode, storage: storageOf(req.storageSite ?? vm.site), ...(req.consistency !== undefined ? { consistency: req.consistency } : {}) };
        return this.jobRow('backup', this.agentOf(vm), vm.name, params, req);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    };
    // Built a slice at a time, letting the event loop run between slices: held jobs due meanwhile
    // (a spread policy's) are published on time rather than after the whole batch.
    const built: (JobRow | Error)[] = [];
    for (let i = 0; i < requests.length; i += BUILD_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      built.push(...requests.slice(i, i + BUILD_SLICE).map(build));
    }
    const rows = built.filter((r): r is JobRow => !(r instanceof Error));
    catalog.transaction(() => {
      for (const job of rows) catalog.insertJob(job);
    });
    if (rows.length > 0) this.opts.log.info({ count: rows.length, policy: rows[0]?.policy, kind: rows[0]?.kind }, 'jobs created');
    await this.publishPending();
    return built;
  }

  /**
   * A sync of every backup the storage of `toSite` lacks from the storage of `fromSite`: pulled
   * by the replica (the job runs there), or pushed by the primary. Mode, rate and concurrency
   * come from the request, else from the configured pair.
   */
  async startSync(req: SyncRequest): Promise<JobRow> {
    const { from, to } = this.syncPair(req);
    const configured = this.opts.replication.find((p) => p.from === from && p.to === to);
    const mode = req.mode ?? configured?.mode ?? 'pull';
    const rate = req.rateBytesPerSecond ?? configured?.rateBytesPerSecond;
    const concurrency = req.concurrency ?? configured?.concurrency;
    const transfer = {
      ...(rate !== undefined ? { rateBytesPerSecond: rate } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
    };
    if (mode === 'push') {
      const primary = this.onlineStorageWorker(from);
      const target = this.onlineStorage(to);
      return this.create('sync', { site: from, worker: primary.id }, null, { mode: 'push', target, ...transfer }, req);
    }
    const source = this.onlineStorage(from);
    const replica = this.onlineStorageWorker(to);
    return this.create('sync', { site: to, worker: replica.id }, null, { mode: 'pull', source, ...transfer }, req);
  }

  /**
   * A verify at one site's storage, of one backup, one VM or the whole datastore; the storages
   * of every other site are its repair peers.
   */
  async startVerify(req: VerifyRequest): Promise<JobRow> {
    if (req.backupId !== undefined && req.vm !== undefined) {
      throw new ValidationError('vm', 'give backup_id or vm, not both');
    }
    let site: string;
    let vm: string | null = null;
    if (req.backupId !== undefined) {
      const copies = this.presentCopies(req.backupId);
      const first = copies[0];
      if (!first) throw new NotFoundError('backup', req.backupId);
      const primary = this.defaultSiteOrUndefined();
      site = this.copySite(req.backupId, copies, req.site ?? (copies.some((c) => c.site === primary) ? primary : first.site));
      vm = first.vm;
    } else {
      if (req.vm !== undefined) vm = this.knownVm(req.vm);
      site = req.site ?? this.defaultSite('verify');
    }
    const storage = this.onlineStorageWorker(site);
    const peers: StorageRef[] = this.storages()
      .filter((w) => w.site !== site && w.state === 'online' && w.address !== null)
      .filter((w, i, all) => all.findIndex((o) => o.site === w.site) === i)
      .map((w) => ({ site: w.site, address: w.address ?? '' }));
    return this.create('verify', { site, worker: storage.id }, vm, {
      repair: req.repair,
      peers,
      ...(req.backupId !== undefined ? { backupId: req.backupId } : {}),
      ...(req.vm !== undefined ? { vm: req.vm } : {}),
      skipVerifiedWithinMs: req.skipVerifiedWithinMs ?? this.opts.verifySkipWithinMs,
      force: req.force === true,
    });
  }

  /** A prune at one site's storage: it removes the backups no retention rule keeps (never a locked one). */
  async startPrune(req: PruneRequest): Promise<JobRow> {
    if (!retentionRuleNames.some((rule) => req.keep[rule] !== undefined)) {
      throw new ValidationError(
        'keep',
        `give at least one retention rule (${retentionRuleNames.map((r) => `keep_${r}`).join(', ')}): without one, prune would remove every backup`,
      );
    }
    const vm = req.vm === undefined ? null : this.knownVm(req.vm);
    const site = req.site ?? this.defaultSite('prune');
    const storage = this.onlineStorageWorker(site);
    return this.create(
      'prune',
      { site, worker: storage.id },
      vm,
      {
        ...(vm !== null ? { vm } : {}),
        keep: req.keep,
        dryRun: req.dryRun,
      },
      req,
    );
  }

  /** A garbage collection at one site's storage. */
  async startGc(req: GcRequest): Promise<JobRow> {
    const site = req.site ?? this.defaultSite('collect garbage at');
    const storage = this.onlineStorageWorker(site);
    return this.create('gc', { site, worker: storage.id }, null, {
      graceMs: req.graceMs ?? this.opts.gcGraceMs,
      dryRun: req.dryRun,
    });
  }

  /**
   * Locks a backup until a time: one lock job per site holding a copy (or the one site asked
   * for). Every site is checked before any job is created, so a refusal creates none. A lock
   * is only ever extended: a request ending before a recorded lock is refused.
   */
  async startLock(req: LockRequest): Promise<JobRow[]> {
    const now = this.opts.clock.nowIso();
    if (req.until <= now) throw new ValidationError('until', `must be in the future (now: ${now})`);
    const copies = this.presentCopies(req.backupId);
    const first = copies[0];
    if (!first) throw new NotFoundError('backup', req.backupId);
    const onlySite = req.site === undefined ? undefined : this.copySite(req.backupId, copies, req.site);
    const locked = onlySite === undefined ? copies : copies.filter((c) => c.site === onlySite);
    for (const copy of locked) {
      if (copy.lockedUntil !== null && copy.lockedUntil > req.until) {
        throw new PreconditionError(
          `backup ${req.backupId} is locked at site ${copy.site} until ${copy.lockedUntil}: a lock can only be extended`,
          { backupId: req.backupId, site: copy.site, lockedUntil: copy.lockedUntil },
        );
      }
    }
    const targets = locked.map((c) => ({ site: c.site, worker: this.onlineStorageWorker(c.site).id }));
    const jobs: JobRow[] = [];
    for (const target of targets) {
      jobs.push(await this.create('lock', target, first.vm, { backupId: req.backupId, until: req.until }));
    }
    return jobs;
  }

  /**
   * A job whose message ran out of deliveries (its consumer's max_deliver) without a result: each
   * worker that took it stopped or hung before reporting, so no worker will get it again. Recorded
   * failed with a retryable error (the retry rule may queue its next attempt, republished under a
   * new msgID); false when the job is unknown, finished, or at another attempt.
   */
  failUndelivered(jobId: string, attempt: number, deliveries: number): boolean {
    const { catalog, clock, changes, log } = this.opts;
    const job = catalog.getJob(jobId);
    if (!job || job.attempt !== attempt || (job.state !== 'queued' && job.state !== 'running')) return false;
    const error =
      `UNAVAILABLE: attempt ${attempt} was delivered ${deliveries} times (the queue's limit) and every worker that took it ` +
      `stopped or hung before reporting a result; see the logs of ${job.worker === SHARED_WORKER ? `the agents of site ${job.site}` : `worker ${job.worker} at site ${job.site}`}`;
    catalog.updateJob(jobId, { state: 'failed', finishedAt: clock.nowIso(), error });
    changes.notify(jobId);
    log.warn({ jobId, attempt, deliveries, site: job.site, worker: job.worker }, 'job ran out of deliveries without a result; recorded failed');
    return true;
  }

  /**
   * Whether a publish pass has the job in hand: sent to JetStream, its ack not yet recorded. Such
   * a job must not be skipped for its window's end: it is reaching its worker.
   */
  isPublishing(jobId: string): boolean {
    return this.sending.has(jobId);
  }

  /**
   * Publishes the queued jobs not yet confirmed published that are ready (past their notBefore)
   * and that the dispatch gate lets through; returns how many it published. One pass at a time:
   * a call during a pass gets the next one (shared by every such call), which sees every job
   * inserted before it starts.
   */
  publishPending(): Promise<number> {
    if (this.pending === undefined) {
      this.pending = this.publishAllPending().finally(() => {
        this.pending = undefined;
      });
      return this.pending;
    }
    this.nextPending ??= this.pending.then(
      () => this.startNextPass(),
      () => this.startNextPass(),
    );
    return this.nextPending;
  }

  private startNextPass(): Promise<number> {
    this.nextPending = undefined;
    return this.publishPending();
  }

  private async publishAllPending(): Promise<number> {
    // Let the jobs created in the same turn (a policy's due run) be inserted before the pass reads.
    await Promise.resolve();
    const { catalog, clock, gate } = this.opts;
    const now = clock.nowIso();
    const ready = catalog.listUnpublishedJobs({ readyAt: now });
    // Most passes (one per finished job) find nothing to send: skip reading the jobs in flight.
    if (ready.length === 0) return 0;
    const chosen = gate ? gate.choose(ready, catalog.listInFlightJobs()) : ready;
    // --- scale: concurrent publishes ---
    // Up to PUBLISH_CONCURRENCY publishes await their JetStream acks at once, started in the gate's
    // order: one at a time capped dispatch at one job per publish round trip (about 65 jobs/s in
    // the scale bench, with every job's wait growing behind it). The acks that arrive together are
    // recorded together: one catalog transaction marks them published.
    const acked = new PublishedMarks(this.opts, (id) => this.sending.delete(id));
    let next = 0;
    const lane = async () => {
      // A lane's first job goes out in the turn the pass read it: nothing can have changed it.
      for (let job = chosen[next++], first = true; job !== undefined; job = chosen[next++], first = false) {
        // Skipped or cancelled while an earlier job of this pass was being published.
        if (!first) {
          const current = catalog.getJob(job.id);
          if (current?.state !== 'queued' || current.publishedAt !== null || current.attempt !== job.attempt) continue;
        }
        this.sending.add(job.id);
        if (await this.publish(job)) acked.add(job.id);
        else this.sending.delete(job.id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, chosen.length) }, lane));
    acked.flush();
    if (acked.count > 0) this.opts.log.debug({ count: acked.count, held: ready.length - chosen.length }, 'pending jobs published');
    return acked.count;
  }

  private async create(kind: JobKind, target: Target, vm: string | null, params: unknown, scheduling: JobScheduling = {}): Promise<JobRow> {
    const { catalog } = this.opts;
    const job = this.jobRow(kind, target, vm, params, scheduling);
    catalog.insertJob(job);
    this.opts.log.info({ jobId: job.id, kind, site: target.site, worker: target.worker, vm, policy: job.policy }, 'job created');
    // Through the gate (and notBefore): the job goes out now or when a slot frees.
    await this.publishPending();
    return catalog.getJob(job.id) ?? job;
  }

  /** A new queued row, validated as the message the worker gets: a job the worker would reject never enters the catalog. */
  private jobRow(kind: JobKind, target: Target, vm: string | null, params: unknown, scheduling: JobScheduling): JobRow {
    const job: JobRow = {
      id: this.opts.newId(),
      kind,
      state: 'queued',
      site: target.site,
      worker: target.worker,
      shared: target.shared === true,
      vm,
      attempt: 1,
      params,
      result: null,
      error: null,
      progress: null,
      createdAt: this.opts.clock.nowIso(),
      publishedAt: null,
      startedAt: null,
      finishedAt: null,
      policy: scheduling.policy ?? null,
      priority: scheduling.priority ?? MANUAL_JOB_PRIORITY,
      dueAt: scheduling.dueAt ?? null,
      notBefore: scheduling.notBefore ?? null,
      startBy: scheduling.startBy ?? null,
      maxAttempts: scheduling.maxAttempts ?? 1,
    };
    // The row keeps the params as the worker gets them (defaults filled in): publishing sends them unchanged.
    return { ...job, params: JobMessage.parse(wireMessage(job)).params };
  }

  /**
   * Publishes one job; true once the queue has stored it (the caller marks it published), false
   * on a failure, which leaves it unpublished for the next `publishPending`.
   */
  private async publish(job: JobRow): Promise<boolean> {
    try {
      // A shared job goes back to the shared queue whoever took an earlier attempt. The row was
      // checked as this message when it was made (jobRow); the worker checks it again on receipt.
      await this.opts.publisher.publish(job.site, job.shared === true ? SHARED_WORKER : job.worker, wireMessage(job) as JobMessage);
      return true;
    } catch (err) {
      this.opts.log.warn({ err, jobId: job.id }, 'job publish failed; will retry');
      return false;
    }
  }

  /**
   * Who runs a VM's agent job: the site's shared queue when two or more agents of its site
   * report the VM (one hypervisor several agents reach, disks on shared storage), else its agent.
   */
  private agentOf(vm: VmRow): Target {
    const reporters = this.opts.catalog.listVmWorkers(vm.name).filter((r) => r.site === vm.site);
    const [only, other] = reporters;
    if (other !== undefined) return { site: vm.site, worker: SHARED_WORKER, shared: true };
    return { site: vm.site, worker: only?.worker ?? vm.worker };
  }

  private presentCopies(backupId: string): BackupRow[] {
    return this.opts.catalog.getBackupCopies(backupId);
  }

  /** `site` when it holds a copy of the backup; otherwise a PreconditionError naming where the copies are. */
  private copySite(backupId: string, copies: readonly BackupRow[], site: string | undefined): string {
    const chosen = site ?? copies[0]?.site;
    if (chosen === undefined) throw new NotFoundError('backup', backupId);
    if (!copies.some((c) => c.site === chosen)) {
      throw new PreconditionError(
        `backup ${backupId} has no copy at site ${chosen} (copies at: ${copies.map((c) => c.site).join(', ')})`,
        { backupId, site: chosen },
      );
    }
    return chosen;
  }

  /** A VM in the inventory, or one with backups in the catalog (it may have left the inventory). */
  private knownVm(name: string): string {
    if (this.opts.catalog.getVm(name) || this.opts.catalog.listBackups({ vm: name }).length > 0) return name;
    throw new NotFoundError('VM', name);
  }

  private storages(): WorkerRow[] {
    return this.opts.catalog.listWorkers().filter((w) => w.kind === 'storage');
  }

  private onlineStorageWorker(site: string): WorkerRow & { address: string } {
    const atSite = this.storages().filter((w) => w.site === site);
    const online = atSite.find((w): w is WorkerRow & { address: string } => w.state === 'online' && w.address !== null);
    if (online) return online;
    if (atSite.length === 0) {
      const known = [...new Set(this.storages().map((w) => w.site))];
      throw new PreconditionError(
        `no storage at site ${site} (sites with storages: ${known.length ? known.join(', ') : 'none'})`,
        { site },
      );
    }
    throw new PreconditionError(`no online storage at site ${site}`, { site });
  }

  private onlineStorage(site: string): StorageRef {
    return { site, address: this.onlineStorageWorker(site).address };
  }

  private agentNamed(worker: string): Target {
    const agents = this.opts.catalog.listWorkers().filter((w) => w.kind === 'agent' && w.id === worker);
    const [agent, other] = agents;
    if (!agent) throw new NotFoundError('agent', worker);
    if (other) throw new PreconditionError(`agent id ${worker} exists at several sites`, { worker });
    return { site: agent.site, worker: agent.id };
  }

  private storageSites(): string[] {
    return [...new Set(this.storages().map((w) => w.site))].sort();
  }

  /** The storage sites that also have agents: where backups are first made. */
  private primarySites(sites: readonly string[]): string[] {
    const agentSites = new Set(this.opts.catalog.listWorkers().filter((w) => w.kind === 'agent').map((w) => w.site));
    return sites.filter((s) => agentSites.has(s));
  }

  private syncPair(req: SyncRequest): ReplicationPair {
    const { fromSite, toSite } = req;
    let pair: ReplicationPair | undefined;
    if (fromSite !== undefined && toSite !== undefined) {
      pair = { from: fromSite, to: toSite };
    } else {
      pair = this.opts.replication.find(
        (p) => (fromSite === undefined || p.from === fromSite) && (toSite === undefined || p.to === toSite),
      );
      const sites = this.storageSites();
      if (!pair && sites.length === 2) {
        const other = (s: string) => sites.find((x) => x !== s);
        if (fromSite !== undefined && sites.includes(fromSite)) pair = { from: fromSite, to: other(fromSite) ?? '' };
        else if (toSite !== undefined && sites.includes(toSite)) pair = { from: other(toSite) ?? '', to: toSite };
        else if (fromSite === undefined && toSite === undefined) {
          const [primary, second] = this.primarySites(sites);
          if (primary !== undefined && second === undefined) pair = { from: primary, to: other(primary) ?? '' };
        }
      }
      if (!pair) {
        throw new PreconditionError(
          `cannot tell which sites to sync: give both from and to sites (sites with storages: ${sites.join(', ') || 'none'}; no replication configured for this pair)`,
          { fromSite, toSite },
        );
      }
    }
    if (pair.from === pair.to) throw new ValidationError('to_site', `must differ from from_site (${pair.from})`);
    return pair;
  }

  /** The primary site: the configured replication source, the only storage site, or the only one with agents. */
  private defaultSiteOrUndefined(): string | undefined {
    const configured = this.opts.replication[0]?.from;
    if (configured !== undefined) return configured;
    const sites = this.storageSites();
    if (sites.length === 1 && sites[0] !== undefined) return sites[0];
    const primaries = this.primarySites(sites);
    if (primaries.length === 1 && primaries[0] !== undefined) return primaries[0];
    return undefined;
  }

  private defaultSite(action: string): string {
    const site = this.defaultSiteOrUndefined();
    if (site !== undefined) return site;
    const sites = this.storageSites();
    throw new PreconditionError(
      `cannot tell which site to ${action}: choose one (sites with storages: ${sites.join(', ') || 'none'})`,
    );
  }
}

/** The message a worker receives for a job row (validated as a JobMessage when the row is made). */
function wireMessage(job: JobRow): unknown {
  return {
    jobId: job.id,
    attempt: job.attempt,
    createdAt: job.createdAt,
    ...(job.dueAt != null ? { dueAt: job.dueAt } : {}),
    kind: job.kind,
    params: job.params,
  };
}

/**
 * The jobs of one publish pass whose JetStream ack has come: marked published in the catalog
 * together, once per turn of the event loop (the acks of one socket read arrive in one turn), and
 * announced on the change feed after the commit.
 */
class PublishedMarks {
  private pending: string[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  count = 0;

  constructor(
    private readonly opts: Pick<JobServiceOptions, 'catalog' | 'clock' | 'changes' | 'log'>,
    /** Called for each job once it is marked published (or failed to be). */
    private readonly marked: (jobId: string) => void,
  ) {}

  add(jobId: string): void {
    this.pending.push(jobId);
    this.count++;
    this.scheduled ??= setImmediate(() => {
      try {
        this.flush();
      } catch (err) {
        // Left unpublished in the catalog: the next pass sends them again, and the queue dedupes.
        this.opts.log.warn({ err }, 'marking published jobs failed; they will be published again');
      }
    });
  }

  /** Marks the acked jobs published now (also at the end of the pass, so its caller sees them marked). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const ids = this.pending;
    if (ids.length === 0) return;
    this.pending = [];
    const at = this.opts.clock.nowIso();
    try {
      this.opts.catalog.transaction(() => {
        for (const id of ids) this.opts.catalog.markJobPublished(id, at);
      });
    } finally {
      for (const id of ids) this.marked(id);
    }
    for (const id of ids) this.opts.changes.notify(id);
  }
}

/**
 * The pair a sync job copies along, from its row: a pull runs at the replica and names its
 * source, a push runs at the primary and names its target. Rows from before push existed carry
 * only `source`. Undefined for a job that is no sync or whose params name no site.
 */
export function syncPairOfJob(job: JobRow): { from: string; to: string; mode: SyncMode } | undefined {
  if (job.kind !== 'sync' || typeof job.params !== 'object' || job.params === null) return undefined;
  const params = job.params as { mode?: unknown; source?: { site?: unknown }; target?: { site?: unknown } };
  if (params.mode === 'push') {
    const to = params.target?.site;
    return typeof to === 'string' ? { from: job.site, to, mode: 'push' } : undefined;
  }
  const from = params.source?.site;
  return typeof from === 'string' ? { from, to: job.site, mode: 'pull' } : undefined;
}
