/**
 * The storage's NATS job handler: runs `sync`, `verify`, `prune`, `gc` and `lock` jobs against
 * its datastore, talking to peer storages over gRPC. Any other kind is refused (it was routed to
 * the wrong worker).
 */
import type { Clock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import type { JobHandler } from '../../shared/nats/job-worker.js';
import type { Datastore } from '../datastore/datastore.js';
import { runGc } from '../datastore/garbage-collection.js';
import { runPrune } from '../datastore/prune.js';
import { GrpcPeerStore } from '../replication/grpc-peer-store.js';
import type { PeerStore } from '../replication/peer-store.js';
import { runSiteSync } from '../replication/site-sync.js';
import { runVerify } from '../repair/verify.js';

export interface StorageJobHandlerDeps {
  readonly datastore: Datastore;
  readonly site: string;
  readonly clock: Clock;
  /** Opens a peer; gRPC by default, a fake in tests. */
  readonly openPeer?: (site: string, address: string) => PeerStore;
}

/** The handler a storage's JobWorker runs. */
export function createStorageJobHandler(deps: StorageJobHandlerDeps): JobHandler {
  const openPeer = deps.openPeer ?? ((site: string, address: string) => new GrpcPeerStore(site, address));
  return async (job, ctx) => {
    const common = { datastore: deps.datastore, site: deps.site, clock: deps.clock, log: ctx.log, signal: ctx.signal };
    const progress = (phase: string, done: number, total: number) => ctx.progress(phase, done, total);
    switch (job.kind) {
      case 'sync': {
        const source = openPeer(job.params.source.site, job.params.source.address);
        try {
          return { kind: 'sync', result: await runSiteSync({ ...common, source, progress }) };
        } finally {
          source.close();
        }
      }
      case 'verify': {
        const { params } = job;
        const peers = params.peers.map((p) => openPeer(p.site, p.address));
        try {
          const result = await runVerify({
            ...common,
            repair: params.repair,
            peers,
            progress,
            skipVerifiedWithinMs: params.skipVerifiedWithinMs,
            force: params.force,
            ...(params.backupId === undefined ? {} : { backupId: params.backupId }),
            ...(params.vm === undefined ? {} : { vm: params.vm }),
          });
          return { kind: 'verify', result };
        } finally {
          for (const peer of peers) peer.close();
        }
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
