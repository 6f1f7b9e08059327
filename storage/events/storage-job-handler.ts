/**
 * The storage's NATS job handler: runs `sync` (pull at the replica, push at the primary),
 * `verify`, `prune`, `gc` and `lock` jobs against its datastore, talking to peer storages over
 * gRPC. Any other kind is refused (it was routed to the wrong worker).
 */
import type { Clock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import type { JobHandler } from '../../shared/nats/job-worker.js';
import type { Datastore } from '../datastore/datastore.js';
import { runGc } from '../datastore/garbage-collection.js';
import { runPrune } from '../datastore/prune.js';
import { GrpcPeerStore } from '../replication/grpc-peer-store.js';
import type { PeerStore } from '../replication/peer-store.js';
import { GrpcSyncSink } from '../replication/grpc-sync-sink.js';
import { runPushSync, runSiteSync } from '../replication/site-sync.js';
import type { SyncSink } from '../replication/sync-ports.js';
import type { UnreportedCopies } from '../replication/unreported-copies.js';
import type { PeerDirectory } from '../repair/peer-directory.js';
import type { RepairService } from '../repair/repair-service.js';
import { runVerify } from '../repair/verify.js';

export interface StorageJobHandlerDeps {
  readonly datastore: Datastore;
  readonly site: string;
  readonly clock: Clock;
  /** Opens a peer; gRPC by default, a fake in tests. */
  readonly openPeer?: (site: string, address: string) => PeerStore;
  /** Heals what verify finds bad; absent: verify only reports. */
  readonly repair?: RepairService;
  /** The configured peers, to learn addresses from jobs. */
  readonly peerDirectory?: PeerDirectory;
  /** Opens the replica a push sync writes to; gRPC with the site's configured token by default. */
  readonly openPushTarget?: (site: string, address: string) => SyncSink & { close(): void };
  /** How long a sync rides out a failed link (default 5 minutes). */
  readonly syncLinkRetryMs?: number;
  /** Copies syncs made that no stored result has reported yet (see unreported-copies.ts). */
  readonly unreportedCopies?: UnreportedCopies;
}

/** The handler a storage's JobWorker runs. */
export function createStorageJobHandler(deps: StorageJobHandlerDeps): JobHandler {
  const openPeer = deps.openPeer ?? ((site: string, address: string) => new GrpcPeerStore(site, address));
  const openPushTarget =
    deps.openPushTarget ?? ((site: string, address: string) => new GrpcSyncSink(site, address, { token: deps.peerDirectory?.tokenOf(site) }));
  return async (job, ctx) => {
    const common = { datastore: deps.datastore, site: deps.site, clock: deps.clock, log: ctx.log, signal: ctx.signal };
    const progress = (phase: string, done: number, total: number) => ctx.progress(phase, done, total);
    switch (job.kind) {
      case 'sync': {
        const { params } = job;
        const transfer = {
          progress,
          concurrency: params.concurrency,
          rateBytesPerSecond: params.rateBytesPerSecond,
          linkRetryMs: deps.syncLinkRetryMs,
          unreported: deps.unreportedCopies,
        };
        if (params.mode === 'push') {
          // At the primary: the replica's credential is the one configured for its site (peers[].token).
          deps.peerDirectory?.learn(params.target.site, params.target.address);
          const sink = openPushTarget(params.target.site, params.target.address);
          const repair = deps.repair;
          const readChunk = repair ? (digest: Buffer, excludeSites: readonly string[]) => repair.readChunk(digest, { trigger: 'sync', excludeSites }) : undefined;
          try {
            return { kind: 'sync', result: await runPushSync({ ...common, ...transfer, sink, readChunk }) };
          } finally {
            sink.close();
          }
        }
        deps.peerDirectory?.learn(params.source.site, params.source.address);
        const source = openPeer(params.source.site, params.source.address);
        try {
          return { kind: 'sync', result: await runSiteSync({ ...common, ...transfer, source }) };
        } finally {
          source.close();
        }
      }
      case 'verify': {
        const { params } = job;
        // The controller knows where every storage is: its addresses help peers not configured with one.
        for (const p of params.peers) deps.peerDirectory?.learn(p.site, p.address);
        const result = await runVerify({
          ...common,
          repair: params.repair,
          ...(deps.repair ? { repairService: deps.repair } : {}),
          progress,
          skipVerifiedWithinMs: params.skipVerifiedWithinMs,
          force: params.force,
          ...(params.backupId === undefined ? {} : { backupId: params.backupId }),
          ...(params.vm === undefined ? {} : { vm: params.vm }),
        });
        return { kind: 'verify', result };
      }
      case 'prune':
        return { kind: 'prune', result: await runPrune({ ...common, params: job.params }) };
      case 'gc':
        return { kind: 'gc', result: await runGc({ ...common, graceMs: job.params.graceMs, dryRun: job.params.dryRun }) };
      case 'lock': {
        const { lockedUntil } = await deps.datastore.lockBackup(job.params.backupId, job.params.until);
        return { kind: 'lock', result: { site: deps.site, backupId: job.params.backupId, lockedUntil } };
      }
      default:
        throw new PreconditionError(`a storage worker does not run ${job.kind} jobs`, { kind: job.kind });
    }
  };
}
