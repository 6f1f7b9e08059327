import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { WorkerEvent } from '../../shared/messages/events.js';
import { RepairJournal } from './repair-journal.js';

const log = silentLogger();
const record = (digest: string) =>
  ({ object: 'chunk', digest, backupId: null, disk: null, problem: 'missing', trigger: 'read', peer: 'b', bytes: 10 }) as const;

describe('repair journal', () => {
  let root: string;
  const clock = new ManualClock();
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-journal-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function open(dir: string, sink?: WorkerEvent[], failing = false): Promise<RepairJournal> {
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const journal = new RepairJournal({
      dir: join(dir, 'repair'),
      tmpDir: join(dir, 'tmp'),
      site: 'a',
      worker: 'storage',
      sink: sink
        ? {
            publish: (e) => {
              if (failing) return Promise.reject(new Error('NATS is down'));
              sink.push(e);
              return Promise.resolve();
            },
          }
        : undefined,
      clock,
      log,
      resolveRanges: (hexes) => Promise.resolve(new Map([...hexes].map((h) => [h, [{ backupId: 'B', vm: 'vm', disk: 'd', offsetBytes: 0, lengthBytes: 5 }]]))),
      batchDelayMs: 0,
    });
    await journal.open();
    return journal;
  }

  it('records a repair once whatever instant a crash hits: intents become records only when the write happened', async () => {
    const dir = join(root, 'crash');
    const first = await open(dir);
    const crash = new Error('killed');
    // A crash during the write: the intent stays behind.
    await assert.rejects(first.recordRepair(record('aa'.repeat(32)), () => Promise.reject(crash)), crash);
    await assert.rejects(first.recordRepair(record('bb'.repeat(32)), () => Promise.reject(crash)), crash);
    first.close();
    const events: WorkerEvent[] = [];
    const second = await open(dir, events);
    // The write of aa... happened before the crash, bb's did not.
    const promoted = await second.recoverIntents((r) => Promise.resolve(r.digest === 'aa'.repeat(32)));
    assert.equal(promoted, 1);
    assert.ok(await second.drain());
    const repairs = events.flatMap((e) => (e.type === 'repair' ? [e.repair] : []));
    assert.deepEqual(repairs.map((r) => r.digest), ['aa'.repeat(32)]);
    assert.equal(repairs[0]?.affected.length, 1, 'ranges filled in at the flush');
    assert.deepEqual(await readdir(join(dir, 'repair', 'outbox')), []);
    second.close();
  });

  it('keeps events while the sink fails and publishes them, in order, once it works', async () => {
    const dir = join(root, 'outbox');
    const events: WorkerEvent[] = [];
    const down = await open(dir, events, true);
    await down.recordRepair(record('cc'.repeat(32)), () => Promise.resolve());
    const alert = await down.raise({ object: 'chunk', digest: 'dd'.repeat(32), backupId: null, disk: null, problem: 'missing', peersTried: [], affected: [], message: 'm' });
    assert.equal((await down.raise({ object: 'chunk', digest: 'dd'.repeat(32), backupId: null, disk: null, problem: 'x', peersTried: [], affected: [], message: 'm' })).alertId, alert.alertId, 'one open alert per object');
    await down.resolve({ object: 'chunk', digest: 'dd'.repeat(32) }, 'the chunk is sound again');
    assert.equal(await down.drain(300), false);
    assert.equal(events.length, 0);
    down.close();
    const up = await open(dir, events);
    assert.ok(await up.drain());
    assert.deepEqual(events.map((e) => e.type), ['repair', 'alert.raised', 'alert.resolved']);
    up.close();
  });

  it('reopens its open alerts, and survives a damaged alerts file', async () => {
    const dir = join(root, 'alerts');
    const first = await open(dir);
    await first.raise({ object: 'index', digest: null, backupId: 'B1', disk: 'd', problem: 'missing', peersTried: [], affected: [{ backupId: 'B1', vm: 'vm', disk: 'd', offsetBytes: 0, lengthBytes: 9 }], message: 'm' });
    first.close();
    const again = await open(dir);
    assert.equal(again.openAlerts().length, 1);
    assert.match(again.damageOf('B1') ?? '', /unrecoverable: index of disk d: missing/);
    assert.equal(again.damageOf('B2'), null);
    again.close();
    await writeFile(join(dir, 'repair', 'alerts.json'), '{"damaged":');
    const damaged = await open(dir);
    assert.equal(damaged.openAlerts().length, 0);
    damaged.close();
  });
});
