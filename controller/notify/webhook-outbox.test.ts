/**
 * The webhook outbox on a real SQLite catalog with a manual clock and a scripted sender: capped
 * exponential backoff, retry of non-2xx answers and errors, one acknowledged delivery per event
 * and URL, a signature the receiver can check, event filters, a receiver that is down getting one
 * request per backoff step, and rows that survive a restart (a new outbox on the same file).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { WebhookConfig, type WebhookTarget } from './webhook-config.js';
import { WebhookOutbox, webhookBackoffMs, type WebhookEvent } from './webhook-outbox.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from './webhook-signature.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const URL_A = 'http://127.0.0.1:9/a';
const URL_B = 'https://hooks.example/b';

interface Post {
  url: string;
  body: string;
  headers: Readonly<Record<string, string>>;
  atMs: number;
}

function setup(hooks: Partial<WebhookTarget>[] = [{ url: URL_A }], path = join(dir, `c${++n}.db`)) {
  const catalog = SqliteCatalog.open(path);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const posts: Post[] = [];
  /** What the receiver answers next, per URL: a status, or an Error to throw; then 200. */
  const script = new Map<string, (number | Error)[]>();
  const timers: { delayMs: number; fn: () => void; cancelled: boolean }[] = [];
  const make = () =>
    new WebhookOutbox({
      catalog,
      clock,
      timer: {
        after: (delayMs, fn) => {
          const t = { delayMs, fn, cancelled: false };
          timers.push(t);
          return () => (t.cancelled = true);
        },
      },
      sender: {
        post: (url, body, headers) => {
          posts.push({ url, body, headers, atMs: clock.nowMs() });
          const next = script.get(url)?.shift() ?? 200;
          return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
        },
      },
      hooks: hooks.map((h) => ({ ...WebhookConfig.parse({ url: h.url ?? URL_A, ...(h.events ? { events: h.events } : {}) }), ...h })),
      log: silentLogger(),
    });
  return { catalog, clock, posts, script, timers, outbox: make(), make, path };
}

const idOf = (p: Post): string => (JSON.parse(p.body) as WebhookEvent).id;

const event = (id: string, type: WebhookEvent['type'] = 'rpo.breached'): WebhookEvent => ({
  id,
  type,
  time: '2026-01-01T00:00:00.000Z',
  alert: { vm: 'vm1', site: 'a' },
});

describe('webhook outbox', () => {
  it('backs off exponentially from the initial wait, capped at the maximum', () => {
    const waits = [1, 2, 3, 4, 5, 8, 9, 10, 100].map((a) => webhookBackoffMs(a, 1000, 300_000));
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16_000, 128_000, 256_000, 300_000, 300_000]);
    assert.equal(webhookBackoffMs(5000, 1000, 300_000), 300_000);
  });

  it('retries non-2xx answers and errors at 1 s, 2 s, ... and delivers each event once', async () => {
    const { catalog, clock, posts, script, outbox } = setup([{ url: URL_A, secret: 's3cret' }]);
    script.set(URL_A, [500, new Error('ECONNREFUSED'), 302]);
    catalog.transaction(() => outbox.publish(event('E1')));
    const row = () => catalog.listWebhooks({ pendingOnly: false, limit: 10 })[0];

    await outbox.deliverDue();
    assert.equal(posts.length, 1);
    assert.equal(row()?.attempts, 1);
    assert.equal(row()?.lastError, 'HTTP 500');
    assert.equal(Date.parse(row()?.nextAttemptAt ?? '') - clock.nowMs(), 1000);

    // Not due yet: nothing is sent.
    clock.advance(999);
    await outbox.deliverDue();
    assert.equal(posts.length, 1);
    clock.advance(1);
    await outbox.deliverDue();
    assert.equal(posts.length, 2);
    assert.equal(row()?.lastError, 'ECONNREFUSED');
    assert.equal(Date.parse(row()?.nextAttemptAt ?? '') - clock.nowMs(), 2000);

    clock.advance(2000);
    await outbox.deliverDue();
    assert.equal(row()?.lastError, 'HTTP 302', 'a redirect is not an acknowledgement');
    assert.equal(Date.parse(row()?.nextAttemptAt ?? '') - clock.nowMs(), 4000);

    clock.advance(4000);
    await outbox.deliverDue();
    assert.equal(posts.length, 4);
    assert.equal(row()?.deliveredAt, clock.nowIso());
    assert.equal(row()?.attempts, 4);
    clock.advance(3_600_000);
    await outbox.deliverDue();
    assert.equal(posts.length, 4, 'an acknowledged event is not sent again');

    const last = posts[3];
    assert.ok(last);
    assert.deepEqual(JSON.parse(last.body), event('E1'));
    assert.equal(last.headers['X-Bulwark-Event-Id'], 'E1');
    assert.equal(last.headers['X-Bulwark-Delivery-Attempt'], '4');
    assert.ok(verifyWebhookSignature('s3cret', last.body, last.headers[SIGNATURE_HEADER]));
    assert.ok(!verifyWebhookSignature('other', last.body, last.headers[SIGNATURE_HEADER]));
    assert.ok(posts.every((p) => p.body === last.body), 'every attempt sends the same bytes');
  });

  it('caps the wait at maxBackoffMs for a receiver down for long', async () => {
    const { catalog, clock, posts, script, outbox } = setup([{ url: URL_A, initialBackoffMs: 1000, maxBackoffMs: 5000 }]);
    script.set(URL_A, Array.from({ length: 8 }, () => 503));
    outbox.publish(event('E1'));
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      await outbox.deliverDue();
      const next = Date.parse(catalog.listWebhooks({ pendingOnly: true, limit: 1 })[0]?.nextAttemptAt ?? '');
      gaps.push(next - clock.nowMs());
      clock.advance(next - clock.nowMs());
    }
    assert.deepEqual(gaps, [1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
    await outbox.deliverDue();
    assert.equal(posts.length, 9);
    assert.equal(catalog.listWebhooks({ pendingOnly: true, limit: 1 }).length, 0);
  });

  it('sends a down receiver one request per backoff step, not one per queued event; other URLs go on', async () => {
    const { clock, posts, script, outbox } = setup([{ url: URL_A }, { url: URL_B }]);
    script.set(URL_A, [500]);
    for (const id of ['E1', 'E2', 'E3']) outbox.publish(event(id));
    await outbox.deliverDue();
    assert.deepEqual(posts.map((p) => `${p.url === URL_A ? 'A' : 'B'} ${idOf(p)}`), ['A E1', 'B E1', 'B E2', 'B E3']);
    // E2 and E3 are due for A, but A is left alone until E1's next attempt.
    clock.advance(500);
    await outbox.deliverDue();
    assert.equal(posts.length, 4);
    clock.advance(500);
    await outbox.deliverDue();
    assert.deepEqual(posts.slice(4).map((p) => idOf(p)).sort(), ['E1', 'E2', 'E3']);
  });

  it('queues an event only for the webhooks whose events include its type', async () => {
    const { posts, outbox, catalog } = setup([{ url: URL_A, events: ['rpo.breached', 'rpo.resolved'] }, { url: URL_B }]);
    outbox.publish(event('E1', 'alert.raised'));
    outbox.publish(event('E2', 'rpo.resolved'));
    outbox.publish(event('E2', 'rpo.resolved'));
    assert.equal(catalog.listWebhooks({ pendingOnly: true, limit: 10 }).length, 3, 'the same event id is queued once per URL');
    await outbox.deliverDue();
    assert.deepEqual(posts.map((p) => `${p.url === URL_A ? 'A' : 'B'} ${p.headers['X-Bulwark-Event']}`).sort(), ['A rpo.resolved', 'B alert.raised', 'B rpo.resolved']);
  });

  it('keeps queued events across a restart: a new outbox on the same catalog delivers them', async () => {
    const first = setup([{ url: URL_A }]);
    first.script.set(URL_A, [500]);
    first.outbox.publish(event('E1'));
    first.outbox.publish(event('E2'));
    await first.outbox.deliverDue();
    await first.outbox.stop();
    first.catalog.close();

    const second = setup([{ url: URL_A }], first.path);
    // What the first run's backoff set still holds: E1 is due in 1 s, E2 now.
    await second.outbox.deliverDue();
    assert.deepEqual(second.posts.map((p) => idOf(p)), ['E2']);
    second.clock.advance(1000);
    await second.outbox.deliverDue();
    assert.deepEqual(second.posts.map((p) => idOf(p)), ['E2', 'E1']);
    assert.equal(second.catalog.listWebhooks({ pendingOnly: true, limit: 10 }).length, 0);
  });

  it('runs passes on its timer: at start, then when the next row is due', async () => {
    const { script, timers, outbox, posts } = setup([{ url: URL_A }]);
    script.set(URL_A, [500]);
    outbox.start();
    outbox.publish(event('E1'));
    const armed = () => timers.filter((t) => !t.cancelled);
    assert.equal(armed().length, 1);
    assert.equal(armed()[0]?.delayMs, 0);
    const fire = async () => {
      const t = armed().at(-1);
      assert.ok(t);
      t.cancelled = true;
      t.fn();
      // Let the pass and its re-arm run.
      for (let i = 0; i < 20 && armed().length === 0; i++) await new Promise((r) => setImmediate(r));
    };
    await fire();
    assert.equal(posts.length, 1);
    assert.equal(armed().at(-1)?.delayMs, 1000, 'the next pass when the failed row is due');
    await outbox.stop();
    assert.equal(armed().length, 0);
  });

  it('refuses a URL that is not http or https, and a bad event name, naming the field', () => {
    assert.throws(() => WebhookConfig.parse({ url: 'ftp://x/y' }), /http:\/\/ or https:\/\//);
    assert.throws(() => WebhookConfig.parse({ url: 'http://x/y', events: ['rpo.broken'] }), /must be one of/);
    assert.throws(() => WebhookConfig.parse({ url: 'http://x/y', initialBackoffMs: 5000, maxBackoffMs: 1000 }), /at least initialBackoffMs/);
  });
});
