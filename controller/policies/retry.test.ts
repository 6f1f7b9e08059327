import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../shared/log.js';
import { RetryRule } from '../../shared/messages/policy.js';
import { backoffMs, isRetryableError, JobRetrier } from './retry.js';
import { removeFixtureDirs, schedulingFixture } from './policy-scheduler.test-fixture.js';

after(removeFixtureDirs);

describe('retries', () => {
  it('doubles the backoff from initialBackoffMs and caps it at maxBackoffMs', () => {
    const rule = RetryRule.parse({ maxAttempts: 10, initialBackoffMs: 1000, maxBackoffMs: 5000 });
    assert.deepEqual([1, 2, 3, 4, 5, 9].map((a) => backoffMs(rule, a)), [1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('retries unavailable, internal and data errors, never validation, not found, precondition or cancelled', () => {
    for (const e of ['UNAVAILABLE: storage away', 'INTERNAL: ELOOP', 'DEADLINE_EXCEEDED: slow', 'DATA_LOSS: chunk missing']) {
      assert.equal(isRetryableError(e), true, e);
    }
    for (const e of ['INVALID_ARGUMENT: mode', 'NOT_FOUND: VM x not found', 'FAILED_PRECONDITION: no storage', 'CANCELLED: by operator', null, 'no code']) {
      assert.equal(isRetryableError(e), false, String(e));
    }
  });

  it('queues a failed policy job again with the same id, attempt + 1 and a doubling not-before, up to maxAttempts', async () => {
    const f = schedulingFixture();
    f.addPolicy({ name: 'p', schedule: { cron: ['0 0 1 1 *'] }, selector: { vms: ['vm1'] }, retry: { maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 1500 } });
    const retrier = new JobRetrier({ catalog: f.catalog, changes: f.changes, clock: f.clock, log: silentLogger() });
    retrier.start();
    const created = await f.jobs.startBackup({ vm: 'vm1', mode: 'auto', policy: 'p', maxAttempts: 3 });
    assert.equal(f.publisher.sent.length, 1);

    f.finish(created.id, 'failed', 'INTERNAL: too many symbolic links');
    let row = f.catalog.getJob(created.id)!;
    assert.equal(row.state, 'queued');
    assert.equal(row.attempt, 2);
    assert.equal(row.publishedAt, null);
    assert.equal(row.notBefore, new Date(f.clock.nowMs() + 1000).toISOString());
    assert.equal(await f.jobs.publishPending(), 0, 'not published before its backoff ends');
    f.clock.advance(1000);
    assert.equal(await f.jobs.publishPending(), 1);
    assert.deepEqual(f.publisher.sent.map((s) => [s.job.jobId, s.job.attempt]), [[created.id, 1], [created.id, 2]]);

    f.finish(created.id, 'failed', 'UNAVAILABLE: storage away');
    row = f.catalog.getJob(created.id)!;
    assert.equal(row.attempt, 3);
    assert.equal(row.notBefore, new Date(f.clock.nowMs() + 1500).toISOString(), 'doubled to 2000, capped at 1500');
    f.clock.advance(1500);
    await f.jobs.publishPending();

    f.finish(created.id, 'failed', 'INTERNAL: still broken');
    row = f.catalog.getJob(created.id)!;
    assert.equal(row.state, 'failed', 'the last attempt stays failed');
    assert.equal(row.attempt, 3);
    retrier.stop();
  });

  it('does not retry a non-retryable failure, nor a manual job', async () => {
    const f = schedulingFixture();
    const retrier = new JobRetrier({ catalog: f.catalog, changes: f.changes, clock: f.clock, log: silentLogger() });
    retrier.start();
    const policyJob = await f.jobs.startBackup({ vm: 'vm1', mode: 'auto', policy: 'gone', maxAttempts: 5 });
    f.finish(policyJob.id, 'failed', 'NOT_FOUND: disk image of VM vm1 /x not found');
    assert.equal(f.catalog.getJob(policyJob.id)!.state, 'failed');
    const manual = await f.jobs.startBackup({ vm: 'vm2', mode: 'auto' });
    assert.equal(manual.maxAttempts, 1);
    f.finish(manual.id, 'failed', 'INTERNAL: boom');
    assert.equal(f.catalog.getJob(manual.id)!.state, 'failed');
    retrier.stop();
  });

  it('at start, retries a failure a crash left unretried (with the default rule when its policy is gone)', async () => {
    const f = schedulingFixture();
    const created = await f.jobs.startBackup({ vm: 'vm1', mode: 'auto', policy: 'gone', maxAttempts: 2 });
    f.finish(created.id, 'failed', 'INTERNAL: crash window');
    assert.equal(f.catalog.getJob(created.id)!.state, 'failed');
    const retrier = new JobRetrier({ catalog: f.catalog, changes: f.changes, clock: f.clock, log: silentLogger() });
    retrier.start();
    const row = f.catalog.getJob(created.id)!;
    assert.equal(row.state, 'queued');
    assert.equal(row.attempt, 2);
    assert.equal(row.notBefore, new Date(f.clock.nowMs() + RetryRule.parse(undefined).initialBackoffMs).toISOString());
    assert.equal(retrier.consider(f.catalog.getJob(created.id)!), false, 'a second requeue does nothing');
    retrier.stop();
  });
});
