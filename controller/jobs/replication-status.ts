/**
 * Replication status: per replication pair, its last sync job and, per VM, how far the replica
 * is behind the primary — the recovery point the DR site really has. Computed from the catalog's
 * backup copies (a sync records the copies it made at the replica).
 *
 * Terms, per VM with backups at the primary:
 * - lag: 0 when the replica holds the primary's newest backup; otherwise how long the replica
 *   has been behind: now − the creation time of the oldest primary backup newer than the
 *   replica's newest (with no copy at the replica at all: the oldest primary backup).
 * - not yet replicated: primary backups the replica never had (a copy the replica pruned under
 *   its own retention was replicated, and is not counted).
 * - data age at the replica: now − the replica's newest backup: what the DR site would lose if
 *   the primary vanished now (absent when the replica holds none).
 */
import type { Clock } from '../../shared/clock.js';
import type { BackupRow, Catalog, JobRow } from '../catalog/catalog.js';
import { syncPairOfJob, type ReplicationPair, type SyncMode } from './job-service.js';

/** A backup named by id and creation time. */
export interface BackupPoint {
  readonly backupId: string;
  readonly createdAt: string;
}

export interface VmLag {
  readonly vm: string;
  readonly newestAtPrimary: BackupPoint;
  readonly newestAtReplica: BackupPoint | null;
  readonly lagMs: number;
  readonly notYetReplicated: number;
  readonly dataAgeAtReplicaMs: number | null;
  /** Present copies at each site. */
  readonly backupsAtPrimary: number;
  readonly backupsAtReplica: number;
}

/** Every pair's status, computed at `now`. */
export interface ReplicationReport {
  readonly now: string;
  readonly pairs: PairStatus[];
}

export interface PairStatus {
  readonly from: string;
  readonly to: string;
  readonly mode: SyncMode;
  /** Absent: on demand only. */
  readonly intervalMs: number | null;
  readonly rateBytesPerSecond: number | null;
  readonly concurrency: number | null;
  /** False for a pair known only from past sync jobs. */
  readonly configured: boolean;
  /** The newest sync job of the pair, in any state. */
  readonly lastSync: JobRow | null;
  /** When the newest successful sync of the pair finished. */
  readonly lastSuccessAt: string | null;
  readonly vms: VmLag[];
}

/**
 * Lag of every VM with present backups at the primary. `primary` holds the present copies at
 * the primary; `replicaRows` every copy row at the replica, pruned ones included.
 */
export function computeReplicationLag(primary: readonly BackupRow[], replicaRows: readonly BackupRow[], nowMs: number): VmLag[] {
  const byVm = new Map<string, BackupRow[]>();
  for (const b of primary) {
    if (b.prunedAt !== null) continue;
    const list = byVm.get(b.vm) ?? [];
    list.push(b);
    byVm.set(b.vm, list);
  }
  const everAtReplica = new Set(replicaRows.map((b) => b.backupId));
  const presentAtReplica = replicaRows.filter((b) => b.prunedAt === null);
  const lags: VmLag[] = [];
  for (const [vm, atPrimary] of [...byVm].sort(([a], [b]) => a.localeCompare(b))) {
    const oldestFirst = [...atPrimary].sort(byCreation);
    const newest = oldestFirst.at(-1);
    if (!newest) continue;
    const atReplica = presentAtReplica.filter((b) => b.vm === vm).sort(byCreation);
    const replicaNewest = atReplica.at(-1);
    const presentIds = new Set(atReplica.map((b) => b.backupId));
    let lagMs = 0;
    if (!presentIds.has(newest.backupId)) {
      const behind =
        oldestFirst.find((b) => replicaNewest === undefined || byCreation(b, replicaNewest) > 0) ??
        oldestFirst.find((b) => !presentIds.has(b.backupId)) ??
        newest;
      lagMs = Math.max(0, nowMs - Date.parse(behind.createdAt));
    }
    lags.push({
      vm,
      newestAtPrimary: point(newest),
      newestAtReplica: replicaNewest ? point(replicaNewest) : null,
      lagMs,
      notYetReplicated: atPrimary.filter((b) => !everAtReplica.has(b.backupId)).length,
      dataAgeAtReplicaMs: replicaNewest ? Math.max(0, nowMs - Date.parse(replicaNewest.createdAt)) : null,
      backupsAtPrimary: atPrimary.length,
      backupsAtReplica: atReplica.length,
    });
  }
  return lags;
}

/** How many sync jobs, newest first, are searched for each pair's last sync. */
const SYNC_HISTORY_LIMIT = 1000;

export interface ReplicationStatusOptions {
  readonly catalog: Catalog;
  readonly clock: Clock;
  /** The configured pairs (config.replication). */
  readonly pairs: readonly ReplicationPair[];
}

/** Reads each pair's status from the catalog. */
export class ReplicationStatusReader {
  constructor(private readonly opts: ReplicationStatusOptions) {}

  /** The configured pairs, then any other pair a past sync job copied along. */
  status(): ReplicationReport {
    const { catalog, clock } = this.opts;
    const nowMs = clock.nowMs();
    const syncs = catalog.listJobs({ kind: 'sync', limit: SYNC_HISTORY_LIMIT });
    const pairs: ReplicationPair[] = [...this.opts.pairs];
    for (const job of syncs) {
      const p = syncPairOfJob(job);
      if (p && !pairs.some((q) => q.from === p.from && q.to === p.to)) pairs.push({ from: p.from, to: p.to, mode: p.mode });
    }
    const statuses = pairs.map((pair): PairStatus => {
      const ofPair = syncs.filter((job) => {
        const p = syncPairOfJob(job);
        return p !== undefined && p.from === pair.from && p.to === pair.to;
      });
      const lastSuccess = ofPair.find((j) => j.state === 'succeeded');
      return {
        from: pair.from,
        to: pair.to,
        mode: pair.mode ?? 'pull',
        intervalMs: pair.intervalMs ?? null,
        rateBytesPerSecond: pair.rateBytesPerSecond ?? null,
        concurrency: pair.concurrency ?? null,
        configured: this.opts.pairs.includes(pair),
        lastSync: ofPair[0] ?? null,
        lastSuccessAt: lastSuccess?.finishedAt ?? null,
        vms: computeReplicationLag(
          catalog.listBackups({ site: pair.from }),
          catalog.listBackups({ site: pair.to, includePruned: true }),
          nowMs,
        ),
      };
    });
    return { now: new Date(nowMs).toISOString(), pairs: statuses };
  }
}

function point(b: BackupRow): BackupPoint {
  return { backupId: b.backupId, createdAt: b.createdAt };
}

/** Oldest first; ids (time-ordered ULIDs) break ties. */
function byCreation(a: BackupRow, b: BackupRow): number {
  return a.createdAt.localeCompare(b.createdAt) || a.backupId.localeCompare(b.backupId);
}
