/**
 * The repair figures of `npm run bench`: how long it takes to heal N damaged chunks on the read
 * path between two real storage daemons (nats-server and one storage process per site, each the
 * other's repair peer), and how fast a scrub pass reads and checks a datastore.
 *
 * 1. A backup of N distinct 1 MiB chunks (seeded, incompressible) at site A, synced to site B.
 * 2. Every one of its blobs at A gets a bit flipped; this process reads them all back through A's
 *    GetChunks as a restore does (4 calls in flight, 64 digests each): A quarantines each,
 *    fetches it from B, checks, writes and records it, and serves it. The time is from the first
 *    request to the last blob received; every blob read back is compared with the original.
 * 3. The daemons stopped, one scrub pass over A's healed datastore, in this process, with no
 *    rate limit: bytes read and checked per second.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../shared/clock.js';
import { TokenBucket } from '../shared/flow/token-bucket.js';
import { silentLogger } from '../shared/log.js';
import { WorkerEvent } from '../shared/messages/events.js';
import { SeededBytes } from '../shared/seeded-bytes.js';
import { readServerStream } from '../shared/rpc/grpc-calls.js';
import { Datastore } from '../storage/datastore/datastore.js';
import { Scrubber } from '../storage/repair/scrub.js';
import { chunkDisk } from '../storage/testing/disk-fixture.js';
import { startTestRepair } from '../storage/testing/test-repair.js';
import { backupOverWire } from '../storage/testing/test-storage.js';
import { StorageSites } from '../test/helpers/storage-sites.js';

const CHUNK = 1024 * 1024;
/** GetChunks calls in flight, as the agent's restore keeps. */
const READERS = 4;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export interface RepairBenchReport {
  readonly chunks: number;
  readonly chunkSizeBytes: number;
  /** Read-path heal of every chunk at A from B (two storage daemons). */
  readonly heal: { readonly seconds: number; readonly chunksPerSecond: number; readonly mbPerSecond: number; readonly repairsRecorded: number; readonly allIdentical: boolean };
  /** One unthrottled scrub pass over A's datastore. */
  readonly scrub: { readonly bytes: number; readonly seconds: number; readonly mbPerSecond: number };
}

export async function benchRepair(dir: string, chunks: number, say: (line: string) => void): Promise<RepairBenchReport> {
  mkdirSync(dir, { recursive: true });
  const log = silentLogger();
  const clock = systemClock;
  const sites = await StorageSites.start(dir, [
    { site: 'a', config: { chunkSizeBytes: CHUNK } },
    { site: 'b', config: { chunkSizeBytes: CHUNK } },
  ]);
  let heal: RepairBenchReport['heal'];
  try {
    // Each site the other's repair peer, at its fixed address.
    for (const [site, peer] of [['a', 'b'], ['b', 'a']] as const) await sites.reconfigure(site, { peers: [{ site: peer, address: sites.address(peer) }] });
    say(`repair: backing up ${chunks} chunks of 1 MiB at site a and syncing them to b`);
    const image = new SeededBytes(`repair-bench-${chunks}`).next(chunks * CHUNK);
    const chunked = chunkDisk(image, CHUNK);
    const a = sites.client('a');
    await backupOverWire(a, { vm: 'bench', disk: 'root', sizeBytes: image.length, chunked, jobId: 'repair-bench' });
    const synced = await sites.runJob('b', 'sync', { mode: 'pull', source: { site: 'a', address: sites.address('a') }, concurrency: 4 }, 600_000);
    if (synced.kind !== 'sync' || synced.result.copied.length !== 1) throw new Error('repair bench: the sync did not copy the backup');

    say(`repair: flipping a bit in each of the ${chunks} blobs at a, then reading them back through a`);
    const blobs = [...chunked.blobs.values()];
    for (const { digest } of blobs) {
      const hex = digest.toString('hex');
      const path = join(sites.datastoreDir('a'), 'chunks', hex.slice(0, 2), hex.slice(2, 4), hex);
      const bytes = await readFile(path);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
      await writeFile(path, bytes);
    }
    // Count the repairs A reports, as the controller would receive them.
    const nc = await connect({ servers: sites.nats.url });
    const repairIds = new Set<string>();
    const sub = nc.subscribe('bulwark.events.a.*.repair', {
      callback: (_err, msg) => {
        const event = WorkerEvent.safeParse(JSON.parse(msg.string()));
        if (event.success && event.data.type === 'repair') repairIds.add(event.data.repair.repairId);
      },
    });
    const startedMs = clock.nowMs();
    let identical = true;
    let next = 0;
    const reader = async () => {
      for (let i = next; i < blobs.length; i = next) {
        next += 64;
        const batch = blobs.slice(i, i + 64);
        let k = 0;
        for await (const msg of readServerStream('GetChunks', a.getChunks({ digests: batch.map((c) => c.digest) }))) {
          if (!msg.blob.equals(batch[k]?.blob ?? Buffer.alloc(0))) identical = false;
          k++;
        }
        if (k !== batch.length) identical = false;
      }
    };
    await Promise.all(Array.from({ length: READERS }, reader));
    const healSeconds = (clock.nowMs() - startedMs) / 1000;
    for (let waited = 0; repairIds.size < blobs.length && waited < 30_000; waited += 100) await sleep(100);
    sub.unsubscribe();
    await nc.close();
    heal = {
      seconds: round(healSeconds),
      chunksPerSecond: round(blobs.length / healSeconds, 1),
      mbPerSecond: round((blobs.length * CHUNK) / 1e6 / healSeconds, 1),
      repairsRecorded: repairIds.size,
      allIdentical: identical,
    };
  } finally {
    await sites.stop();
  }

  say('repair: one scrub pass over a, no rate limit');
  const datastore = await Datastore.open(sites.datastoreDir('a'), { chunkSizeBytes: CHUNK, clock, log });
  const repair = await startTestRepair(datastore, 'a', [], clock, log);
  try {
    const bucket = new TokenBucket({ rateBytesPerSecond: Number.MAX_SAFE_INTEGER / 4 }, clock, () => Promise.resolve());
    const scrubber = new Scrubber({ datastore, repair: repair.service, bucket, clock, log });
    const scrubStarted = clock.nowMs();
    const pass = await scrubber.runPass();
    const scrubSeconds = (clock.nowMs() - scrubStarted) / 1000;
    if (pass.damaged !== 0) throw new Error(`repair bench: the scrub after healing found ${pass.damaged} damaged chunks`);
    return {
      chunks,
      chunkSizeBytes: CHUNK,
      heal,
      scrub: { bytes: pass.bytesChecked, seconds: round(scrubSeconds), mbPerSecond: round(pass.bytesChecked / 1e6 / scrubSeconds, 1) },
    };
  } finally {
    repair.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
