/**
 * A repair service for tests: a journal in the datastore's repair/ folder whose events land in
 * a list, and gRPC clients of the given peer storages.
 */
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { blockStorePackage, createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { startGrpcServer, stopGrpcServer } from '../../shared/rpc/grpc-server.js';
import { createBlockStoreService } from '../api/blockstore-service.js';
import { Datastore } from '../datastore/datastore.js';
import type { WorkerEvent } from '../../shared/messages/events.js';
import { affectedRanges } from '../repair/affected-ranges.js';
import { PeerDirectory, type PeerSpec } from '../repair/peer-directory.js';
import { RepairJournal } from '../repair/repair-journal.js';
import { RepairService } from '../repair/repair-service.js';
import { GrpcPeerStore } from '../replication/grpc-peer-store.js';

export interface TestRepair {
  readonly service: RepairService;
  readonly journal: RepairJournal;
  readonly peers: PeerDirectory;
  /** Events the journal published. */
  readonly events: WorkerEvent[];
  close(): void;
}

export async function startTestRepair(datastore: Datastore, site: string, peers: readonly PeerSpec[], clock: Clock, log: Logger): Promise<TestRepair> {
  const events: WorkerEvent[] = [];
  const journal = new RepairJournal({
    dir: join(datastore.dir, 'repair'),
    tmpDir: join(datastore.dir, 'tmp'),
    site,
    worker: 'storage',
    sink: {
      publish: (event) => {
        events.push(event);
        return Promise.resolve();
      },
    },
    clock,
    log,
    resolveRanges: (hexes) => affectedRanges(datastore, hexes),
    batchDelayMs: 0,
  });
  await journal.open();
  const directory = new PeerDirectory(site, peers, (peerSite, address) => new GrpcPeerStore(peerSite, address), log);
  const service = new RepairService({ datastore, site, peers: directory, journal, clock, log });
  await service.recoverIntents();
  return {
    service,
    journal,
    peers: directory,
    events,
    close: () => {
      journal.close();
      directory.close();
    },
  };
}

/** A storage whose reads heal from its peers: a datastore, its repair service, and BlockStore on a free port. */
export interface RepairingStorage extends TestRepair {
  readonly site: string;
  readonly dir: string;
  readonly datastore: Datastore;
  readonly address: string;
  readonly client: BlockStoreClient;
  stop(): Promise<void>;
}

/** Opens a datastore in `dir` and serves it with a repair service whose peers are learned later (peers.learn). */
export async function startRepairingStorage(
  dir: string,
  site: string,
  peerSites: readonly string[],
  clock: Clock,
  log: Logger,
  chunkSizeBytes = 64 * 1024,
): Promise<RepairingStorage> {
  const datastore = await Datastore.open(dir, { chunkSizeBytes, clock, log });
  const repair = await startTestRepair(datastore, site, peerSites.map((s) => ({ site: s })), clock, log);
  const { server, address } = await startGrpcServer('127.0.0.1:0', (s) =>
    s.addService(blockStorePackage().BlockStore.service, createBlockStoreService({ datastore, site, log, repair: repair.service })),
  );
  const client = createBlockStoreClient(address);
  return {
    ...repair,
    site,
    dir,
    datastore,
    address,
    client,
    stop: async () => {
      client.close();
      repair.close();
      await stopGrpcServer(server, 1000);
    },
  };
}
