import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobKind } from '../../shared/messages/jobs.js';
import type { JobRow } from '../catalog/catalog.js';
import { DispatchGate, dispatchOrder } from './dispatch-gate.js';

let seq = 0;
function job(over: Partial<JobRow> & { kind?: JobKind }): JobRow {
  seq++;
  return {
    id: `J${String(seq).padStart(4, '0')}`,
    kind: 'backup',
    state: 'queued',
    site: 'a',
    worker: 'agent-1',
    vm: `vm${seq}`,
    attempt: 1,
    params: {},
    result: null,
    error: null,
    progress: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    publishedAt: null,
    startedAt: null,
    finishedAt: null,
    priority: 50,
    dueAt: null,
    ...over,
  };
}

describe('DispatchGate', () => {
  it('orders by priority, then due time (or creation), then id', () => {
    const low = job({ priority: 10 });
    const highLate = job({ priority: 90, dueAt: '2026-01-01T00:05:00.000Z' });
    const highEarly = job({ priority: 90, createdAt: '2026-01-01T00:01:00.000Z' });
    const highEarlySameTime = job({ priority: 90, createdAt: '2026-01-01T00:01:00.000Z' });
    const order = [low, highLate, highEarlySameTime, highEarly].sort(dispatchOrder).map((j) => j.id);
    assert.deepEqual(order, [highEarly.id, highEarlySameTime.id, highLate.id, low.id]);
  });

  it('holds agent jobs over the per-agent limit, highest priority first', () => {
    const gate = new DispatchGate({ maxJobsPerAgent: 2, maxJobsPerSite: 8 });
    const running = job({ state: 'running', publishedAt: 'x' });
    const ready = [job({ priority: 10 }), job({ priority: 70 }), job({ priority: 50 })];
    const chosen = gate.choose(ready, [running]);
    assert.deepEqual(chosen.map((j) => j.priority), [70]);
    assert.deepEqual(gate.choose(ready, []).map((j) => j.priority), [70, 50]);
  });

  it('holds agent jobs over the per-site limit, across agents, without blocking a free agent behind a busy one', () => {
    const gate = new DispatchGate({ maxJobsPerAgent: 1, maxJobsPerSite: 2 });
    const busy = job({ worker: 'agent-1', state: 'running', publishedAt: 'x' });
    const ready = [
      job({ worker: 'agent-1', priority: 90 }),
      job({ worker: 'agent-2', priority: 20 }),
      job({ worker: 'agent-3', priority: 10 }),
      job({ worker: 'agent-4', site: 'b', priority: 5 }),
    ];
    const chosen = gate.choose(ready, [busy]);
    // agent-1 is full; agent-2 takes the site's second slot; agent-3 waits for the site; site b is free.
    assert.deepEqual(chosen.map((j) => `${j.site}/${j.worker}`), ['a/agent-2', 'b/agent-4']);
  });

  it('passes storage jobs unlimited, in priority order, and counts shared-queue jobs at their site only', () => {
    const gate = new DispatchGate({ maxJobsPerAgent: 1, maxJobsPerSite: 1 });
    const inFlight = [job({ kind: 'sync', worker: 'storage', publishedAt: 'x' }), job({ kind: 'prune', worker: 'storage', publishedAt: 'x' })];
    const ready = [job({ kind: 'verify', worker: 'storage', priority: 1 }), job({ kind: 'prune', worker: 'storage', priority: 99 })];
    assert.deepEqual(gate.choose(ready, inFlight).map((j) => j.kind), ['prune', 'verify']);
    const shared = [job({ worker: 'shared' }), job({ worker: 'shared' })];
    assert.equal(gate.choose(shared, []).length, 1, 'the site limit holds shared-queue jobs');
    assert.equal(gate.choose([job({ worker: 'agent-9' })], [job({ worker: 'shared', publishedAt: 'x' })]).length, 0);
  });
});
