/**
 * The repair figures of `npm run bench`: how long two storages (in this process, over real gRPC
 * on 127.0.0.1, each with its own datastore) take to heal N damaged chunks on the read path, and
 * how fast a scrub pass reads and checks a datastore.
 *
 * 1. A backup of N distinct 1 MiB chunks (seeded, incompressible) at site A, synced to site B.
 * 2. Every one of its blobs at A gets a bit flipped; a client reads them all back through A's
 *    GetChunks as a restore does (4 calls in flight, 64 digests each): A quarantines each, fetches it from B, checks, writes and
 *    records it, and serves it. The time is from the first request to the last blob received;
 *    every blob read back is checked against the original.
 * 3. A scrub pass of A's healed datastore with no rate limit: bytes checked per second.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../shared/clock.js';
import { TokenBucket } from '../shared/flow/token-bucket.js';
import { silentLogger } from '../shared/log.js';
import { SeededBytes } from '../shared/seeded-bytes.js';
import { readServerStream } from '../shared/rpc/grpc-calls.js';
import type { FsChunkStore } from '../storage/datastore/fs-chunk-store.js';
import { Scrubber } from '../storage/repair/scrub.js';
import { GrpcPeerStore } from '../storage/replication/grpc-peer-store.js';
import { runSiteSync } from '../storage/replication/site-sync.js';
import { chunkDisk } from '../storage/testing/disk-fixture.js';
import { startRepairingStorage } from '../storage/testing/test-repair.js';
import { backupOverWire } from '../storage/testing/test-storage.js';

const CHUNK = 1024 * 1024;
/** GetChunks calls in flight, as the agent's restore keeps. */
const READERS = 4;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export interface RepairBenchReport {
  readonly chunks: number;
  readonly chunkSizeBytes: number;
  /** Read-path heal of every chunk at A from B. */
  readonly heal: { readonly seconds: number; readonly chunksPerSecond: number; readonly mbPerSecond: number; readonly repairsRecorded: number; readonly allIdentical: boolean };
  /** One unthrottled scrub pass over A's datastore. */
  readonly scrub: { readonly bytes: number; readonly seconds: number; readonly mbPerSecond: number };
}

export async function benchRepair(dir: string, chunks: number, say: (line: string) => void): Promise<RepairBenchReport> {
  mkdirSync(dir, { recursive: true });
  const log = silentLogger();
  const clock = systemClock;
  const a = await startRepairingStorage(join(dir, 'a'), 'a', ['b'], clock, log, CHUNK);
  const b = await startRepairingStorage(join(dir, 'b'), 'b', ['a'], clock, log, CHUNK);
  try {
    a.peers.learn('b', b.address);
    b.peers.learn('a', a.address);
    say(`repair: backing up ${chunks} chunks of 1 MiB at site a and syncing them to b`);
    const image = new SeededBytes(`repair-bench-${chunks}`).next(chunks * CHUNK);
    const chunked = chunkDisk(image, CHUNK);
    const { backup } = await backupOverWire(a.client, { vm: 'bench', disk: 'root', sizeBytes: image.length, chunked, jobId: 'repair-bench' });
    const source = new GrpcPeerStore('a', a.address);
    try {
      await runSiteSync({ datastore: b.datastore, site: 'b', source, clock, log, concurrency: 4 });
    } finally {
      source.close();
    }
    if (b.datastore.catalog.get(backup.backupId) === undefined) throw new Error('repair bench: the sync did not copy the backup');

    say(`repair: flipping a bit in each of the ${chunks} blobs at a, then reading them back through a`);
    const blobs = [...chunked.blobs.values()];
    for (const { digest } of blobs) {
      const path = (a.datastore.chunks as FsChunkStore).pathOf(digest);
      const bytes = await readFile(path);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
      await writeFile(path, bytes);
    }
    const startedMs = clock.nowMs();
    let identical = true;
    // As a restore reads: several GetChunks calls in flight, 64 digests each.
    let next = 0;
    const reader = async () => {
      for (let i = next; i < blobs.length; i = next) {
        next += 64;
        const batch = blobs.slice(i, i + 64);
        let k = 0;
        for await (const msg of readServerStream('GetChunks', a.client.getChunks({ digests: batch.map((c) => c.digest) }))) {
          if (!msg.blob.equals(batch[k]?.blob ?? Buffer.alloc(0))) identical = false;
          k++;
        }
        if (k !== batch.length) identical = false;
      }
    };
    await Promise.all(Array.from({ length: READERS }, reader));
    const healSeconds = (clock.nowMs() - startedMs) / 1000;
    await a.journal.drain(60_000);

    say('repair: one scrub pass over a, no rate limit');
    const bucket = new TokenBucket({ rateBytesPerSecond: Number.MAX_SAFE_INTEGER / 4 }, clock, () => Promise.resolve());
    const scrubber = new Scrubber({ datastore: a.datastore, repair: a.service, bucket, clock, log });
    const scrubStarted = clock.nowMs();
    const pass = await scrubber.runPass();
    const scrubSeconds = (clock.nowMs() - scrubStarted) / 1000;
    if (pass.damaged !== 0) throw new Error(`repair bench: the scrub after healing found ${pass.damaged} damaged chunks`);
    return {
      chunks,
      chunkSizeBytes: CHUNK,
      heal: {
        seconds: round(healSeconds),
        chunksPerSecond: round(blobs.length / healSeconds, 1),
        mbPerSecond: round((blobs.length * CHUNK) / 1e6 / healSeconds, 1),
        repairsRecorded: a.journal.recorded.length,
        allIdentical: identical,
      },
      scrub: { bytes: pass.bytesChecked, seconds: round(scrubSeconds), mbPerSecond: round(pass.bytesChecked / 1e6 / scrubSeconds, 1) },
    };
  } finally {
    await a.stop();
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
