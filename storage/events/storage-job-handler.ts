/**
 * The storage's NATS job handler: runs `sync` and `verify` jobs against its datastore, talking
 * to peer storages over gRPC. Any other kind is refused (it was routed to the wrong worker).
 */
import type { Clock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import type { JobHandler } from '../../shared/nats/job-worker.js';
import type { Datastore } from '../datastore/datastore.js';
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
        const peers = job.params.peers.map((p) => openPeer(p.site, p.address));
        try {
          return { kind: 'verify', result: await runVerify({ ...common, repair: job.params.repair, peers, progress }) };
        } finally {
          for (const peer of peers) peer.close();
        }
      }
      default:
        throw new PreconditionError(`a storage worker does not run ${job.kind} jobs`, { kind: job.kind });
    }
  };
}
