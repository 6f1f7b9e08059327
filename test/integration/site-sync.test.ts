/**
 * Site sync between real storage daemons (storage/main.ts as child processes, nats-server, gRPC
 * on 127.0.0.1), the link between the sites a TcpProxy under the test's control:
 * - the link cut mid-sync and restored (BULWARK_SYNC_CUTS times, default 1): the same job
 *   finishes, each chunk written once, and the bytes on the wire stay within 5% of the unique
 *   stored bytes plus a measured protocol overhead;
 * - the replica SIGKILLed mid-sync: the redelivered job completes without resending what arrived;
 * - the primary SIGKILLed mid-sync and restarted: the sync resumes, nothing committed is lost;
 * - a rate limit: never faster than burst + rate × elapsed;
 * - push mode: the primary pushes with a peer-push credential; a second push moves no chunk;
 * - the replica's own retention: what it pruned is never copied back; the primary pruning more
 *   leaves the replica's copies alone.
 * Every scenario ends by restoring synced backups from the replica byte for byte.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { bearerTokenSha256, createBearerToken } from '../../shared/crypto/bearer-token.js';
import { PruneResult, SyncResult } from '../../shared/messages/results.js';
import type { JobResult } from '../../shared/messages/events.js';
import { SeededBytes } from '../../shared/seeded-bytes.js';
import { chunkDisk, type ChunkedDisk } from '../../storage/testing/disk-fixture.js';
import { backupOverWire } from '../../storage/testing/test-storage.js';
import { restoreDisk, StorageSites } from '../helpers/storage-sites.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait-for.js';

const CHUNK = 64 * 1024;
const MIB = 1024 * 1024;
/**
 * Bytes on the wire besides blobs that a sync may use: listings, manifests, each chunk's index
 * entry, its digest asked for and sent back, gRPC and HTTP/2 framing. Measured at 180-260 bytes
 * per chunk plus a few KiB (0.3-0.4% of 64 KiB chunks; see the diagnostics); allowed twice that.
 */
function protocolAllowance(chunks: number): number {
  return 64 * 1024 + 512 * chunks;
}

/** A disk image of incompressible bytes, with a few zero and repeated regions. */
function randomImage(sizeBytes: number, seed: string): Buffer {
  const image = new SeededBytes(seed).next(sizeBytes);
  image.fill(0, 0, 3 * CHUNK);
  for (let i = 0; i < 4; i++) image.copy(image, (10 + i) * CHUNK, 5 * CHUNK, 6 * CHUNK);
  return image;
}

/** `image` with `fraction` of its chunks rewritten. */
function changed(image: Buffer, fraction: number, seed: string): Buffer {
  const out = Buffer.from(image);
  const rng = new SeededBytes(seed);
  const chunks = Math.floor(image.length / CHUNK);
  for (let i = 0; i < chunks * fraction; i++) rng.next(CHUNK).copy(out, rng.int(chunks) * CHUNK);
  return out;
}

interface Written {
  readonly backupId: string;
  readonly vm: string;
  readonly image: Buffer;
  readonly chunked: ChunkedDisk;
}

/** The distinct blobs of a set of backups: what a sync must move. */
function uniqueBlobs(backups: readonly Written[]): { count: number; bytes: number } {
  const all = new Map<string, number>();
  for (const b of backups) for (const [hex, { blob }] of b.chunked.blobs) all.set(hex, blob.length);
  return { count: all.size, bytes: [...all.values()].reduce((s, n) => s + n, 0) };
}

function syncResult(outcome: JobResult): SyncResult {
  assert.equal(outcome.kind, 'sync');
  return SyncResult.parse(outcome.result);
}

class Scenario {
  sites!: StorageSites;
  proxy!: TcpProxy;
  readonly written: Written[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'bulwark-sync-it-'));

  async start(specs: Parameters<typeof StorageSites.start>[1]): Promise<void> {
    this.sites = await StorageSites.start(this.dir, specs);
  }

  /** A proxy standing for the link towards `site`. */
  async link(site: string): Promise<TcpProxy> {
    this.proxy = await TcpProxy.start(this.sites.address(site));
    return this.proxy;
  }

  async backup(site: string, vm: string, image: Buffer, jobId: string): Promise<Written> {
    const chunked = chunkDisk(image, CHUNK);
    const { backup } = await backupOverWire(this.sites.client(site), { vm, disk: 'root', sizeBytes: image.length, chunked, jobId });
    const written = { backupId: backup.backupId, vm, image, chunked };
    this.written.push(written);
    return written;
  }

  /** Every given backup restores from `site` byte for byte. */
  async restoresFrom(site: string, backups: readonly Written[]): Promise<void> {
    const client = this.sites.client(site);
    for (const b of backups) {
      const restored = await restoreDisk(client, b.backupId, 'root');
      assert.ok(restored.equals(b.image), `backup ${b.backupId} of ${b.vm} restores from ${site} byte for byte`);
    }
  }

  async stop(): Promise<void> {
    await this.proxy?.close();
    await this.sites?.stop();
    if (process.env.BULWARK_TEST_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Most blob bytes in flight at once: `concurrency` calls of 64 chunks (the default batch), each at most a chunk and its header. */
const IN_FLIGHT_BOUND_BYTES = 2 * 64 * (CHUNK + 64);

const pull = (proxy: TcpProxy, extra: Record<string, unknown> = {}) => ({ mode: 'pull', source: { site: 'a', address: proxy.address }, ...extra });

/** Times the link is cut during one sync: 1 by default, more for a soak run (BULWARK_SYNC_CUTS). */
const cuts = Number(process.env.BULWARK_SYNC_CUTS ?? 1);

describe(`site sync with the link cut mid-sync (${cuts} time(s))`, () => {
  const s = new Scenario();
  before(async () => {
    await s.start([{ site: 'a', config: { chunkSizeBytes: CHUNK } }, { site: 'b', config: { chunkSizeBytes: CHUNK } }]);
    const base = randomImage(48 * MIB, 'cut-app');
    await s.backup('a', 'app', base, 'cut-1');
    await s.backup('a', 'app', changed(base, 0.1, 'cut-app-2'), 'cut-2');
    await s.backup('a', 'db', randomImage(32 * MIB, 'cut-db'), 'cut-3');
    await s.link('a');
  });
  after(() => s.stop());

  it('resumes the same job, writes each chunk once, and sends little more than the unique bytes', async (t) => {
    const unique = uniqueBlobs(s.written);
    const { done } = await s.sites.submit('b', 'sync', pull(s.proxy));
    for (let i = 1; i <= cuts; i++) {
      const share = i / (cuts + 1);
      const reached = await waitFor(`${Math.round(share * 100)}% of the data on the wire`, () => (s.proxy.bytesFromTarget > share * unique.bytes ? true : undefined), 120_000, 10);
      assert.ok(reached);
      s.proxy.cut();
      // The link stays down a few seconds: the sync retries meanwhile, with its backoff.
      await sleep(i === 1 ? 3000 : 500 + ((i * 997) % 2500));
      s.proxy.restore();
    }
    const outcome = await done;
    assert.equal(outcome.state, 'succeeded', JSON.stringify(outcome));
    assert.equal(outcome.attempts, 1, 'the same job attempt finished (no redelivery)');
    const result = syncResult(outcome.state === 'succeeded' ? outcome.outcome : assert.fail());
    assert.ok(result.resumes >= 1, `resumed after the cut (resumes ${result.resumes})`);
    assert.deepEqual(result.copied.map((c) => c.backupId).sort(), s.written.map((w) => w.backupId).sort());
    assert.deepEqual(result.failed, []);
    assert.equal(result.chunksCopied, unique.count, 'each unique chunk written once');
    assert.equal(result.bytesCopied, unique.bytes);
    const wire = s.proxy.bytesTotal;
    t.diagnostic(`link cut ${cuts} time(s): unique ${unique.bytes} B in ${unique.count} chunks; wire ${wire} B (${(wire / unique.bytes).toFixed(4)}x); resumes ${result.resumes}`);
    // Each cut may lose what was in flight; one cut stays well within 5% here.
    const bound = Math.max(1.05 * unique.bytes, unique.bytes + cuts * IN_FLIGHT_BOUND_BYTES) + protocolAllowance(unique.count);
    assert.ok(wire <= bound, `wire ${wire} ≤ ${bound} (1.05 × ${unique.bytes}, or unique + ${cuts} × in flight, + protocol)`);
    await s.restoresFrom('b', s.written);
  });
});

describe('site sync with the replica SIGKILLed mid-sync', () => {
  const s = new Scenario();
  before(async () => {
    await s.start([{ site: 'a', config: { chunkSizeBytes: CHUNK } }, { site: 'b', config: { chunkSizeBytes: CHUNK } }]);
    await s.backup('a', 'app', randomImage(40 * MIB, 'kill-b-app'), 'kill-b-1');
    await s.backup('a', 'db', randomImage(40 * MIB, 'kill-b-db'), 'kill-b-2');
    await s.link('a');
  });
  after(() => s.stop());

  it('completes when the job is redelivered, without resending what arrived', async (t) => {
    const unique = uniqueBlobs(s.written);
    const { jobId, done } = await s.sites.submit('b', 'sync', pull(s.proxy));
    await waitFor('half the data on the wire', () => (s.proxy.bytesFromTarget > unique.bytes / 2 ? true : undefined), 60_000, 10);
    await s.sites.process('b').kill();
    const atKill = s.proxy.bytesTotal;
    await s.sites.process('b').start();
    // JetStream redelivers the unacked job to the restarted storage once its ack wait runs out.
    const outcome = await done;
    assert.equal(outcome.state, 'succeeded', JSON.stringify(outcome));
    assert.ok(outcome.attempts >= 2, `job ${jobId} ran again after the kill (${outcome.attempts} starts)`);
    const result = syncResult(outcome.state === 'succeeded' ? outcome.outcome : assert.fail());
    assert.deepEqual(result.failed, []);
    assert.equal(result.copied.length + result.backupsAlreadyPresent, s.written.length);
    const wire = s.proxy.bytesTotal;
    t.diagnostic(`replica killed at ${atKill} B on the wire; total over both runs ${wire} B for ${unique.bytes} unique (${(wire / unique.bytes).toFixed(4)}x)`);
    assert.ok(
      wire <= unique.bytes + IN_FLIGHT_BOUND_BYTES + 2 * protocolAllowance(unique.count),
      `wire ${wire} ≤ unique ${unique.bytes} + in flight ${IN_FLIGHT_BOUND_BYTES} + protocol of two runs ${2 * protocolAllowance(unique.count)}`,
    );
    await s.restoresFrom('b', s.written);
  });
});

describe('site sync with the primary SIGKILLed mid-sync', () => {
  const s = new Scenario();
  before(async () => {
    await s.start([{ site: 'a', config: { chunkSizeBytes: CHUNK } }, { site: 'b', config: { chunkSizeBytes: CHUNK } }]);
    await s.backup('a', 'app', randomImage(40 * MIB, 'kill-a-app'), 'kill-a-1');
    await s.backup('a', 'db', randomImage(24 * MIB, 'kill-a-db'), 'kill-a-2');
    await s.link('a');
  });
  after(() => s.stop());

  it('rides out the outage when the primary is back within linkRetryMs; nothing committed is lost', async () => {
    const unique = uniqueBlobs(s.written);
    const { done } = await s.sites.submit('b', 'sync', pull(s.proxy));
    await waitFor('a third of the data on the wire', () => (s.proxy.bytesFromTarget > unique.bytes / 3 ? true : undefined), 60_000, 10);
    await s.sites.killAndRestart('a');
    const outcome = await done;
    assert.equal(outcome.state, 'succeeded', JSON.stringify(outcome));
    assert.equal(outcome.attempts, 1, 'the same job attempt finished');
    const result = syncResult(outcome.state === 'succeeded' ? outcome.outcome : assert.fail());
    assert.ok(result.resumes >= 1, `resumed (resumes ${result.resumes})`);
    assert.deepEqual(result.copied.map((c) => c.backupId).sort(), s.written.map((w) => w.backupId).sort());
    assert.equal(result.chunksCopied, unique.count);
    await s.restoresFrom('a', s.written);
    await s.restoresFrom('b', s.written);
  });
});

describe('site sync with a rate limit', () => {
  const s = new Scenario();
  before(async () => {
    await s.start([{ site: 'a', config: { chunkSizeBytes: CHUNK } }, { site: 'b', config: { chunkSizeBytes: CHUNK } }]);
    await s.backup('a', 'app', randomImage(12 * MIB, 'rate-app'), 'rate-1');
    await s.link('a');
  });
  after(() => s.stop());

  it('is never faster than burst + rate × elapsed', async (t) => {
    const rate = 4 * MIB;
    const burst = rate;
    const startedMs = Date.now();
    const result = syncResult(await s.sites.runJob('b', 'sync', pull(s.proxy, { rateBytesPerSecond: rate, concurrency: 4 })));
    const elapsedS = (Date.now() - startedMs) / 1000;
    assert.equal(result.copied.length, 1);
    const measured = result.bytesCopied / (result.durationMs / 1000);
    const afterBurst = (result.bytesCopied - burst) / (result.durationMs / 1000);
    t.diagnostic(
      `rate limit ${rate} B/s, burst ${burst} B: ${result.bytesCopied} blob bytes in ${result.durationMs} ms (${Math.round(measured)} B/s overall, ${Math.round(afterBurst)} B/s beyond the burst); wire ${s.proxy.bytesFromTarget} B in ${elapsedS.toFixed(2)} s`,
    );
    assert.ok(result.bytesCopied <= burst + (rate * result.durationMs) / 1000, 'blob bytes within burst + rate × the sync\'s own duration');
    assert.ok(s.proxy.bytesFromTarget <= burst + rate * elapsedS + protocolAllowance(result.chunksCopied), 'bytes on the wire within burst + rate × elapsed (+ protocol)');
    await s.restoresFrom('b', s.written);
  });
});

describe('site sync in push mode', () => {
  const s = new Scenario();
  const token = createBearerToken();
  before(async () => {
    await s.start([
      { site: 'a', config: { chunkSizeBytes: CHUNK, peers: [{ site: 'b', token }] } },
      { site: 'b', config: { chunkSizeBytes: CHUNK, access: { anonymousRole: 'peer-read', clients: [{ name: 'site-a', role: 'peer-push', tokenSha256: bearerTokenSha256(token) }] } } },
    ]);
    const base = randomImage(16 * MIB, 'push-app');
    await s.backup('a', 'app', base, 'push-1');
    await s.backup('a', 'app', changed(base, 0.2, 'push-app-2'), 'push-2');
    await s.link('b');
  });
  after(() => s.stop());

  it('pushes every backup the replica lacks with a peer-push credential; a second push moves no chunk', async (t) => {
    const unique = uniqueBlobs(s.written);
    const push = { mode: 'push', target: { site: 'b', address: s.proxy.address } };
    const first = syncResult(await s.sites.runJob('a', 'sync', push));
    assert.equal(first.mode, 'push');
    assert.equal(first.sourceSite, 'a');
    assert.equal(first.site, 'b');
    assert.deepEqual(first.copied.map((c) => c.backupId).sort(), s.written.map((w) => w.backupId).sort());
    assert.ok(first.copied.every((c) => c.site === 'b'));
    assert.equal(first.chunksCopied, unique.count);
    assert.equal(first.bytesCopied, unique.bytes);
    const wire = s.proxy.bytesTotal;
    t.diagnostic(`push: unique ${unique.bytes} B in ${unique.count} chunks; wire ${wire} B (overhead ${wire - unique.bytes} B, ${(wire / unique.bytes).toFixed(4)}x)`);
    assert.ok(wire <= 1.05 * unique.bytes + protocolAllowance(unique.count));

    s.proxy.resetCounts();
    const second = syncResult(await s.sites.runJob('a', 'sync', push));
    assert.equal(second.copied.length, 0);
    assert.equal(second.backupsAlreadyPresent, 2);
    assert.equal(second.chunksCopied, 0);
    assert.equal(second.bytesCopied, 0);
    t.diagnostic(`second push: ${s.proxy.bytesTotal} B on the wire`);
    assert.ok(s.proxy.bytesTotal < CHUNK, `no chunk bytes on the second push (${s.proxy.bytesTotal} B)`);
    await s.restoresFrom('b', s.written);
  });
});

describe('site sync and retention at each site', () => {
  const s = new Scenario();
  before(async () => {
    await s.start([{ site: 'a', config: { chunkSizeBytes: CHUNK } }, { site: 'b', config: { chunkSizeBytes: CHUNK } }]);
    let image = randomImage(4 * MIB, 'keep-app');
    for (let i = 1; i <= 4; i++) {
      await s.backup('a', 'app', image, `keep-${i}`);
      image = changed(image, 0.25, `keep-app-${i}`);
    }
    await s.link('a');
  });
  after(() => s.stop());

  it('never copies back what the replica pruned, and keeps its copies when the primary prunes more', async () => {
    const ids = s.written.map((w) => w.backupId);
    const first = syncResult(await s.sites.runJob('b', 'sync', pull(s.proxy)));
    assert.equal(first.copied.length, 4);

    const prunedAtB = await s.sites.runJob('b', 'prune', { vm: 'app', keep: { last: 2 }, dryRun: false });
    assert.equal(prunedAtB.kind, 'prune');
    const removedAtB = PruneResult.parse(prunedAtB.result).removed.map((d) => d.backupId).sort();
    assert.deepEqual(removedAtB, ids.slice(0, 2).sort());

    s.proxy.resetCounts();
    const second = syncResult(await s.sites.runJob('b', 'sync', pull(s.proxy)));
    assert.equal(second.copied.length, 0, 'nothing copied back');
    assert.equal(second.backupsPrunedAtReplica, 2);
    assert.equal(second.backupsAlreadyPresent, 2);
    assert.equal(second.chunksCopied, 0);
    assert.ok(s.proxy.bytesTotal < CHUNK, `no chunk moved (${s.proxy.bytesTotal} B on the wire)`);

    const prunedAtA = PruneResult.parse((await s.sites.runJob('a', 'prune', { vm: 'app', keep: { last: 1 }, dryRun: false })).result);
    assert.deepEqual(prunedAtA.removed.map((d) => d.backupId).sort(), ids.slice(0, 3).sort());
    const third = syncResult(await s.sites.runJob('b', 'sync', pull(s.proxy)));
    assert.equal(third.copied.length, 0);
    assert.equal(third.backupsAlreadyPresent, 1);
    assert.equal(third.backupsPrunedAtReplica, 0, 'the primary no longer lists what the replica pruned');

    const atB = await s.sites.runJob('b', 'prune', { vm: 'app', keep: { last: 10 }, dryRun: true });
    const keptAtB = PruneResult.parse(atB.result).kept.map((d) => d.backupId).sort();
    assert.deepEqual(keptAtB, ids.slice(2).sort(), 'the replica keeps its two copies, one of them gone at the primary');
    await s.restoresFrom('b', s.written.slice(2));
  });
});
