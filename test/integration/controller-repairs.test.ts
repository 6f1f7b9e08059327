/**
 * Repairs, damage alerts, replication lag and the replication interval, through the real CLI
 * against real processes (nats-server, controller, storages a and b, an agent). The test plays
 * a storage's repair service: it publishes `repair`, `alert.raised` and `alert.resolved` events
 * to JetStream with the storages' own EventPublisher, about backups made with `bulwark backup`.
 * Then `bulwark repairs`, `alerts`, `status` and `backups` show them; `bulwark replication`
 * shows lag after a new backup and none after a sync; and a controller configured with a sync
 * interval syncs by itself. Every backup made is restored byte for byte.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { mutateDemoDisk } from '../../controller/cli/up/demo-disk.js';
import { newId } from '../../shared/ids.js';
import { silentLogger } from '../../shared/log.js';
import type { AffectedRange, DamageAlert, RepairRecord, WorkerEvent } from '../../shared/messages/events.js';
import { BackupResult, RestoreResult, SyncResult } from '../../shared/messages/results.js';
import { EventPublisher } from '../../shared/nats/event-publisher.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { chunkFiles, fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

interface RepairJson {
  repairId: string;
  site: string;
  object: string;
  digest: string;
  peer: string;
  trigger: string;
  bytes: number;
  affected: AffectedRange[];
}

interface AlertJson {
  alertId: string;
  state: string;
  site: string;
  resolution: string;
  affected: AffectedRange[];
}

interface BackupJson {
  backupId: string;
  site: string;
  state: string;
}

interface LagJson {
  vm: string;
  lagMs: number;
  notYetReplicated: number;
  newestAtPrimaryId: string;
  newestAtReplicaId: string;
  dataAgeAtReplicaMs?: number;
}

interface ReplicationJson {
  now: string;
  pairs: { fromSite: string; toSite: string; intervalMs: number; lastSync: { id: string; state: string } | null; vms: LagJson[] }[];
}

interface StatusJson {
  workers: { site: string; id: string; state: string }[];
  vms: { name: string; newest: { site: string; backupId: string; state: string }[] }[];
  openAlerts: AlertJson[];
  replication: { vms: LagJson[] }[];
}

const MIB = 1024 * 1024;

describe('repairs, alerts, status and replication lag through the CLI', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;
  let nc: NatsConnection;
  let events: EventPublisher;
  const disk = () => join(ctx.deployment.dataDir, 'vms', 'vm1', 'disk0.img');
  const cli = <T>(args: string[]) => runCliJson<T>(args, ctx.env);
  /** `bulwark status --json`, which exits 5 while something needs attention (an open alert). */
  const statusJson = async (expectedCode: 0 | 5): Promise<StatusJson> => {
    const result = await runCli(['status', '--json'], ctx.env);
    assert.equal(result.code, expectedCode, `status exit code\n${result.stdout}\n${result.stderr}`);
    return JSON.parse(result.stdout) as StatusJson;
  };

  /** What every event of storage a carries; its id is new unless given. */
  const from = (eventId = newId()) => ({ eventId, site: 'a', worker: 'storage', at: new Date().toISOString() });
  /** Publishes an event as storage a's repair service would. */
  const publish = (event: WorkerEvent) => events.publish(event);

  /** Restores a backup from a site and compares it with the disk image as it was backed up. */
  const restoresExactly = async (backupId: string, site: string, sha256: string) => {
    const target = join(ctx.deployment.dataDir, `restore-${backupId}-${site}`);
    const restored = await runJob(RestoreResult, ['restore', backupId, '--to', target, '--site', site], ctx.env);
    assert.equal(restored.site, site);
    assert.equal(await fileSha256(join(target, 'disk0.img')), sha256, `${backupId} restored from ${site} is identical`);
  };

  before(async () => {
    ctx = await startTestDeployment([{ name: 'vm1', disks: [{ name: 'disk0', sizeMib: 16 }] }]);
    nc = await connect({ servers: ctx.deployment.natsUrl });
    events = new EventPublisher(nc.jetstream(), silentLogger());
  });
  after(async () => {
    await nc?.drain();
    await ctx?.cleanup();
  });

  it('shows the repairs and alerts a storage reports; a copy is damaged while an alert is open, ok once resolved', async () => {
    const full = await runJob(BackupResult, ['backup', 'vm1'], ctx.env);
    const b1 = full.backup.backupId;
    const b1Sum = await fileSha256(disk());
    await runJob(SyncResult, ['sync'], ctx.env);

    const digest = basename(chunkFiles(join(ctx.deployment.dataDir, 'storage-a', 'datastore'))[0] ?? '');
    assert.match(digest, /^[0-9a-f]{64}$/);
    const range: AffectedRange = { backupId: b1, vm: 'vm1', disk: 'disk0', offsetBytes: MIB, lengthBytes: MIB };
    const repairId = newId();
    const repair: RepairRecord = {
      repairId,
      site: 'a',
      object: 'chunk',
      digest,
      backupId: null,
      disk: null,
      problem: 'crc mismatch',
      trigger: 'scrub',
      peer: 'b',
      bytes: MIB,
      at: new Date().toISOString(),
      affected: [range],
    };
    await publish({ ...from(repairId), type: 'repair', repair });
    const [shown] = await waitFor('the repair to be listed', async () => {
      const repairs = await cli<RepairJson[]>(['repairs']);
      return repairs.length > 0 ? repairs : undefined;
    });
    assert.deepEqual(
      shown && { repairId: shown.repairId, site: shown.site, object: shown.object, digest: shown.digest, peer: shown.peer, trigger: shown.trigger, bytes: shown.bytes, affected: shown.affected },
      { repairId, site: 'a', object: 'chunk', digest, peer: 'b', trigger: 'scrub', bytes: MIB, affected: [range] },
    );
    const table = await runCli(['repairs'], ctx.env);
    assert.equal(table.code, 0);
    for (const text of ['scrub', 'crc mismatch', `${digest.slice(0, 16)}…`, 'vm1/disk0 (1 backup)', '1.0 MiB']) {
      assert.ok(table.stdout.includes(text), `the table shows ${text}:\n${table.stdout}`);
    }
    // The same repair re-sent under a new event id (a storage retrying after a crash) is recorded once.
    await publish({ ...from(), type: 'repair', repair });

    const alertId = newId();
    const alert: DamageAlert = {
      alertId,
      site: 'a',
      object: 'chunk',
      digest,
      backupId: null,
      disk: null,
      problem: 'crc mismatch',
      peersTried: [{ site: 'b', error: 'chunk damaged there too' }],
      raisedAt: new Date().toISOString(),
      affected: [range],
      message: `vm1/disk0 bytes ${MIB}-${2 * MIB - 1} of backup ${b1} cannot be restored from site a`,
    };
    await publish({ ...from(), type: 'alert.raised', alert });
    await waitFor('the alert to be open', async () => ((await cli<AlertJson[]>(['alerts'])).some((a) => a.alertId === alertId) ? true : undefined));
    // Independent reads, in parallel: each CLI run is a process start.
    const [repairsNow, otherVm, atB, recent, copies, status, plain, alertsTable] = await Promise.all([
      cli<RepairJson[]>(['repairs']),
      cli<RepairJson[]>(['repairs', '--vm', 'other']),
      cli<RepairJson[]>(['repairs', '--site', 'b']),
      cli<RepairJson[]>(['repairs', '--since', '1h', '--vm', 'vm1', '--site', 'a']),
      cli<BackupJson[]>(['backups', '--vm', 'vm1']),
      statusJson(5),
      runCli(['status'], ctx.env),
      runCli(['alerts'], ctx.env),
    ]);
    assert.equal(repairsNow.length, 1, 'the re-sent repair was recorded once');
    assert.equal(otherVm.length, 0);
    assert.equal(atB.length, 0);
    assert.equal(recent.length, 1);
    assert.deepEqual(copies.map((c) => `${c.site}:${c.state}`).sort(), ['a:damaged', 'b:ok']);
    assert.deepEqual(status.openAlerts.map((a) => a.alertId), [alertId]);
    assert.deepEqual(status.vms.find((v) => v.name === 'vm1')?.newest.map((c) => `${c.site}:${c.backupId}:${c.state}`), [`a:${b1}:damaged`, `b:${b1}:ok`]);
    assert.ok(status.workers.every((w) => w.state === 'online'));
    assert.equal(plain.code, 5, 'status exits 5 while an alert is open');
    for (const text of ['Open alerts: 1', alertId, `vm1/disk0 bytes ${MIB}-${2 * MIB - 1} (1 backup)`, 'storage online', 'agent-1 online']) {
      assert.ok(plain.stdout.includes(text), `status shows ${text}:\n${plain.stdout}`);
    }
    assert.ok(alertsTable.stdout.includes('peers tried: b: chunk damaged there too'), alertsTable.stdout);

    await publish({ ...from(), type: 'alert.resolved', alertId, reason: 'repaired from b' });
    await waitFor('the alert to be resolved', async () => ((await cli<AlertJson[]>(['alerts'])).length === 0 ? true : undefined));
    const [all, okCopies, after] = await Promise.all([
      cli<AlertJson[]>(['alerts', '--all']),
      cli<BackupJson[]>(['backups', '--vm', 'vm1']),
      runCli(['status'], ctx.env),
    ]);
    assert.deepEqual(all.map((a) => `${a.alertId}:${a.state}:${a.resolution}`), [`${alertId}:resolved:repaired from b`]);
    assert.deepEqual(okCopies.map((c) => `${c.site}:${c.state}`).sort(), ['a:ok', 'b:ok']);
    assert.equal(after.code, 0, after.stderr);
    assert.ok(after.stdout.includes('Open alerts: none'), after.stdout);
    assert.ok(!after.stdout.includes(alertId), 'a resolved alert is no longer shown');

    // A resolution that overtakes its alert: the alert ends resolved and the copy ok.
    const early = newId();
    await publish({ ...from(), type: 'alert.resolved', alertId: early, reason: 'chunk re-sent by a backup' });
    await publish({ ...from(), type: 'alert.raised', alert: { ...alert, alertId: early, raisedAt: new Date(Date.now() - 1000).toISOString() } });
    await waitFor('the early-resolved alert to arrive', async () =>
      (await cli<AlertJson[]>(['alerts', '--all'])).some((a) => a.alertId === early && a.state === 'resolved') ? true : undefined,
    );
    const [open, finalCopies] = await Promise.all([cli<AlertJson[]>(['alerts']), cli<BackupJson[]>(['backups', '--vm', 'vm1'])]);
    assert.deepEqual(open, []);
    assert.deepEqual(finalCopies.map((c) => `${c.site}:${c.state}`).sort(), ['a:ok', 'b:ok']);

    await restoresExactly(b1, 'a', b1Sum);
    await restoresExactly(b1, 'b', b1Sum);
  });

  it('reports lag after a new backup at the primary and none after a sync', async () => {
    await mutateDemoDisk(disk(), 0.05, 'lag');
    const inc = await runJob(BackupResult, ['backup', 'vm1'], ctx.env);
    const sum = await fileSha256(disk());
    const behind = await cli<ReplicationJson>(['replication']);
    const [pair] = behind.pairs;
    assert.equal(`${pair?.fromSite}>${pair?.toSite}`, 'a>b');
    const lag = pair?.vms.find((v) => v.vm === 'vm1');
    assert.ok(lag && lag.lagMs > 0, `lag after a new backup: ${JSON.stringify(lag)}`);
    assert.equal(lag.notYetReplicated, 1);
    assert.equal(lag.newestAtPrimaryId, inc.backup.backupId);
    assert.notEqual(lag.newestAtReplicaId, inc.backup.backupId);
    const table = await runCli(['replication'], ctx.env);
    assert.equal(table.code, 0, table.stderr);
    for (const text of ['a → b', 'pull, on demand', 'NOT YET REPLICATED', 'vm1']) assert.ok(table.stdout.includes(text), `${text}:\n${table.stdout}`);

    const sync = await runJob(SyncResult, ['sync'], ctx.env);
    assert.deepEqual(sync.copied.map((b) => b.backupId), [inc.backup.backupId]);
    const caughtUp = await cli<ReplicationJson>(['replication']);
    const now = caughtUp.pairs[0]?.vms.find((v) => v.vm === 'vm1');
    assert.equal(now?.lagMs, 0);
    assert.equal(now?.notYetReplicated, 0);
    assert.equal(now?.newestAtReplicaId, inc.backup.backupId);
    assert.ok((now?.dataAgeAtReplicaMs ?? -1) >= 0);
    assert.equal(caughtUp.pairs[0]?.lastSync?.state, 'succeeded');
    const status = await statusJson(0);
    assert.equal(status.replication[0]?.vms.find((v) => v.vm === 'vm1')?.lagMs, 0);

    await restoresExactly(inc.backup.backupId, 'b', sum);
  });

  it('syncs by itself on the interval set in the controller config', async () => {
    const controller = ctx.deployment.processes.get('controller');
    assert.ok(controller);
    const configFile = join(ctx.deployment.dataDir, 'controller', 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { replication: Record<string, unknown>[] };
    config.replication = [{ from: 'a', to: 'b', intervalMs: 1500 }];
    await controller.stop();
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    await controller.start();

    const syncsBefore = (await cli<{ kind: string }[]>(['jobs', '--limit', '1000'])).filter((j) => j.kind === 'sync').length;
    await mutateDemoDisk(disk(), 0.05, 'interval');
    const inc = await runJob(BackupResult, ['backup', 'vm1'], ctx.env);
    const sum = await fileSha256(disk());
    const pair = await waitFor(
      'a scheduled sync to copy the new backup',
      async () => {
        const { pairs } = await cli<ReplicationJson>(['replication']);
        const vm = pairs[0]?.vms.find((v) => v.vm === 'vm1');
        return vm?.newestAtReplicaId === inc.backup.backupId && vm.lagMs === 0 ? pairs[0] : undefined;
      },
      60_000,
      500,
    );
    assert.equal(pair.intervalMs, 1500);
    const syncs = (await cli<{ kind: string; state: string }[]>(['jobs', '--limit', '1000'])).filter((j) => j.kind === 'sync');
    assert.ok(syncs.length > syncsBefore, 'the controller created sync jobs by itself');
    assert.ok(
      syncs.filter((j) => j.state === 'queued' || j.state === 'running').length <= 1,
      'never more than one unfinished sync of the pair',
    );
    const table = await runCli(['replication'], ctx.env);
    assert.ok(table.stdout.includes('every 1s'), table.stdout);

    await restoresExactly(inc.backup.backupId, 'b', sum);
  });
});
