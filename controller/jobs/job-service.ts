/**
 * Jobs: the controller's half of the job protocol (DESIGN.md §2).
 * - Creating a job resolves who runs it and which storages it talks to (backup and restore run
 *   at the VM's agent, sync at the replica's storage, verify at a storage), inserts the job row,
 *   then publishes it to the worker's queue and marks it published.
 * - A crash between insert and publish leaves a queued, unpublished row: `publishPending` (run
 *   at start and periodically) publishes it again; the queue dedupes on (jobId, attempt).
 * Errors name what is missing: an unknown VM or backup, no online storage at a site.
 */
import type { Clock } from '../../shared/clock.js';
import { NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import {
  JobMessage,
  type BackupMode,
  type JobKind,
  type StorageRef,
} from '../../shared/messages/jobs.js';
import type { Catalog, JobRow, WorkerRow } from '../catalog/catalog.js';
import type { JobChangeFeed } from './job-change-feed.js';
import type { JobPublisher } from './job-publisher.js';

export interface ReplicationPair {
  readonly from: string;
  readonly to: string;
}

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
}

export interface BackupRequest {
  readonly vm: string;
  readonly mode: BackupMode;
}

export interface RestoreRequest {
  readonly backupId: string;
  /** Absolute directory on the agent's host. */
  readonly targetDir: string;
  /** Site whose storage serves the data; default: the VM's site when it holds a copy, else the first copy's. */
  readonly site?: string | undefined;
  /** Agent that writes the disks; default: the VM's agent. */
  readonly worker?: string | undefined;
}

export interface SyncRequest {
  readonly fromSite?: string | undefined;
  readonly toSite?: string | undefined;
}

export interface VerifyRequest {
  readonly site?: string | undefined;
  readonly repair: boolean;
}

interface Target {
  readonly site: string;
  readonly worker: string;
}

export class JobService {
  private pending: Promise<number> | undefined;

  constructor(private readonly opts: JobServiceOptions) {}

  /** A backup of a VM, run by its agent into the storage of the agent's site. */
  async startBackup(req: BackupRequest): Promise<JobRow> {
    const vm = this.opts.catalog.getVm(req.vm);
    if (!vm) throw new NotFoundError('VM', req.vm);
    const storage = this.onlineStorage(vm.site);
    return this.create('backup', { site: vm.site, worker: vm.worker }, vm.name, {
      vm: vm.name,
      mode: req.mode,
      storage,
    });
  }

  /** A restore of a backup into a directory, run by the VM's agent (or a chosen one). */
  async startRestore(req: RestoreRequest): Promise<JobRow> {
    const { catalog } = this.opts;
    const copies = catalog.getBackupCopies(req.backupId);
    const first = copies[0];
    if (!first) throw new NotFoundError('backup', req.backupId);
    const vm = catalog.getVm(first.vm);
    let target: Target;
    if (req.worker !== undefined) {
      target = this.agentNamed(req.worker);
    } else if (vm) {
      target = { site: vm.site, worker: vm.worker };
    } else {
      throw new PreconditionError(`VM ${first.vm} of backup ${req.backupId} is not in the inventory: choose an agent with --worker`, {
        vm: first.vm,
      });
    }
    const site = req.site ?? (vm && copies.some((c) => c.site === vm.site) ? vm.site : first.site);
    if (!copies.some((c) => c.site === site)) {
      throw new PreconditionError(
        `backup ${req.backupId} has no copy at site ${site} (copies at: ${copies.map((c) => c.site).join(', ')})`,
        { backupId: req.backupId, site },
      );
    }
    const storage = this.onlineStorage(site);
    return this.create('restore', target, first.vm, {
      backupId: req.backupId,
      vm: first.vm,
      targetDir: req.targetDir,
      storage,
    });
  }

  /** A sync: the storage of `toSite` pulls every backup it lacks from the storage of `fromSite`. */
  async startSync(req: SyncRequest): Promise<JobRow> {
    const { from, to } = this.syncPair(req);
    const source = this.onlineStorage(from);
    const replica = this.onlineStorageWorker(to);
    return this.create('sync', { site: to, worker: replica.id }, null, { source });
  }

  /** A verify of one site's storage; the storages of every other site are its repair peers. */
  async startVerify(req: VerifyRequest): Promise<JobRow> {
    const site = req.site ?? this.defaultVerifySite();
    const storage = this.onlineStorageWorker(site);
    const peers: StorageRef[] = this.storages()
      .filter((w) => w.site !== site && w.state === 'online' && w.address !== null)
      .filter((w, i, all) => all.findIndex((o) => o.site === w.site) === i)
      .map((w) => ({ site: w.site, address: w.address ?? '' }));
    return this.create('verify', { site, worker: storage.id }, null, { repair: req.repair, peers });
  }

  /** Publishes every queued job not yet confirmed published; returns how many it published. */
  publishPending(): Promise<number> {
    this.pending ??= this.publishAllPending().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async publishAllPending(): Promise<number> {
    let count = 0;
    for (const job of this.opts.catalog.listUnpublishedJobs()) {
      if (await this.publish(job)) count++;
    }
    if (count > 0) this.opts.log.info({ count }, 'pending jobs published');
    return count;
  }

  private async create(kind: JobKind, target: Target, vm: string | null, params: unknown): Promise<JobRow> {
    const { catalog, clock } = this.opts;
    const job: JobRow = {
      id: this.opts.newId(),
      kind,
      state: 'queued',
      site: target.site,
      worker: target.worker,
      vm,
      attempt: 1,
      params,
      result: null,
      error: null,
      progress: null,
      createdAt: clock.nowIso(),
      publishedAt: null,
      startedAt: null,
      finishedAt: null,
    };
    // Validate before anything is stored: a job the worker would reject never enters the catalog.
    this.messageOf(job);
    catalog.insertJob(job);
    this.opts.log.info({ jobId: job.id, kind, site: target.site, worker: target.worker, vm }, 'job created');
    await this.publish(job);
    return catalog.getJob(job.id) ?? job;
  }

  private messageOf(job: JobRow): JobMessage {
    return JobMessage.parse({ jobId: job.id, attempt: job.attempt, createdAt: job.createdAt, kind: job.kind, params: job.params });
  }

  /** Publishes one job; a failure leaves it unpublished for the next `publishPending`. */
  private async publish(job: JobRow): Promise<boolean> {
    try {
      await this.opts.publisher.publish(job.site, job.worker, this.messageOf(job));
    } catch (err) {
      this.opts.log.warn({ err, jobId: job.id }, 'job publish failed; will retry');
      return false;
    }
    this.opts.catalog.markJobPublished(job.id, this.opts.clock.nowIso());
    this.opts.changes.notify(job.id);
    return true;
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

  private defaultVerifySite(): string {
    const configured = this.opts.replication[0]?.from;
    if (configured !== undefined) return configured;
    const sites = this.storageSites();
    if (sites.length === 1 && sites[0] !== undefined) return sites[0];
    const primaries = this.primarySites(sites);
    if (primaries.length === 1 && primaries[0] !== undefined) return primaries[0];
    throw new PreconditionError(
      `cannot tell which site to verify: choose one (sites with storages: ${sites.join(', ') || 'none'})`,
    );
  }
}
