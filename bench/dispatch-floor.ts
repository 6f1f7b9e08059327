/**
 * The transport's floor for the scale bench's dispatch (docs/PERFORMANCE.md "Scale"): the same
 * shape with no Bulwark code at all. A nats-server (Debian's 2.9, JetStream), one work-queue
 * stream, one durable consumer per worker (`max_ack_pending` 1), 200 workers on 200 connections
 * in 10 child processes, and a publisher sending 100 small messages per second to 100 different
 * workers. Latency is each message's due time (in its body) to the worker receiving it, same
 * host clock.
 *
 * Modes (each on a fresh server):
 * - `jetstream-next-burst`: the second's 100 messages due at one instant, workers pulling with
 *   `consumer.next()` (as `shared/nats/job-worker.ts` does);
 * - `jetstream-consume-burst`: the same with `consumer.consume()`;
 * - `jetstream-push-burst`: the same with push consumers (a deliver subject, raw `+ACK`);
 * - `core-burst`: core NATS subjects, no JetStream (the fan-out alone);
 * - `jetstream-next-steady`: `next()` workers, each message due at its own instant, 10 ms apart.
 *
 * Run: `npx tsx bench/dispatch-floor.ts [--json] [--seconds 15] [--workers 200]
 * [--per-process 20] [--rate 100] [--modes a,b]`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AckPolicy, connect, nanos, RetentionPolicy, type NatsConnection } from 'nats';
import { z } from 'zod';
import { NatsServerProcess } from '../controller/cli/up/nats-server-process.js';
import { cpuSeconds } from './measure.js';
import type { Percentiles } from './scale-bench.js';

const MODES = ['jetstream-next-burst', 'jetstream-consume-burst', 'jetstream-push-burst', 'core-burst', 'jetstream-next-steady'] as const;
type Mode = (typeof MODES)[number];

const STREAM = 'FLOOR';
const PAD = 'x'.repeat(200);

const Options = z.object({
  seconds: z.number().int('--seconds: must be a whole number').min(1, '--seconds: at least 1').max(600, '--seconds: at most 600'),
  workers: z.number().int('--workers: must be a whole number').min(1, '--workers: at least 1').max(1000, '--workers: at most 1000'),
  perProcess: z.number().int('--per-process: must be a whole number').min(1, '--per-process: at least 1'),
  rate: z.number().int('--rate: must be a whole number').min(1, '--rate: at least 1').max(1000, '--rate: at most 1000'),
  modes: z.array(z.enum(MODES, { error: `--modes: each must be one of ${MODES.join(', ')}` })).min(1),
});
type Options = z.infer<typeof Options>;

interface WorkerMessage {
  readonly ready?: true;
  readonly latencies?: number[];
}

/** In a child process: `count` workers from `first`, each on its own connection; latencies go to the parent. */
async function runWorkers(url: string, mode: Mode, first: number, count: number): Promise<void> {
  const decoder = new TextDecoder();
  const latencies: number[] = [];
  const received = (data: Uint8Array) => {
    const { dueMs } = JSON.parse(decoder.decode(data)) as { dueMs: number };
    latencies.push(Date.now() - dueMs);
  };
  const connections: NatsConnection[] = [];
  for (let i = first; i < first + count; i++) {
    const nc = await connect({ servers: url });
    connections.push(nc);
    const name = `w${i}`;
    if (mode === 'core-burst') {
      nc.subscribe(`core.${name}`, { callback: (_err, m) => received(m.data) });
    } else if (mode === 'jetstream-push-burst') {
      nc.subscribe(`push.${name}`, {
        callback: (_err, m) => {
          received(m.data);
          if (m.reply) nc.publish(m.reply, '+ACK');
        },
      });
    } else {
      const consumer = await nc.jetstream().consumers.get(STREAM, name);
      void (async () => {
        if (mode === 'jetstream-consume-burst') {
          for await (const m of await consumer.consume({ max_messages: 1 })) {
            received(m.data);
            m.ack();
          }
          return;
        }
        for (;;) {
          const m = await consumer.next({ expires: 5000 });
          if (!m) continue;
          received(m.data);
          m.ack();
        }
      })().catch(() => undefined);
    }
  }
  process.send?.({ ready: true } satisfies WorkerMessage);
  // Report every half second; the parent kills the process when the mode ends.
  setInterval(() => {
    if (latencies.length > 0) process.send?.({ latencies: latencies.splice(0) } satisfies WorkerMessage);
  }, 500);
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0, mean: Math.round(mean * 10) / 10 };
}

interface ModeReport {
  readonly mode: Mode;
  readonly latencyMs: Percentiles;
  readonly sent: number;
  readonly natsServerCpuSeconds: number;
}

async function runMode(mode: Mode, opts: Options, say: (line: string) => void): Promise<ModeReport> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-floor-'));
  const server = await NatsServerProcess.start(dir);
  const children: ChildProcess[] = [];
  try {
    const nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: STREAM, subjects: ['floor.>'], retention: RetentionPolicy.Workqueue });
    for (let i = 0; i < opts.workers; i++) {
      await jsm.consumers.add(STREAM, {
        durable_name: `w${i}`,
        filter_subject: `floor.w${i}`,
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: 1,
        ack_wait: nanos(30_000),
        ...(mode === 'jetstream-push-burst' ? { deliver_subject: `push.w${i}` } : {}),
      });
    }
    const latencies: number[] = [];
    let ready = 0;
    for (let first = 0; first < opts.workers; first += opts.perProcess) {
      const child = fork(fileURLToPath(import.meta.url), ['--worker', server.url, mode, String(first), String(Math.min(opts.perProcess, opts.workers - first))], {
        execArgv: process.execArgv,
      });
      child.on('message', (m: WorkerMessage) => {
        if (m.ready) ready++;
        if (m.latencies) latencies.push(...m.latencies);
      });
      children.push(child);
    }
    while (ready < children.length) await sleep(100);
    await sleep(2000);
    const js = nc.jetstream();
    const encoder = new TextEncoder();
    const cpuBefore = cpuSeconds(server.process.pid ?? 0);
    const startMs = Math.ceil((Date.now() + 500) / 1000) * 1000;
    let sent = 0;
    for (let second = 0; second < opts.seconds; second++) {
      const pending: Promise<unknown>[] = [];
      for (let k = 0; k < opts.rate; k++) {
        const steady = mode === 'jetstream-next-steady';
        const dueMs = startMs + second * 1000 + (steady ? Math.floor((k * 1000) / opts.rate) : 0);
        const wait = dueMs - Date.now();
        if (wait > 0 && (steady || k === 0)) await sleep(wait);
        const worker = `w${(second * opts.rate + k) % opts.workers}`;
        const data = encoder.encode(JSON.stringify({ dueMs, k, pad: PAD }));
        if (mode === 'core-burst') nc.publish(`core.${worker}`, data);
        else pending.push(js.publish(`floor.${worker}`, data, { msgID: `${second}-${k}` }));
        sent++;
      }
      await Promise.all(pending);
    }
    await sleep(1500);
    const natsServerCpuSeconds = Math.round((cpuSeconds(server.process.pid ?? 0) - cpuBefore) * 100) / 100;
    await nc.close();
    const report = { mode, latencyMs: percentiles(latencies), sent, natsServerCpuSeconds };
    say(`floor: ${mode}: ${report.latencyMs.count}/${sent} received, p50 ${report.latencyMs.p50} / p99 ${report.latencyMs.p99} / max ${report.latencyMs.max} ms`);
    return report;
  } finally {
    for (const child of children) child.kill();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--worker') {
  const [, , , url = '', mode = 'core-burst', first = '0', count = '0'] = process.argv;
  await runWorkers(url, mode as Mode, Number(first), Number(count));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '15' },
      workers: { type: 'string', default: '200' },
      'per-process': { type: 'string', default: '20' },
      rate: { type: 'string', default: '100' },
      modes: { type: 'string', default: MODES.join(',') },
    },
  });
  const parsed = Options.safeParse({
    seconds: Number(values.seconds),
    workers: Number(values.workers),
    perProcess: Number(values['per-process']),
    rate: Number(values.rate),
    modes: (values.modes ?? '').split(','),
  });
  if (!parsed.success) {
    console.error(`dispatch-floor: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    process.exit(2);
  }
  const opts = parsed.data;
  const began = Date.now();
  const say = (line: string) => console.error(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const loadAtStart = loadavg()[0] ?? 0;
  const modes: ModeReport[] = [];
  for (const mode of opts.modes) modes.push(await runMode(mode, opts, say));
  const report = {
    bench: 'dispatch-floor',
    workers: opts.workers,
    processes: Math.ceil(opts.workers / opts.perProcess),
    ratePerSecond: opts.rate,
    seconds: opts.seconds,
    modes,
    loadAverage1m: { atStart: Math.round(loadAtStart * 100) / 100, atEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
  };
  console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
  process.exit(0);
}
