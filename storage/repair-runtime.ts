/**
 * The storage daemon's repair machinery, put together: the peer directory (configured peers,
 * addresses learned from their heartbeats), the repair journal publishing to JetStream, the
 * repair service, and the background work — healing manifests found damaged at start, looking
 * at open alerts again every minute, and the scrub loop when the config turns it on.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection, Subscription } from 'nats';
import type { Clock } from '../shared/clock.js';
import { TokenBucket } from '../shared/flow/token-bucket.js';
import type { Logger } from '../shared/log.js';
import { decodeHeartbeat, type RepairRecord } from '../shared/messages/events.js';
import { subjects } from '../shared/messages/subjects.js';
import { EventPublisher } from '../shared/nats/event-publisher.js';
import type { StorageConfig } from './config.js';
import type { Datastore } from './datastore/datastore.js';
import { GrpcPeerStore } from './replication/grpc-peer-store.js';
import { affectedRanges } from './repair/affected-ranges.js';
import { PeerDirectory } from './repair/peer-directory.js';
import { RepairJournal } from './repair/repair-journal.js';
import { RepairService } from './repair/repair-service.js';
import { ScrubLoop, Scrubber } from './repair/scrub.js';

/** How often open alerts are looked at again outside scrub passes. */
const RECHECK_ALERTS_MS = 60_000;

export interface RepairRuntimeDeps {
  readonly config: StorageConfig;
  readonly datastore: Datastore;
  readonly nc: NatsConnection;
  /** Site → the token this storage presents there. */
  readonly peerTokens: ReadonlyMap<string, string>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Told of each repair recorded and each chunk byte scrub reads (the metrics endpoint). */
  readonly metrics?: RepairMetrics;
}

/** What repair reports for metrics. */
export interface RepairMetrics {
  repairRecorded(record: RepairRecord): void;
  scrubBytesChecked(bytes: number): void;
}

export interface RepairRuntime {
  readonly repair: RepairService;
  readonly peerDirectory: PeerDirectory;
  startBackground(): void;
  stop(): Promise<void>;
}

export async function startRepair(deps: RepairRuntimeDeps): Promise<RepairRuntime> {
  const { config, datastore, nc, clock } = deps;
  const log = deps.log.child({ component: 'repair' });
  const peerDirectory = new PeerDirectory(
    config.site,
    config.peers.map((p) => ({ site: p.site, address: p.address, token: deps.peerTokens.get(p.site) })),
    (site, address, token) => new GrpcPeerStore(site, address, token),
    log,
  );
  const journal = new RepairJournal({
    dir: join(datastore.dir, 'repair'),
    tmpDir: join(datastore.dir, 'tmp'),
    site: config.site,
    worker: config.worker,
    sink: new EventPublisher(nc.jetstream(), log),
    clock,
    log,
    resolveRanges: (hexes) => affectedRanges(datastore, hexes),
    ...(deps.metrics ? { onRecorded: (record: RepairRecord) => deps.metrics?.repairRecorded(record) } : {}),
  });
  await journal.open();
  const repair = new RepairService({ datastore, site: config.site, peers: peerDirectory, journal, clock, log });
  const recovered = await repair.recoverIntents();
  if (recovered > 0) log.info({ recovered }, 'repairs interrupted by a crash recorded');

  let heartbeats: Subscription | undefined;
  let recheck: NodeJS.Timeout | undefined;
  let scrub: ScrubLoop | undefined;
  let atOpen: Promise<unknown> | undefined;

  return {
    repair,
    peerDirectory,
    startBackground: () => {
      heartbeats = nc.subscribe(subjects.allHeartbeats, {
        callback: (err, msg) => {
          if (err) return;
          const decoded = decodeHeartbeat(msg.data);
          if (!('heartbeat' in decoded)) return;
          const hb = decoded.heartbeat;
          if (hb.kind === 'storage' && hb.address !== null && hb.site !== config.site) peerDirectory.learn(hb.site, hb.address);
        },
      });
      // Peers may start after this storage: give their heartbeats a moment before healing.
      atOpen = sleep(Math.min(config.heartbeatIntervalMs * 2, 5000))
        .then(() => repair.healDamagedAtOpen())
        .then(
          (outcome) => log.info(outcome, 'damage found at start handled'),
          (err: unknown) => log.error({ err }, 'healing the damage found at start failed'),
        );
      recheck = setInterval(() => {
        repair.recheckAlerts().catch((err: unknown) => log.warn({ err }, 'alert recheck failed'));
      }, RECHECK_ALERTS_MS);
      recheck.unref();
      if (config.scrub.enabled) {
        const paced = new TokenBucket({ rateBytesPerSecond: config.scrub.rateBytesPerSecond }, clock, (ms) => sleep(ms));
        // Scrub takes from the bucket once per chunk it reads: the one place its bytes are counted.
        const bucket = {
          take: (bytes: number) => {
            deps.metrics?.scrubBytesChecked(bytes);
            return paced.take(bytes);
          },
        };
        scrub = new ScrubLoop(new Scrubber({ datastore, repair, bucket, clock, log }), config.scrub.intervalMs, clock, log);
        scrub.start();
      }
    },
    stop: async () => {
      if (recheck) clearInterval(recheck);
      heartbeats?.unsubscribe();
      await scrub?.stop();
      await atOpen;
      await journal.drain(3000);
      journal.close();
      peerDirectory.close();
    },
  };
}
