/**
 * RPO watch and webhooks with real processes: the embedded deployment (nats-server, controller,
 * storages a and b, an agent) with the controller checking RPOs every 500 ms and POSTing events
 * to an HTTP receiver this test runs on 127.0.0.1, which answers the first two POSTs with 500.
 *
 * A policy with a 1 min RPO covers a VM that has no backup: it is breached at its storage site a
 * and its replica b, `bulwark status` and `bulwark rpo` say so (exit 5), and the receiver gets
 * `rpo.breached` for both after the retries, each event acknowledged once, signed. A backup makes
 * a ok (`rpo.resolved`) while b stays breached until a `bulwark sync`. Then the outbox survives a
 * controller restart: with the receiver down a new breach is raised, the controller restarts,
 * the receiver comes back and gets it. The backup is restored byte for byte at the end.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ControllerApi } from '../../controller/cli/controller-api.js';
import { verifyWebhookSignature } from '../../controller/notify/webhook-signature.js';
import { BackupResult, RestoreResult, SyncResult } from '../../shared/messages/results.js';
import { runCli } from '../helpers/cli.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

const SECRET = 'webhook-secret-for-the-test-0123456789';

interface Received {
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
  readonly event: { id: string; type: string; time: string; alert: { vm: string; site: string; raisedAt: string; alertId: string } };
}

/** An HTTP receiver that fails the first `failFirst` POSTs with 500 and records every one. */
class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  private posts = 0;

  constructor(private readonly failFirst: number) {}

  async start(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        const status = ++this.posts <= this.failFirst ? 500 : 204;
        this.received.push({ body, headers: req.headers, status, event: JSON.parse(body) as Received['event'] });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Events the receiver acknowledged (2xx), by type and site. */
  acked(type: string, site?: string): Received[] {
    return this.received.filter((r) => r.status < 300 && r.event.type === type && (site === undefined || r.event.alert.site === site));
  }
}

interface RpoView {
  vm: string;
  site: string;
  policy: string;
  rpoMs: number;
  ageMs: number | null;
  state: string;
  alertId: string;
}

describe('RPO watch and webhooks', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;
  const receiver = new Receiver(2);
  let port = 0;

  before(async () => {
    port = await receiver.start();
    ctx = await startTestDeployment(
      [
        { name: 'vm1', disks: [{ name: 'disk0', sizeMib: 8 }] },
        { name: 'vm2', disks: [{ name: 'disk0', sizeMib: 1 }] },
      ],
      'files',
    );
    // The controller of the embedded deployment, reconfigured: fast RPO checks and the webhook.
    const secretFile = join(ctx.deployment.dataDir, 'webhook.secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const configFile = join(ctx.deployment.dataDir, 'controller', 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    config.rpo = { checkIntervalMs: 500 };
    config.webhooks = [{ url: `http://127.0.0.1:${port}/bulwark`, secretFile, timeoutMs: 2000, initialBackoffMs: 300, maxBackoffMs: 1000 }];
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    await restartController();
  });
  after(async () => {
    await ctx?.cleanup();
    await receiver.stop();
  });

  let metricsAddress = '';

  async function restartController(): Promise<void> {
    const controller = ctx.deployment.processes.get('controller');
    assert.ok(controller);
    await controller.stop();
    metricsAddress = String((JSON.parse(await controller.start()) as { metricsAddress: string }).metricsAddress);
  }

  async function metrics(): Promise<string> {
    const res = await fetch(`http://${metricsAddress}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  }

  async function rpo(): Promise<{ code: number | null; entries: RpoView[] }> {
    const res = await runCli(['rpo', '--json'], ctx.env);
    assert.ok(res.code === 0 || res.code === 5, `bulwark rpo exited ${res.code}: ${res.stderr}`);
    return { code: res.code, entries: (JSON.parse(res.stdout) as { entries: RpoView[] }).entries };
  }

  /** The API's RPO entries (polled directly: a CLI process per poll is slow on a busy machine). */
  async function rpoEntries(): Promise<RpoView[]> {
    const api = new ControllerApi({ address: ctx.deployment.controllerAddress, source: 'test', token: ctx.deployment.adminToken });
    try {
      return (await api.listRpo({})).entries.map((e) => ({ ...e, ageMs: e.ageMs ?? null }));
    } finally {
      api.close();
    }
  }

  /** Waits until the watch shows these states of vm1 per site (and each breach has its alert). */
  async function waitForStates(want: Record<string, string>): Promise<RpoView[]> {
    return waitFor(`RPO states ${JSON.stringify(want)}`, async () => {
      const entries = await rpoEntries().catch(() => []);
      const got = Object.fromEntries(entries.filter((e) => e.vm === 'vm1').map((e) => [e.site, e.state]));
      const alerted = entries.filter((e) => e.vm === 'vm1').every((e) => e.state === 'ok' || e.alertId !== '');
      return JSON.stringify(got) === JSON.stringify(want) && alerted ? entries : undefined;
    }, 30_000, 200);
  }

  it('watches the storage site and the replica, alerts through the webhook, and resolves per site', async () => {
    const { env, deployment } = ctx;
    const create = await runCli(['policy', 'create', 'rpo-test', '--schedule', '0 0 1 1 *', '--disabled', '--rpo', '1m', '--vm', 'vm1', '--replica', 'b'], env);
    assert.equal(create.code, 0, create.stderr);

    // No backup yet: breached at a and b, age unknown.
    const breached = await waitForStates({ a: 'breached', b: 'breached' });
    for (const e of breached) {
      assert.equal(e.ageMs, null);
      assert.equal(e.rpoMs, 60_000);
      assert.equal(e.policy, 'rpo-test');
    }
    const cli = await rpo();
    assert.equal(cli.code, 5, 'bulwark rpo exits 5 when something is breached');
    assert.deepEqual(cli.entries.map((e) => `${e.vm}@${e.site} ${e.state} ${e.ageMs}`), ['vm1@a breached null', 'vm1@b breached null']);
    const scrape = await metrics();
    assert.match(scrape, /^bulwark_rpo_breached_pairs 2$/m);
    assert.match(scrape, /^bulwark_rpo_age_seconds\{vm="vm1",site="b"\} \+Inf$/m);
    assert.match(scrape, /^bulwark_rpo_target_seconds\{vm="vm1",site="a"\} 60$/m);

    const status = await runCli(['status'], env);
    assert.equal(status.code, 5, `status exits 5 when something needs attention: ${status.stderr}`);
    assert.match(status.stdout, /NEEDS ATTENTION: RPO breached for 2 VM\/site pairs/);
    assert.match(status.stdout, /RPO: 2 watched, 0 ok, 2 BREACHED/);
    assert.match(status.stdout, /vm1\s.*\sa\s.*no backup yet.*BREACHED/);
    const statusJson = await runCli(['status', '--json'], env);
    assert.equal(statusJson.code, 5);
    const parsed = JSON.parse(statusJson.stdout) as { rpo: RpoView[]; needsAttention: string[] };
    assert.deepEqual(parsed.rpo.map((e) => `${e.vm}@${e.site} ${e.state}`), ['vm1@a breached', 'vm1@b breached']);
    assert.equal(parsed.needsAttention.length, 1);

    // The receiver failed the first two POSTs; each breach arrives, acknowledged once, signed.
    await waitFor('rpo.breached delivered for a and b', () => (receiver.acked('rpo.breached').length >= 2 ? true : undefined), 30_000, 100);
    assert.deepEqual(receiver.received.slice(0, 2).map((r) => r.status), [500, 500]);
    const ids = receiver.acked('rpo.breached').map((r) => r.event.id);
    assert.equal(new Set(ids).size, ids.length, 'each event id acknowledged once');
    assert.deepEqual(receiver.acked('rpo.breached').map((r) => r.event.alert.site).sort(), ['a', 'b']);
    for (const r of receiver.received) {
      assert.ok(verifyWebhookSignature(SECRET, r.body, r.headers['x-bulwark-signature'] as string | undefined), 'signature valid');
      assert.equal(r.headers['x-bulwark-event-id'], r.event.id);
      assert.equal(r.headers['content-type'], 'application/json');
    }
    const retried = receiver.received.filter((r) => r.event.id === receiver.received[0]?.event.id);
    assert.ok(retried.length >= 2, 'the first event was retried after its 500');
    assert.ok(retried.every((r) => r.body === retried[0]?.body), 'a retry sends the same bytes');

    // A backup makes a ok; b stays breached until the copy is synced there.
    const backup = await runJob(BackupResult, ['backup', 'vm1', '--mode', 'full'], env);
    const source = await fileSha256(join(deployment.dataDir, 'vms', 'vm1', 'disk0.img'));
    await waitForStates({ a: 'ok', b: 'breached' });
    assert.match(await metrics(), /^bulwark_rpo_breached_pairs 1$/m);
    await waitFor('rpo.resolved delivered for a', () => (receiver.acked('rpo.resolved', 'a').length === 1 ? true : undefined), 30_000, 100);
    assert.equal(receiver.acked('rpo.resolved', 'b').length, 0);
    const rpoB = await runCli(['rpo', '--site', 'b', '--breached'], env);
    assert.equal(rpoB.code, 5);
    assert.match(rpoB.stdout, /vm1\s.*\sb\s.*BREACHED/);
    assert.doesNotMatch(rpoB.stdout, /\sa\s.*BREACHED/);

    const sync = await runJob(SyncResult, ['sync'], env);
    assert.equal(sync.copied.length, 1);
    await waitForStates({ a: 'ok', b: 'ok' });
    await waitFor('rpo.resolved delivered for b', () => (receiver.acked('rpo.resolved', 'b').length === 1 ? true : undefined), 30_000, 100);

    // The outbox survives a controller restart: the receiver is down when a breach is raised.
    await receiver.stop();
    const seenBefore = receiver.received.length;
    const second = await runCli(['policy', 'create', 'rpo-vm2', '--schedule', '0 0 1 1 *', '--disabled', '--rpo', '1m', '--vm', 'vm2'], env);
    assert.equal(second.code, 0, second.stderr);
    const vm2 = await waitFor('the breach of vm2 raised', async () => (await rpoEntries()).find((e) => e.vm === 'vm2' && e.alertId !== ''), 30_000, 200);
    const restartAt = new Date().toISOString();
    await restartController();
    await receiver.start(port);
    const ofVm2 = () => receiver.acked('rpo.breached').filter((r) => r.event.alert.vm === 'vm2');
    const delivered = await waitFor('rpo.breached of vm2 delivered after the restart', () => ofVm2()[0], 30_000, 100);
    assert.equal(delivered.event.alert.alertId, vm2.alertId, 'the alert raised before the restart');
    assert.ok(delivered.event.alert.raisedAt < restartAt, 'queued before the restart, delivered after it');
    assert.ok(receiver.received.length > seenBefore);
    assert.equal(ofVm2().length, 1);

    // Every acknowledged event id once, over the whole run.
    const allAcked = receiver.received.filter((r) => r.status < 300).map((r) => r.event.id);
    assert.equal(new Set(allAcked).size, allAcked.length, 'no event acknowledged twice');

    const target = join(deployment.dataDir, 'restore');
    await runJob(RestoreResult, ['restore', backup.backup.backupId, '--to', target, '--site', 'b', '--worker', 'agent-1'], env);
    assert.equal(await fileSha256(join(target, 'disk0.img')), source, 'the backup restores from b byte for byte');
  });
});
