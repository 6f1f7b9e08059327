/**
 * The deployment at a glance (`bulwark status`): every worker and its state, the newest backup
 * of each VM at each site, the RPO state of each watched VM and site, the open damage alerts
 * (shown until resolved), replication lag per pair and VM, jobs queued or running, and jobs that
 * failed recently. Read-only, from the catalog. `needsAttention` says why an operator should
 * look (the CLI's exit code 5): an RPO breached, an open damage alert, a worker offline.
 */
import type { Clock } from '../../shared/clock.js';
import type { AlertRow, BackupState, Catalog, JobRow, WorkerRow } from '../catalog/catalog.js';
import type { RpoEntry } from '../policies/rpo-watch.js';
import type { PairStatus, ReplicationStatusReader } from './replication-status.js';

/** The newest present copy of a VM's backups at one site. */
export interface NewestCopy {
  readonly site: string;
  readonly backupId: string;
  readonly createdAt: string;
  readonly state: BackupState;
}

export interface VmStatus {
  readonly name: string;
  /** Where the inventory places it; null for a VM known only from its backups. */
  readonly site: string | null;
  readonly worker: string | null;
  /** One per site holding a copy, by site. */
  readonly newest: NewestCopy[];
}

export interface DeploymentStatus {
  readonly now: string;
  readonly workers: WorkerRow[];
  readonly vms: VmStatus[];
  readonly openAlerts: AlertRow[];
  readonly replication: PairStatus[];
  /** Queued and running jobs, newest first. */
  readonly activeJobs: JobRow[];
  /** Jobs that failed within `failedWithinMs`, newest first. */
  readonly failedJobs: JobRow[];
  readonly failedWithinMs: number;
  /** Every VM and site the RPO watch checks, by VM and site. */
  readonly rpo: RpoEntry[];
  /** What needs an operator's attention now, one line each; empty: nothing. */
  readonly needsAttention: string[];
}

const ACTIVE_JOBS_LIMIT = 100;
const FAILED_JOBS_LIMIT = 20;
const OPEN_ALERTS_LIMIT = 1000;

export interface DeploymentStatusOptions {
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly replication: ReplicationStatusReader;
  /** The RPO watch; absent: no RPO entries. */
  readonly rpo?: { entries(): RpoEntry[] };
}

export class DeploymentStatusReader {
  constructor(private readonly opts: DeploymentStatusOptions) {}

  status(failedWithinMs: number): DeploymentStatus {
    const { catalog, clock } = this.opts;
    const nowMs = clock.nowMs();
    const failedSince = new Date(nowMs - failedWithinMs).toISOString();
    const activeJobs = [
      ...catalog.listJobs({ state: 'running', limit: ACTIVE_JOBS_LIMIT }),
      ...catalog.listJobs({ state: 'queued', limit: ACTIVE_JOBS_LIMIT }),
    ].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    const workers = catalog.listWorkers();
    const openAlerts = catalog.listAlerts({ openOnly: true, limit: OPEN_ALERTS_LIMIT });
    const rpo = this.opts.rpo?.entries() ?? [];
    return {
      now: new Date(nowMs).toISOString(),
      workers,
      vms: this.vms(),
      openAlerts,
      replication: this.opts.replication.status().pairs,
      activeJobs,
      failedJobs: catalog.listJobs({ state: 'failed', finishedSince: failedSince, limit: FAILED_JOBS_LIMIT }),
      failedWithinMs,
      rpo,
      needsAttention: needsAttention(workers, openAlerts, rpo),
    };
  }

  /** Inventory VMs and VMs known only from backups, by name; each with its newest copy per site. */
  private vms(): VmStatus[] {
    const { catalog } = this.opts;
    const newest = new Map<string, Map<string, NewestCopy>>();
    // Newest first: the first copy seen per (vm, site) is its newest.
    for (const b of catalog.listBackups({})) {
      const bySite = newest.get(b.vm) ?? new Map<string, NewestCopy>();
      if (!bySite.has(b.site)) bySite.set(b.site, { site: b.site, backupId: b.backupId, createdAt: b.createdAt, state: b.state });
      newest.set(b.vm, bySite);
    }
    const inventory = new Map(catalog.listVms().map((vm) => [vm.name, vm]));
    const names = [...new Set([...inventory.keys(), ...newest.keys()])].sort();
    return names.map((name) => {
      const vm = inventory.get(name);
      return {
        name,
        site: vm?.site ?? null,
        worker: vm?.worker ?? null,
        newest: [...(newest.get(name)?.values() ?? [])].sort((a, b) => a.site.localeCompare(b.site)),
      };
    });
  }
}

/** One line per reason to look: RPO breaches, open damage alerts, offline workers. */
function needsAttention(workers: readonly WorkerRow[], openAlerts: readonly AlertRow[], rpo: readonly RpoEntry[]): string[] {
  const lines: string[] = [];
  const breached = rpo.filter((e) => e.state === 'breached');
  if (breached.length > 0) lines.push(`RPO breached for ${breached.length} VM/site pair${breached.length === 1 ? '' : 's'}`);
  if (openAlerts.length > 0) lines.push(`${openAlerts.length} open damage alert${openAlerts.length === 1 ? '' : 's'}`);
  const offline = workers.filter((w) => w.state === 'offline');
  if (offline.length > 0) lines.push(`worker${offline.length === 1 ? '' : 's'} offline: ${offline.map((w) => `${w.site}/${w.id}`).join(', ')}`);
  return lines;
}
