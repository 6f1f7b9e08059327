/**
 * Site sync in the bench: real storage daemons for a primary (a) and two replicas (b, c), the
 * link to the primary a TcpProxy that counts the bytes crossing it. Reports:
 * - bytes on the wire over the new unique bytes stored at the replica, for a full backup and
 *   an incremental after a 2% scattered change, each pulled by b (target ≤ 1.05);
 * - rate-limit accuracy: c pulls the same backups limited to about a tenth of their bytes per
 *   second; the measured rate is the least-squares slope of the bytes through the proxy over
 *   time, between 10% and 90% of the transfer (the first second's burst and the start-up left out).
 * Ends by restoring the latest backup from both replicas and comparing it byte for byte.
 */
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyncResult } from '../shared/messages/results.js';
import { SeededBytes } from '../shared/seeded-bytes.js';
import { chunkDisk, makeDiskImage } from '../storage/testing/disk-fixture.js';
import { backupOverWire } from '../storage/testing/test-storage.js';
import { restoreDisk, StorageSites } from '../test/helpers/storage-sites.js';
import { TcpProxy } from '../test/helpers/tcp-proxy.js';

const MIB = 1024 * 1024;
/** The storages' default chunk size. */
const CHUNK = 1024 * 1024;
const VM = 'bench-vm';
const DISK = 'disk0';

export interface ReplicationSync {
  readonly backupsCopied: number;
  readonly chunksCopied: number;
  readonly bytesCopied: number;
  readonly wireBytes: number;
  readonly seconds: number;
}

export interface ReplicationReport {
  readonly imageBytes: number;
  /** New unique bytes stored at the replica by both syncs (blob bytes written). */
  readonly uniqueStoredBytes: number;
  /** Bytes through the link, both ways, for both syncs. */
  readonly wireBytes: number;
  /** Target ≤ 1.05. */
  readonly wireOverUnique: number;
  readonly syncs: { readonly full: ReplicationSync; readonly incremental: ReplicationSync };
  readonly rateLimit: {
    readonly configuredBytesPerSecond: number;
    readonly measuredBytesPerSecond: number;
    /** measured / configured. */
    readonly accuracy: number;
    readonly bytes: number;
    readonly seconds: number;
  };
  readonly restoredIdentical: boolean;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** `image` with 2% of its chunks rewritten at seeded places. */
function changeTwoPercent(image: Buffer, seed: number): Buffer {
  const out = Buffer.from(image);
  const rng = new SeededBytes(`replication-change-${seed}`);
  const chunks = Math.floor(image.length / CHUNK);
  const writes = Math.max(1, Math.round(chunks * 0.02));
  for (let i = 0; i < writes; i++) rng.next(64 * 1024).copy(out, rng.int(chunks) * CHUNK + rng.int(CHUNK / 2));
  return out;
}

/** Bytes per second: the least-squares slope of bytes over time, for the samples between 10% and 90% of `total`. */
function steadyRate(samples: readonly { ms: number; bytes: number }[], total: number): number {
  const mid = samples.filter((x) => x.bytes >= 0.1 * total && x.bytes <= 0.9 * total);
  if (mid.length < 3) return 0;
  const meanT = mid.reduce((s, x) => s + x.ms, 0) / mid.length;
  const meanB = mid.reduce((s, x) => s + x.bytes, 0) / mid.length;
  const cov = mid.reduce((s, x) => s + (x.ms - meanT) * (x.bytes - meanB), 0);
  const varT = mid.reduce((s, x) => s + (x.ms - meanT) ** 2, 0);
  return varT === 0 ? 0 : (cov / varT) * 1000;
}

/** Runs the replication bench under `dir` with an image of `sizeMib` MiB. */
export async function benchReplication(dir: string, sizeMib: number, seed: number, say: (line: string) => void): Promise<ReplicationReport> {
  mkdirSync(dir, { recursive: true });
  say('replication: starting storages a (primary), b and c (replicas)');
  const sites = await StorageSites.start(dir, [{ site: 'a' }, { site: 'b' }, { site: 'c' }], 'warn');
  const proxies: TcpProxy[] = [];
  try {
    const image = makeDiskImage(sizeMib * MIB, seed);
    const changed = changeTwoPercent(image, seed);
    const primary = sites.client('a');
    const backup = (img: Buffer, jobId: string) => backupOverWire(primary, { vm: VM, disk: DISK, sizeBytes: img.length, chunked: chunkDisk(img, CHUNK), jobId });

    const toA = await TcpProxy.start(sites.address('a'));
    proxies.push(toA);
    const pull = async (site: string, proxy: TcpProxy, extra: Record<string, unknown> = {}): Promise<{ result: SyncResult; wire: number; seconds: number }> => {
      proxy.resetCounts();
      const t0 = process.hrtime.bigint();
      const outcome = await sites.runJob(site, 'sync', { mode: 'pull', source: { site: 'a', address: proxy.address }, ...extra }, 30 * 60_000);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (outcome.kind !== 'sync') throw new Error(`sync job returned a ${outcome.kind} result`);
      return { result: SyncResult.parse(outcome.result), wire: proxy.bytesTotal, seconds };
    };
    const row = (s: { result: SyncResult; wire: number; seconds: number }): ReplicationSync => ({
      backupsCopied: s.result.copied.length,
      chunksCopied: s.result.chunksCopied,
      bytesCopied: s.result.bytesCopied,
      wireBytes: s.wire,
      seconds: round3(s.seconds),
    });

    say(`replication: full backup of a ${sizeMib} MiB image at a, pulled by b`);
    await backup(image, 'replication-full');
    const full = await pull('b', toA);
    say('replication: incremental after a 2% change, pulled by b');
    const inc = await backup(changed, 'replication-incremental');
    const incremental = await pull('b', toA);
    const uniqueStoredBytes = full.result.bytesCopied + incremental.result.bytesCopied;
    const wireBytes = full.wire + incremental.wire;

    const configured = Math.max(MIB, Math.round(uniqueStoredBytes / 10));
    say(`replication: c pulls both backups limited to ${(configured / MIB).toFixed(1)} MiB/s`);
    const toAforC = await TcpProxy.start(sites.address('a'));
    proxies.push(toAforC);
    const samples: { ms: number; bytes: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ ms: performance.now(), bytes: toAforC.bytesFromTarget });
        await sleep(25);
      }
    })();
    const limited = await pull('c', toAforC, { rateBytesPerSecond: configured });
    sampling = false;
    await sampler;
    const measured = steadyRate(samples, toAforC.bytesFromTarget);

    say('replication: restoring the latest backup from b and c');
    let restoredIdentical = true;
    for (const site of ['b', 'c']) restoredIdentical = (await restoreDisk(sites.client(site), inc.backup.backupId, DISK)).equals(changed) && restoredIdentical;

    return {
      imageBytes: image.length,
      uniqueStoredBytes,
      wireBytes,
      wireOverUnique: round3(wireBytes / Math.max(1, uniqueStoredBytes)),
      syncs: { full: row(full), incremental: row(incremental) },
      rateLimit: {
        configuredBytesPerSecond: configured,
        measuredBytesPerSecond: Math.round(measured),
        accuracy: round3(measured / configured),
        bytes: limited.result.bytesCopied,
        seconds: round3(limited.seconds),
      },
      restoredIdentical,
    };
  } finally {
    for (const p of proxies) await p.close();
    await sites.stop();
  }
}
