/**
 * Damage alerts reach the webhook outbox: the event applier, wired as the controller wires it,
 * queues `alert.raised` and `alert.resolved` in the transaction that records them, once each
 * (a replayed event queues nothing), in either order of arrival, with stable ids.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { DamageAlert, WorkerEvent } from '../../shared/messages/events.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { EventApplier } from '../jobs/event-applier.js';
import { JobChangeFeed } from '../jobs/job-change-feed.js';
import { WebhookConfig } from './webhook-config.js';
import { WebhookOutbox, damageAlertEvent, type WebhookEvent } from './webhook-outbox.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-alert-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  const clock = new ManualClock();
  const outbox = new WebhookOutbox({
    catalog,
    clock,
    timer: { after: () => () => undefined },
    sender: { post: () => Promise.resolve(200) },
    hooks: [WebhookConfig.parse({ url: 'http://127.0.0.1:9/hook' })],
    log: silentLogger(),
  });
  const applier = new EventApplier({
    catalog,
    changes: new JobChangeFeed(),
    clock,
    log: silentLogger(),
    onDamageAlert: (type, alert) => outbox.publish(damageAlertEvent(type, alert)),
  });
  const queued = () =>
    catalog
      .listWebhooks({ pendingOnly: true, limit: 100 })
      .map((r) => JSON.parse(r.body) as WebhookEvent)
      .sort((a, b) => a.id.localeCompare(b.id));
  return { catalog, applier, queued };
}

const damage: DamageAlert = {
  alertId: 'AL1',
  site: 'a',
  object: 'chunk',
  digest: 'ab'.repeat(32),
  backupId: null,
  disk: null,
  problem: 'crc mismatch',
  peersTried: [{ site: 'b', error: 'chunk missing' }],
  raisedAt: '2026-01-01T00:01:00.000Z',
  affected: [{ backupId: 'B1', vm: 'vm1', disk: 'disk0', offsetBytes: 0, lengthBytes: 1 << 20 }],
  message: 'vm1/disk0 bytes 0-1048575 cannot be restored from site a',
};
const raised: WorkerEvent = { eventId: 'E1', site: 'a', worker: 'storage', at: damage.raisedAt, type: 'alert.raised', alert: damage };
const resolved: WorkerEvent = {
  eventId: 'E2',
  site: 'a',
  worker: 'storage',
  at: '2026-01-01T00:05:00.000Z',
  type: 'alert.resolved',
  alertId: 'AL1',
  reason: 'repaired from b',
};

describe('damage alerts to webhooks', () => {
  it('queues alert.raised then alert.resolved, once each', () => {
    const { applier, queued } = setup();
    assert.equal(applier.apply(raised), true);
    assert.equal(applier.apply(raised), false);
    assert.deepEqual(queued().map((e) => `${e.id} ${e.type} ${e.time}`), ['AL1.raised alert.raised 2026-01-01T00:01:00.000Z']);
    assert.equal((queued()[0]?.alert as { message: string }).message, damage.message);
    applier.apply(resolved);
    applier.apply(resolved);
    assert.deepEqual(queued().map((e) => `${e.id} ${e.type} ${e.time}`), [
      'AL1.raised alert.raised 2026-01-01T00:01:00.000Z',
      'AL1.resolved alert.resolved 2026-01-01T00:05:00.000Z',
    ]);
    assert.equal((queued()[1]?.alert as { resolution: string }).resolution, 'repaired from b');
  });

  it('queues both when the resolution arrives before the alert', () => {
    const { applier, queued } = setup();
    applier.apply(resolved);
    assert.deepEqual(queued(), [], 'nothing to say about an alert not raised yet');
    applier.apply(raised);
    assert.deepEqual(queued().map((e) => e.type), ['alert.raised', 'alert.resolved']);
  });

  it('queues nothing when recording the event fails: the outbox rows roll back with it', () => {
    const { catalog, applier, queued } = setup();
    assert.throws(() =>
      catalog.transaction(() => {
        applier.apply(raised);
        throw new Error('crash after the alert was recorded');
      }),
    );
    assert.deepEqual(queued(), []);
    assert.equal(catalog.getAlert('AL1'), undefined);
  });
});
