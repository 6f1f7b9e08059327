/**
 * Prometheus metrics with real processes: the embedded deployment (nats-server, controller,
 * storages a and b, agent-1, each with `metrics.listen`) runs a backup, a sync, an incremental
 * backup left unsynced, and restores from both sites (one after a chunk was deleted at b, so the
 * restore heals it from a); each daemon's /metrics is scraped over HTTP and its numbers checked
 * against the job results and the datastores on disk. Also: the `metrics` config field of the
 * three daemons (unit, no processes).
 */
import assert from 'node:assert/strict';
import { statSync, unlinkSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadControllerConfig } from '../../controller/config.js';
import { loadAgentConfig } from '../../node-agent/config.js';
import { ConfigError } from '../../shared/errors.js';
import { BackupResult, RestoreResult, SyncResult } from '../../shared/messages/results.js';
import { loadStorageConfig } from '../../storage/config.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { allocatedBytes, chunkFiles, fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

/** One scrape: the samples by `name{labels}` as the text format writes them. */
class Scrape {
  private constructor(readonly text: string) {}

  static async of(address: string): Promise<Scrape> {
    const res = await fetch(`http://${address}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return new Scrape(await res.text());
  }

  /** The value of the sample whose labels include `labels`; undefined when there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    for (const line of this.text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
    }
    return undefined;
  }

  /** Like value(), but the sample must be there. */
  get(name: string, labels: Record<string, string> = {}): number {
    const v = this.value(name, labels);
    assert.ok(v !== undefined, `${name}${JSON.stringify(labels)} is exported`);
    return v;
  }

  /** The HELP text of a metric (every metric has one). */
  help(name: string): string | undefined {
    return new RegExp(`^# HELP ${name} (.+)$`, 'm').exec(this.text)?.[1];
  }
}

function chunkStoreBytes(datastoreDir: string): { chunks: number; bytes: number } {
  const files = chunkFiles(datastoreDir);
  return { chunks: files.length, bytes: files.reduce((sum, f) => sum + statSync(f).size, 0) };
}

describe('metrics endpoints of every daemon (real processes)', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;
  const disk = () => join(ctx.deployment.dataDir, 'vms', 'vm1', 'disk0.img');
  const datastore = (site: string) => join(ctx.deployment.dataDir, `storage-${site}`, 'datastore');
  const scrape = (daemon: string) => {
    const address = ctx.deployment.metrics[daemon];
    assert.ok(address, `${daemon} has a metrics address`);
    return Scrape.of(address);
  };
  const restoresExactly = async (backupId: string, site: string, sha256: string) => {
    const target = join(ctx.deployment.dataDir, `restore-${backupId}-${site}`);
    const restored = await runJob(RestoreResult, ['restore', backupId, '--to', target, '--site', site], ctx.env);
    assert.equal(await fileSha256(join(target, 'disk0.img')), sha256, `${backupId} restored from ${site} is identical`);
    return restored;
  };

  before(async () => {
    ctx = await startTestDeployment([{ name: 'vm1', disks: [{ name: 'disk0', sizeMib: 16 }] }]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('count backups, syncs, restores, bytes, repairs, lag and the chunk store as they happen', async () => {
    assert.deepEqual(Object.keys(ctx.deployment.metrics).sort(), ['agent-1', 'controller', 'storage-a', 'storage-b']);
    const idle = await scrape('controller');
    assert.equal(idle.get('bulwark_jobs', { kind: 'backup', state: 'succeeded' }), 0, 'every kind and state is exported, 0 included');
    assert.equal(idle.get('bulwark_workers', { kind: 'storage', state: 'online' }), 2);
    assert.equal(idle.get('bulwark_workers', { kind: 'agent', state: 'online' }), 1);
    assert.ok(idle.get('process_cpu_seconds_total') > 0, 'the standard process metrics are there');

    const sha = await fileSha256(disk());
    const full = await runJob(BackupResult, ['backup', 'vm1'], ctx.env);
    const sync = await runJob(SyncResult, ['sync'], ctx.env);
    assert.equal(sync.copied.length, 1);

    // Agent: one backup succeeded; its bytes are the result's, and at least the disk's data.
    const agent = await scrape('agent-1');
    assert.equal(agent.get('bulwark_worker_jobs_total', { kind: 'backup', outcome: 'succeeded' }), 1);
    assert.equal(agent.get('bulwark_worker_job_duration_seconds_count', { kind: 'backup', outcome: 'succeeded' }), 1);
    assert.equal(agent.get('bulwark_agent_backups_committed_total'), 1);
    assert.equal(agent.get('bulwark_agent_backup_bytes_read_total'), full.bytesRead);
    assert.ok(full.bytesRead >= allocatedBytes(disk()), `bytes read ${full.bytesRead} ≥ the disk's allocated data ${allocatedBytes(disk())}`);
    assert.equal(agent.get('bulwark_agent_backup_bytes_sent_total'), full.bytesSent);
    assert.ok(full.bytesSent > 0);

    // Storage a received exactly what the agent sent and served the sync's pull.
    const a = await scrape('storage-a');
    assert.equal(a.get('bulwark_storage_chunk_bytes_received_total'), full.bytesSent);
    assert.equal(a.get('bulwark_storage_chunks_written_total'), full.chunksSent);
    assert.ok(a.get('bulwark_storage_chunk_bytes_sent_total') >= sync.bytesCopied, 'the pull read every copied chunk from a');
    assert.equal(a.value('bulwark_worker_jobs_total', { kind: 'sync' }), undefined, 'pull mode: the sync ran at b');

    // Storage b ran the sync: its copied bytes are the result's.
    const b = await scrape('storage-b');
    assert.equal(b.get('bulwark_worker_jobs_total', { kind: 'sync', outcome: 'succeeded' }), 1);
    assert.equal(b.get('bulwark_storage_sync_bytes_copied_total'), sync.bytesCopied);
    assert.equal(b.get('bulwark_storage_sync_backups_copied_total'), 1);
    assert.ok(sync.bytesCopied > 0);

    // Chunk stores: the measured size equals the chunk files on disk, within a refresh (5 s in `bulwark up`).
    for (const site of ['a', 'b']) {
      const onDisk = chunkStoreBytes(datastore(site));
      assert.ok(onDisk.bytes > 0);
      await waitFor(`storage ${site}'s chunk store measured at ${onDisk.bytes} bytes`, async () => {
        const s = await scrape(`storage-${site}`);
        return s.get('bulwark_storage_chunk_store_bytes') === onDisk.bytes && s.get('bulwark_storage_chunk_store_chunks') === onDisk.chunks ? true : undefined;
      }, 20_000, 250);
    }

    // Controller: the jobs, their durations, and no replication lag right after the sync.
    const c = await scrape('controller');
    assert.equal(c.get('bulwark_jobs', { kind: 'backup', state: 'succeeded' }), 1);
    assert.equal(c.get('bulwark_jobs', { kind: 'sync', state: 'succeeded' }), 1);
    assert.equal(c.get('bulwark_jobs', { kind: 'backup', state: 'failed' }), 0);
    assert.equal(c.get('bulwark_job_duration_seconds_count', { kind: 'backup', state: 'succeeded' }), 1);
    assert.equal(c.get('bulwark_job_duration_seconds_count', { kind: 'sync', state: 'succeeded' }), 1);
    assert.equal(c.get('bulwark_replication_lag_seconds', { from: 'a', to: 'b', vm: 'vm1' }), 0);
    assert.equal(c.get('bulwark_replication_backups_behind', { from: 'a', to: 'b', vm: 'vm1' }), 0);
    assert.ok(c.get('bulwark_replication_last_success_timestamp_seconds', { from: 'a', to: 'b' }) > 0);

    // A second backup not yet synced: the first scrape after it shows the replica behind.
    const inc = await runJob(BackupResult, ['backup', 'vm1'], ctx.env);
    const behind = await scrape('controller');
    assert.equal(behind.get('bulwark_replication_backups_behind', { from: 'a', to: 'b', vm: 'vm1' }), 1);
    assert.ok(behind.get('bulwark_replication_lag_seconds', { from: 'a', to: 'b', vm: 'vm1' }) > 0);
    assert.equal(behind.get('bulwark_jobs', { kind: 'backup', state: 'succeeded' }), 2);

    // Restores: the incremental from a; the full from b after one of b's chunks was deleted,
    // which the read heals from a (a repair at b, triggered by the read).
    const r1 = await restoresExactly(inc.backup.backupId, 'a', sha);
    const victim = chunkFiles(datastore('b'))[0];
    assert.ok(victim);
    unlinkSync(victim);
    const r2 = await restoresExactly(full.backup.backupId, 'b', sha);

    const agentAfter = await scrape('agent-1');
    assert.equal(agentAfter.get('bulwark_worker_jobs_total', { kind: 'restore', outcome: 'succeeded' }), 2);
    assert.equal(agentAfter.get('bulwark_worker_jobs_total', { kind: 'backup', outcome: 'succeeded' }), 2);
    assert.equal(agentAfter.get('bulwark_agent_restore_bytes_written_total'), r1.bytesWritten + r2.bytesWritten);
    assert.equal(agentAfter.get('bulwark_agent_backup_bytes_read_total'), full.bytesRead + inc.bytesRead);

    const bAfter = await scrape('storage-b');
    assert.equal(bAfter.get('bulwark_storage_repairs_total', { object: 'chunk', trigger: 'read' }), 1);
    assert.ok(bAfter.get('bulwark_storage_chunk_bytes_sent_total') > 0, 'b served the restore');
    await waitFor('the controller to record the repair', async () => {
      const s = await scrape('controller');
      return s.value('bulwark_repairs_total', { site: 'b', object: 'chunk' }) === 1 ? s : undefined;
    });
    const cAfter = await scrape('controller');
    assert.equal(cAfter.get('bulwark_jobs', { kind: 'restore', state: 'succeeded' }), 2);
    assert.equal(cAfter.get('bulwark_job_duration_seconds_count', { kind: 'restore', state: 'succeeded' }), 2);
    assert.equal(cAfter.value('bulwark_damage_alerts_open', { site: 'b' }), undefined, 'the damage was healed: no alert');

    for (const [daemon, names] of [
      ['controller', ['bulwark_jobs', 'bulwark_job_duration_seconds', 'bulwark_replication_lag_seconds', 'bulwark_repairs_total', 'bulwark_damage_alerts_open', 'bulwark_workers']],
      ['storage-b', ['bulwark_storage_chunk_store_bytes', 'bulwark_storage_repairs_total', 'bulwark_storage_scrub_bytes_checked_total']],
      ['agent-1', ['bulwark_agent_backup_bytes_sent_total', 'bulwark_worker_jobs_total']],
    ] as const) {
      const s = await scrape(daemon);
      for (const name of names) assert.ok(s.help(name), `${daemon}: ${name} has a HELP text`);
    }
  });

  it('answer 404 outside /metrics', async () => {
    for (const daemon of ['controller', 'storage-a', 'agent-1']) {
      const res = await fetch(`http://${ctx.deployment.metrics[daemon]}/`);
      assert.equal(res.status, 404, daemon);
      await res.text();
    }
  });
});

describe('the metrics config field', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-metrics-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (value: unknown) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const nats = { url: 'nats://127.0.0.1:4222' };
  const daemons = [
    ['controller', (m: unknown) => loadControllerConfig(file({ nats, databasePath: '/tmp/c.db', ...(m === undefined ? {} : { metrics: m }) })).metrics],
    ['storage', (m: unknown) => loadStorageConfig(file({ site: 'a', datastoreDir: '/tmp/ds', nats, ...(m === undefined ? {} : { metrics: m }) })).metrics],
    ['agent', (m: unknown) => loadAgentConfig(file({ site: 'a', worker: 'agent-1', nats, hypervisor: { kind: 'files', vms: [] }, ...(m === undefined ? {} : { metrics: m }) })).metrics],
  ] as const;

  it('is optional, takes host:port, and names the field of a bad value', () => {
    for (const [name, load] of daemons) {
      assert.equal(load(undefined), undefined, `${name}: absent, no metrics server`);
      assert.equal(load({ listen: '0.0.0.0:9464' })?.listen, '0.0.0.0:9464', name);
      for (const [bad, field, rule] of [
        [{ listen: '9464' }, 'metrics.listen', /host:port/],
        [{ listen: 'localhost:' }, 'metrics.listen', /host:port/],
        [{}, 'metrics.listen', /expected string/],
        [{ listen: '127.0.0.1:0', port: 1 }, 'metrics', /port/],
      ] as const) {
        assert.throws(
          () => load(bad),
          (err: unknown) => err instanceof ConfigError && err.message.includes(field) && rule.test(err.message),
          `${name}: ${JSON.stringify(bad)}`,
        );
      }
    }
  });

  it('storage measures its chunk store every minute unless told otherwise (at least every second)', () => {
    const storage = daemons[1][1];
    assert.deepEqual(storage({ listen: '127.0.0.1:0' }), { listen: '127.0.0.1:0', chunkStoreRefreshMs: 60_000 });
    assert.equal(storage({ listen: '127.0.0.1:0', chunkStoreRefreshMs: 5000 })?.chunkStoreRefreshMs, 5000);
    assert.throws(() => storage({ listen: '127.0.0.1:0', chunkStoreRefreshMs: 10 }), /metrics\.chunkStoreRefreshMs.*at least 1000/);
  });
});
