/**
 * `bulwark status`'s reader on a real SQLite catalog: what needs attention (RPO breaches, open
 * damage alerts, offline workers; not failed jobs), and the RPO entries passed through.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import type { RpoEntry } from '../policies/rpo-watch.js';
import { DeploymentStatusReader } from './deployment-status.js';
import { ReplicationStatusReader } from './replication-status.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-status-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = (site: string, state: RpoEntry['state']): RpoEntry => ({
  vm: 'vm1',
  site,
  policy: 'p',
  rpoMs: 60_000,
  newestGood: null,
  ageMs: null,
  state,
  alertId: null,
  breachedSince: null,
});

describe('deployment status', () => {
  it('needs attention for RPO breaches, open damage alerts and offline workers, not for failed jobs', () => {
    const catalog = SqliteCatalog.open(join(dir, 'c.db'));
    const clock = new ManualClock();
    let rpo: RpoEntry[] = [entry('a', 'ok')];
    const reader = new DeploymentStatusReader({
      catalog,
      clock,
      replication: new ReplicationStatusReader({ catalog, clock, pairs: [] }),
      rpo: { entries: () => rpo },
    });
    catalog.upsertWorker({ site: 'a', id: 'agent-1', kind: 'agent', state: 'online', lastSeenAt: clock.nowIso(), address: null, version: '1' });
    catalog.insertJob({
      id: 'J1', kind: 'backup', state: 'failed', site: 'a', worker: 'agent-1', vm: 'vm1', attempt: 1, params: {}, result: null,
      error: 'INTERNAL: boom', progress: null, createdAt: clock.nowIso(), publishedAt: null, startedAt: null, finishedAt: clock.nowIso(),
    });
    const first = reader.status(24 * 3600_000);
    assert.deepEqual(first.needsAttention, []);
    assert.equal(first.failedJobs.length, 1);
    assert.deepEqual(first.rpo, rpo);

    rpo = [entry('a', 'breached'), entry('b', 'breached'), entry('c', 'ok')];
    catalog.insertAlert({
      alertId: 'D1', site: 'a', object: 'chunk', digest: 'ab', backupId: null, disk: null, problem: 'missing',
      peersTried: [], raisedAt: clock.nowIso(), affected: [], message: 'chunk ab missing',
    });
    clock.advance(60_000);
    catalog.markWorkersOffline(clock.nowIso());
    assert.deepEqual(reader.status(24 * 3600_000).needsAttention, [
      'RPO breached for 2 VM/site pairs',
      '1 open damage alert',
      'worker offline: a/agent-1',
    ]);
    catalog.close();
  });
});
