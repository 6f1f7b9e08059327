/**
 * The scale bench, small, with real processes (nats-server, controller with its SQLite catalog,
 * a storage daemon, two simulated agent-group processes of five agents each, 200 sim VMs), the
 * bench's default drive: snapshot-management policies due at 20 VMs/s for 10 s, whose snapshot
 * jobs the policy scheduler makes, all finish, every job's dispatch latency (from its dueAt) is
 * reported, the report has its fields, and the sample VM's newest backup restores byte for byte
 * as the sim says its disk was. Figures are not asserted (a test never times); the bench reports them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { benchScale, percentiles, perSecond } from '../../bench/scale-bench.js';

describe('scale bench smoke (real processes, simulated agents)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-scale-smoke-'));
  after(() => {
    if (process.env.BULWARK_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('computes percentiles and per-second counts', () => {
    assert.deepEqual(percentiles([5, 1, 3, 2, 4]), { count: 5, p50: 3, p95: 5, p99: 5, max: 5, mean: 3 });
    assert.deepEqual(percentiles([]), { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
    assert.deepEqual(perSecond([1000, 1500, 2999, 3000, 9000], 1000, 3), [2, 1, 2]);
  });

  it('runs 200 VMs on 10 agents in 2 processes, snapshot policies due at 20 VMs/s for 10 s: every job finishes and the sample restores byte for byte', { timeout: 240_000 }, async () => {
    const report = await benchScale(
      join(dir, 'run'),
      { vms: 200, agents: 10, agentsPerGroup: 5, seconds: 10, rate: 20, settleMs: 1000, policyLeadMs: 5000 },
      (line) => process.stderr.write(`${line}\n`),
    );
    assert.equal(report.agentGroups, 2);
    assert.deepEqual([report.driver, report.job], ['policy', 'snapshot'], 'the default drive');
    assert.equal(report.jobs.started, 200);
    assert.equal(report.jobs.succeeded, 200, `every job succeeded: ${JSON.stringify(report.jobs)}`);
    assert.equal(report.jobs.failed, 0);
    assert.equal(report.jobs.unfinished, 0);
    assert.equal(report.jobs.dispatched, 200, 'every job was received by its agent once');
    assert.equal(report.perSecond.due.length, 10);
    assert.equal(report.perSecond.due.reduce((s, n) => s + n, 0), 200);
    assert.equal(report.perSecond.dispatched.reduce((s, n) => s + n, 0), 200);
    for (const p of [report.dispatchLatencyMs, report.endToEndMs, report.requestToReceiptMs]) {
      assert.equal(p.count, 200);
      for (const v of [p.p50, p.p95, p.p99, p.max, p.mean]) assert.ok(Number.isFinite(v) && v >= 0, `a latency is a number ≥ 0: ${JSON.stringify(p)}`);
      assert.ok(p.p50 <= p.p99 && p.p99 <= p.max);
    }
    assert.deepEqual(Object.keys(report.dispatchLatencyByGroupMs).sort(), ['agents-00', 'agents-01']);
    assert.ok(report.controller.peakRssBytes > 0 && report.controller.rssSampledMaxBytes > 0);
    assert.ok(report.controller.cpuSeconds > 0);
    assert.ok(Object.keys(report.cpuSecondsByProcess).includes('storage'));
    assert.equal(report.restoredIdentical, true, 'the sample backup restores as the sim says the disk was');
  });
});
