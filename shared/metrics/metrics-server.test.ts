import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Counter } from 'prom-client';
import { ManualClock } from '../clock.js';
import { silentLogger } from '../log.js';
import type { JobMessage } from '../messages/jobs.js';
import type { JobContext } from '../nats/job-worker.js';
import { createMetricsRegistry, startMetricsServer } from './metrics-server.js';
import { WorkerJobMetrics } from './worker-job-metrics.js';

describe('metrics server', () => {
  it('serves the registry at GET /metrics in the Prometheus text format, 404 elsewhere, 405 for other methods', async () => {
    const registry = createMetricsRegistry();
    const counter = new Counter({ name: 'bulwark_test_things_total', help: 'Things.', labelNames: ['kind'], registers: [registry] });
    counter.inc({ kind: 'a' }, 3);
    const server = await startMetricsServer('127.0.0.1:0', registry, silentLogger());
    try {
      assert.match(server.address, /^127\.0\.0\.1:[1-9]\d*$/);
      const res = await fetch(`http://${server.address}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const body = await res.text();
      assert.match(body, /^# HELP bulwark_test_things_total Things\.$/m);
      assert.match(body, /^# TYPE bulwark_test_things_total counter$/m);
      assert.match(body, /^bulwark_test_things_total\{kind="a"\} 3$/m);
      assert.match(body, /^process_cpu_seconds_total \d/m, 'the standard process metrics are there');
      assert.equal((await fetch(`http://${server.address}/metrics?x=1`)).status, 200, 'a query string is ignored');

      for (const path of ['/', '/metric', '/metrics/x', '/health']) {
        const other = await fetch(`http://${server.address}${path}`);
        assert.equal(other.status, 404, path);
        assert.match(await other.text(), /not found/);
      }
      const post = await fetch(`http://${server.address}/metrics`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      await post.text();
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`http://${server.address}/metrics`), 'closed: nothing listens any more');
  });

  it('fails to start on a port already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await assert.rejects(startMetricsServer(`127.0.0.1:${port}`, createMetricsRegistry(), silentLogger()), /EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it('a scrape error answers 500 and the server keeps serving', async () => {
    const registry = createMetricsRegistry();
    let fail = true;
    new Counter({
      name: 'bulwark_test_flaky_total',
      help: 'Fails once.',
      registers: [registry],
      collect() {
        if (fail) {
          fail = false;
          throw new Error('catalog unavailable');
        }
      },
    });
    const server = await startMetricsServer('127.0.0.1:0', registry, silentLogger());
    try {
      const bad = await fetch(`http://${server.address}/metrics`);
      assert.equal(bad.status, 500);
      await bad.text();
      assert.equal((await fetch(`http://${server.address}/metrics`)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('worker job metrics', () => {
  const job = (kind: 'backup' | 'sync') => ({ jobId: 'j1', attempt: 1, kind }) as unknown as JobMessage;
  const ctx = (aborted = false): JobContext => {
    const controller = new AbortController();
    if (aborted) controller.abort();
    return { log: silentLogger(), signal: controller.signal, progress: () => undefined };
  };

  it('counts jobs by kind and outcome, times them, and hands each result on', async () => {
    const registry = createMetricsRegistry();
    const clock = new ManualClock(1_000_000);
    const results: string[] = [];
    const metrics = new WorkerJobMetrics(registry, clock, (r) => results.push(r.kind));
    const ok = metrics.wrap(() => {
      clock.advance(2500);
      return Promise.resolve({ kind: 'sync', result: {} } as never);
    });
    const failing = metrics.wrap(() => Promise.reject(new Error('boom')));
    await ok(job('sync'), ctx());
    await ok(job('sync'), ctx());
    await assert.rejects(failing(job('backup'), ctx()), /boom/);
    await assert.rejects(failing(job('backup'), ctx(true)), /boom/);
    const text = await registry.metrics();
    assert.match(text, /^bulwark_worker_jobs_total\{kind="sync",outcome="succeeded"\} 2$/m);
    assert.match(text, /^bulwark_worker_jobs_total\{kind="backup",outcome="failed"\} 1$/m);
    assert.match(text, /^bulwark_worker_jobs_total\{kind="backup",outcome="interrupted"\} 1$/m);
    assert.match(text, /^bulwark_worker_job_duration_seconds_sum\{kind="sync",outcome="succeeded"\} 5$/m);
    assert.match(text, /^bulwark_worker_job_duration_seconds_bucket\{le="2.5",kind="sync",outcome="succeeded"\} 2$/m);
    assert.match(text, /^bulwark_worker_job_duration_seconds_bucket\{le="1",kind="sync",outcome="succeeded"\} 0$/m);
    assert.deepEqual(results, ['sync', 'sync']);
  });
});
