/**
 * Faults at two sites with real processes: nats-server and one storage daemon per site, each
 * the other's repair peer. Seeded random bit flips, truncations and deletions of chunk, index
 * and manifest files at either site, between operations, during a sync and during a restore;
 * a fault whose data exists at the other site must heal (on the read path, or by verify), one
 * with no good copy anywhere must end as a named alert that clears once the data is back; the
 * storages are SIGKILLed during a sync and during a repair; the link between the sites is cut
 * and restored through a TCP proxy. Every backup restores byte for byte from both sites at the
 * end, and each repair is recorded exactly once.
 *
 * BULWARK_FAULT_ITERATIONS sets the number of injected faults (default 9; the soak run uses 90).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { WorkerEvent, type DamageAlert, type RepairRecord } from '../../shared/messages/events.js';
import type { SyncResult, VerifyResult } from '../../shared/messages/results.js';
import { callUnary } from '../../shared/rpc/grpc-calls.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import type { BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { SeededBytes } from '../../shared/seeded-bytes.js';
import { chunkDisk } from '../../storage/testing/disk-fixture.js';
import { backupOverWire } from '../../storage/testing/test-storage.js';
import { restoreDisk, StorageSites } from '../helpers/storage-sites.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait-for.js';

const iterations = Number(process.env.BULWARK_FAULT_ITERATIONS ?? 9);
const CHUNK = 64 * 1024;
const DISK_BYTES = 48 * CHUNK;
const VM = 'app';
const DISK = 'root';
const SITES = ['a', 'b'] as const;
type Site = (typeof SITES)[number];
type ObjectKind = 'chunk' | 'index' | 'manifest';
type Fault = 'flip' | 'truncate' | 'delete';
type Moment = 'between' | 'during-sync' | 'during-restore';

const other = (site: Site): Site => (site === 'a' ? 'b' : 'a');

describe(`faults at two sites heal from each other (${iterations} faults, kills, a cut link)`, () => {
  let root: string;
  let sites: StorageSites;
  let nc: NatsConnection;
  const clients = new Map<Site, BlockStoreClient>();
  const rng = new SeededBytes('repair-faults');
  /** backupId → the disk image it holds. */
  const images = new Map<string, Buffer>();
  /** Backups present at both sites. */
  const synced: string[] = [];
  const repairs: RepairRecord[] = [];
  const raised: DamageAlert[] = [];
  const resolved = new Set<string>();
  let current = new SeededBytes('repair-faults-disk').next(DISK_BYTES);
  let jobSeq = 0;
  const counts = {
    injected: { chunk: 0, index: 0, manifest: 0 },
    bySite: { a: 0, b: 0 },
    byMoment: { between: 0, 'during-sync': 0, 'during-restore': 0 },
    healedOnRead: 0,
    healedByVerify: 0,
    unrecoverableNamed: 0,
    kills: 0,
    linkCuts: 0,
  };

  const pick = <T>(items: readonly T[]): T => {
    const item = items[rng.int(items.length)];
    if (item === undefined) throw new Error('nothing to pick from');
    return item;
  };
  const datastore = (site: Site) => sites.datastoreDir(site);
  const backupDir = (site: Site, backupId: string) => join(datastore(site), 'backups', VM, backupId);
  const chunkPath = (site: Site, hex: string) => join(datastore(site), 'chunks', hex.slice(0, 2), hex.slice(2, 4), hex);

  const reconfigure = (site: Site, extra: Record<string, unknown>) => sites.reconfigure(site, extra);

  function client(site: Site): BlockStoreClient {
    let c = clients.get(site);
    if (!c) {
      c = sites.client(site);
      clients.set(site, c);
    }
    return c;
  }

  /** A new backup at A of the disk with a few chunks changed. */
  async function newBackup(): Promise<string> {
    current = Buffer.from(current);
    for (let n = 0; n < 3; n++) rng.next(CHUNK).copy(current, rng.int(DISK_BYTES / CHUNK) * CHUNK);
    const { backup } = await backupOverWire(client('a'), { vm: VM, disk: DISK, sizeBytes: DISK_BYTES, chunked: chunkDisk(current, CHUNK), jobId: `fault-${++jobSeq}` });
    images.set(backup.backupId, current);
    return backup.backupId;
  }

  async function sync(): Promise<SyncResult> {
    const outcome = await sites.runJob('b', 'sync', { mode: 'pull', source: { site: 'a', address: sites.address('a') }, concurrency: 2 });
    assert.ok(outcome.kind === 'sync');
    for (const copied of outcome.result.copied) if (!synced.includes(copied.backupId)) synced.push(copied.backupId);
    return outcome.result;
  }

  async function verify(site: Site): Promise<VerifyResult> {
    const outcome = await sites.runJob(site, 'verify', { repair: true, peers: [{ site: other(site), address: sites.address(other(site)) }], force: true });
    assert.ok(outcome.kind === 'verify');
    return outcome.result;
  }

  /** What a restore does: GetManifest, then every chunk of the disk; returns the image. */
  async function restore(site: Site, backupId: string): Promise<Buffer> {
    await callUnary<{ backupId: string }, { manifest: Buffer }>('GetManifest', client(site).getManifest.bind(client(site)), { backupId });
    return restoreDisk(client(site), backupId, DISK);
  }

  async function digestsAt(site: Site, backupId: string): Promise<string[]> {
    const index = decodeFixedIndex(await readFile(join(backupDir(site, backupId), `${DISK}.fidx`)));
    const out = new Set<string>();
    for (let i = 0; i < index.chunkCount; i++) {
      const d = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
      if (!isZeroDigest(d)) out.add(digestHex(d));
    }
    return [...out];
  }

  async function damage(path: string, fault: Fault): Promise<void> {
    if (fault === 'delete') return unlink(path);
    const bytes = await readFile(path);
    if (fault === 'truncate') return truncate(path, rng.int(Math.max(1, bytes.length - 1)));
    const at = rng.int(bytes.length);
    bytes[at] = (bytes[at] ?? 0) ^ (1 << rng.int(8));
    return writeFile(path, bytes);
  }

  /** Damages one object of a backup at a site; returns how its repair record will name it. */
  async function inject(site: Site, backupId: string, kind: ObjectKind, fault: Fault): Promise<(r: RepairRecord) => boolean> {
    counts.injected[kind]++;
    counts.bySite[site]++;
    if (kind === 'chunk') {
      const hex = pick(await digestsAt(site, backupId));
      await damage(chunkPath(site, hex), fault);
      return (r) => r.site === site && r.object === 'chunk' && r.digest === hex;
    }
    const file = kind === 'index' ? `${DISK}.fidx` : 'manifest.json';
    await damage(join(backupDir(site, backupId), file), fault);
    return (r) => r.site === site && r.object === kind && r.backupId === backupId;
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'bulwark-faults-'));
    sites = await StorageSites.start(root, SITES.map((site) => ({ site, config: { chunkSizeBytes: CHUNK, heartbeatIntervalMs: 500 } })));
    // Each site the other's repair peer, at its fixed address.
    for (const site of SITES) await reconfigure(site, { peers: [{ site: other(site), address: sites.address(other(site)) }] });
    nc = await connect({ servers: sites.nats.url });
    const sub = nc.subscribe('bulwark.events.*.*.>');
    void (async () => {
      for await (const msg of sub) {
        const parsed = WorkerEvent.safeParse(JSON.parse(msg.string()));
        if (!parsed.success) continue;
        const event = parsed.data;
        if (event.type === 'repair' && !repairs.some((r) => r.repairId === event.repair.repairId)) repairs.push(event.repair);
        if (event.type === 'alert.raised' && !raised.some((a) => a.alertId === event.alert.alertId)) raised.push(event.alert);
        if (event.type === 'alert.resolved') resolved.add(event.alertId);
      }
    })();
    await newBackup();
    await newBackup();
    await sync();
    assert.equal(synced.length, 2);
  });

  after(async () => {
    await nc?.close();
    await sites?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('heals every fault whose data the other site holds, once, between and during operations', async (t) => {
    const kinds: ObjectKind[] = ['chunk', 'index', 'manifest'];
    const faults: Fault[] = ['flip', 'truncate', 'delete'];
    const moments: Moment[] = ['between', 'during-sync', 'during-restore'];
    for (let i = 0; i < iterations; i++) {
      // Every 9 faults cover each (object, fault) pair once and each object at each moment; the
      // site, the backup, the chunk, the byte and the timing are seeded random.
      const round = Math.floor(i / 3);
      const kind = kinds[i % 3] ?? 'chunk';
      const fault = faults[(i + round) % 3] ?? 'flip';
      const moment = moments[round % 3] ?? 'between';
      const site = pick(SITES);
      const target = pick(synced);
      const earlier = new Set(repairs.map((r) => r.repairId));
      counts.byMoment[moment]++;
      const what = `fault ${i}: ${fault} of a ${kind} of backup ${target} at ${site}, ${moment}`;
      let matches: (r: RepairRecord) => boolean;
      if (moment === 'during-sync') {
        await newBackup();
        const { done } = await sites.submit('b', 'sync', { mode: 'pull', source: { site: 'a', address: sites.address('a') }, concurrency: 2 });
        await sleep(rng.int(150));
        matches = await inject(site, target, kind, fault);
        const outcome = await done;
        assert.equal(outcome.state, 'succeeded', `${what}: the sync succeeds`);
        if (outcome.state === 'succeeded' && outcome.outcome.kind === 'sync') {
          assert.deepEqual(outcome.outcome.result.failed, [], `${what}: nothing failed to copy`);
          for (const c of outcome.outcome.result.copied) if (!synced.includes(c.backupId)) synced.push(c.backupId);
        }
      } else if (moment === 'during-restore') {
        const reading = restore(site, target);
        await sleep(rng.int(40));
        matches = await inject(site, target, kind, fault);
        assert.ok((await reading).equals(images.get(target) ?? Buffer.alloc(0)), `${what}: the restore running meanwhile reads the right data`);
      } else {
        matches = await inject(site, target, kind, fault);
      }
      // The read path heals it (or the read before the damage missed it, and verify does).
      assert.ok((await restore(site, target)).equals(images.get(target) ?? Buffer.alloc(0)), `${what}: restored byte for byte`);
      const report = await verify(site);
      assert.equal(report.unrepaired, 0, `${what}: verify leaves nothing unrepaired`);
      assert.ok(report.damagedFiles.every((f) => f.outcome === 'repaired'), `${what}: every damaged file repaired`);
      const healed = await waitFor(`${what}: its repair recorded`, () => {
        const found = repairs.filter((r) => matches(r) && !earlier.has(r.repairId));
        return found.length > 0 ? found : undefined;
      });
      assert.equal(healed.length, 1, `${what}: recorded exactly once`);
      assert.equal(healed[0]?.peer, other(site), `${what}: healed from the other site`);
      if (healed[0]?.trigger === 'verify') counts.healedByVerify++;
      else counts.healedOnRead++;
      // A fresh copy of what was damaged must not be damage elsewhere: the other site still restores.
      assert.ok((await restore(other(site), target)).equals(images.get(target) ?? Buffer.alloc(0)));
    }
    t.diagnostic(`faults: ${JSON.stringify(counts)}`);
  });

  it('names a fault no site can heal, and clears the alert once the data is sent again', async () => {
    // A new backup at A whose changed chunks B does not have yet; one of them is lost at A.
    const backupId = await newBackup();
    const onlyHere = (await digestsAt('a', backupId)).filter((hex) => !readFileExists(chunkPath('b', hex)));
    assert.ok(onlyHere.length > 0);
    const hex = pick(onlyHere);
    await unlink(chunkPath('a', hex));
    const result = await sync();
    assert.deepEqual(result.failed.map((f) => f.backupId), [backupId], 'the sync names the backup it could not copy');
    await assert.rejects(restore('a', backupId), /no peer could supply it/);
    const alert = await waitFor('the alert', () => raised.find((a) => a.digest === hex));
    assert.equal(alert.site, 'a');
    assert.ok(alert.affected.some((r) => r.backupId === backupId && r.vm === VM && r.disk === DISK && r.lengthBytes === CHUNK));
    counts.unrecoverableNamed++;
    // The VM's next backup sends the chunk again (it counts as missing): the alert clears.
    const image = images.get(backupId) ?? Buffer.alloc(0);
    const { backup } = await backupOverWire(client('a'), { vm: VM, disk: DISK, sizeBytes: DISK_BYTES, chunked: chunkDisk(image, CHUNK), jobId: `fault-${++jobSeq}` });
    images.set(backup.backupId, image);
    await verify('a');
    await waitFor('the alert resolved', () => (resolved.has(alert.alertId) ? true : undefined));
    assert.ok((await restore('a', backupId)).equals(image));
    await sync();
    assert.ok(synced.includes(backupId));
    assert.ok((await restore('b', backupId)).equals(image));
  });

  it('loses nothing when either storage is SIGKILLed during a sync or during a repair', async () => {
    for (const victim of SITES) {
      // During a sync.
      const backupId = await newBackup();
      const { done } = await sites.submit('b', 'sync', { mode: 'pull', source: { site: 'a', address: sites.address('a') }, concurrency: 2 });
      await sleep(rng.int(100));
      await sites.killAndRestart(victim);
      counts.kills++;
      // The interrupted sync resumes (a killed replica gets its job again) or fails (a killed
      // source beyond its retries); either way a sync run now completes the copy.
      void done;
      await sync();
      const atReplica = await callUnary<{ vm: string }, ListBackupsResponse__Output>('ListBackups', client('b').listBackups.bind(client('b')), { vm: '' });
      assert.ok(atReplica.backups.some((b) => b.backupId === backupId), `the backup reached b after ${victim} was killed during a sync`);
      if (!synced.includes(backupId)) synced.push(backupId);

      // During a repair: many damaged chunks at the victim, read (and healed) while it is killed.
      const target = pick(synced);
      const hexes = (await digestsAt(victim, target)).slice(0, 20);
      const earlier = new Set(repairs.map((r) => r.repairId));
      for (const hex of hexes) await damage(chunkPath(victim, hex), 'flip');
      const reading = restore(victim, target).catch(() => undefined);
      await sleep(rng.int(60));
      await sites.killAndRestart(victim);
      counts.kills++;
      await reading;
      assert.ok((await restore(victim, target)).equals(images.get(target) ?? Buffer.alloc(0)), `restore from ${victim} after the kill`);
      await verify(victim);
      for (const hex of hexes) {
        const found = await waitFor(`repair of ${hex} at ${victim} recorded`, () => {
          const r = repairs.filter((x) => x.site === victim && x.digest === hex && !earlier.has(x.repairId));
          return r.length > 0 ? r : undefined;
        });
        assert.equal(found.length, 1, `chunk ${hex} at ${victim}: one repair record, whatever instant the kill hit`);
      }
    }
  });

  it('heals through a link cut and restored between the sites', async () => {
    const proxy = await TcpProxy.start(sites.address('b'));
    try {
      await reconfigure('a', { peers: [{ site: 'b', address: proxy.address }] });
      const target = pick(synced);
      const hex = pick(await digestsAt('a', target));
      await damage(chunkPath('a', hex), 'delete');
      proxy.cut();
      counts.linkCuts++;
      await assert.rejects(restore('a', target), /no peer could supply it/);
      const alert = await waitFor('the alert while the link is down', () => raised.find((a) => a.digest === hex && !resolved.has(a.alertId)));
      proxy.restore();
      // The next verify (or scrub, or the minutely look at open alerts) once the link is back heals it.
      await waitFor('a verify that heals once the link is back', async () => ((await verify('a')).unrepaired === 0 ? true : undefined), 60_000, 500);
      await waitFor('the alert resolved once the link is back', () => (resolved.has(alert.alertId) ? true : undefined));
      assert.ok((await restore('a', target)).equals(images.get(target) ?? Buffer.alloc(0)));
      assert.ok(proxy.bytesFromTarget > 0, 'the repair came through the proxy');
    } finally {
      await reconfigure('a', { peers: [{ site: 'b', address: sites.address('b') }] });
      await proxy.close();
    }
  });

  it("heals damage nobody reads through the storage's background scrub", async () => {
    const target = pick(synced);
    const hex = pick(await digestsAt('b', target));
    await damage(chunkPath('b', hex), 'flip');
    const earlier = new Set(repairs.map((r) => r.repairId));
    // A scrub pass at start (none ran yet), then one a second after each ends.
    await reconfigure('b', { scrub: { enabled: true, rateBytesPerSecond: 64 * 1024 * 1024, intervalMs: 1000 } });
    try {
      const healed = await waitFor('the scrub healed the chunk', () => repairs.find((r) => r.site === 'b' && r.digest === hex && !earlier.has(r.repairId)), 60_000);
      assert.equal(healed.trigger, 'scrub');
      assert.equal(healed.peer, 'a');
    } finally {
      await reconfigure('b', { scrub: { enabled: false } });
    }
    assert.ok((await restore('b', target)).equals(images.get(target) ?? Buffer.alloc(0)));
  });

  it('ends with every backup whole at both sites', async (t) => {
    for (const site of SITES) {
      const report = await verify(site);
      assert.equal(report.unrepaired, 0, `verify at ${site}`);
      assert.equal(report.damagedFiles.filter((f) => f.outcome !== 'repaired').length, 0);
      for (const backupId of synced) assert.ok((await restore(site, backupId)).equals(images.get(backupId) ?? Buffer.alloc(0)), `${backupId} at ${site}`);
    }
    t.diagnostic(`repairs recorded: ${repairs.length} (${JSON.stringify(countBy(repairs, (r) => `${r.site}/${r.object}/${r.trigger}`))}); alerts raised ${raised.length}, resolved ${resolved.size}; ${JSON.stringify(counts)}`);
  });
});

function readFileExists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
