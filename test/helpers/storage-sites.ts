/**
 * Storage daemons for site-to-site scenarios: a nats-server and one real storage process per
 * site (the production entry point, storage/main.ts), each on a fixed port of 127.0.0.1 so a
 * restart keeps its address. Jobs are published to a site's storage over JetStream as the
 * controller would, and their outcome is read from the events the storage records.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { ManagedProcess, tsxCommand } from '../../controller/cli/up/managed-process.js';
import { freePort, NatsServerProcess } from '../../controller/cli/up/nats-server-process.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { newId } from '../../shared/ids.js';
import { WorkerEvent, type JobResult } from '../../shared/messages/events.js';
import { JobMessage, type JobKind } from '../../shared/messages/jobs.js';
import { subjects } from '../../shared/messages/subjects.js';
import { readServerStream } from '../../shared/rpc/grpc-calls.js';
import { createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { rebuildDisk } from '../../storage/testing/disk-fixture.js';
import { waitFor } from './wait-for.js';

const WORKER = 'storage';

/** One site's storage: its config beyond site, datastore, listen address and NATS. */
export interface SiteSpec {
  readonly site: string;
  /** Extra storage config fields (peers, access, chunkSizeBytes, keyFingerprint, scrub, ...). */
  readonly config?: Record<string, unknown>;
}

/** How a job ended. */
export type JobOutcome =
  | { readonly state: 'succeeded'; readonly jobId: string; readonly outcome: JobResult; readonly attempts: number }
  | { readonly state: 'failed'; readonly jobId: string; readonly error: { code: string; message: string }; readonly attempts: number };

interface SiteProcess {
  readonly spec: SiteSpec;
  readonly address: string;
  readonly dir: string;
  readonly proc: ManagedProcess;
}

interface Waiter {
  starts: number;
  resolve: (outcome: JobOutcome) => void;
}

export class StorageSites {
  private readonly waiters = new Map<string, Waiter>();
  private readonly clients: BlockStoreClient[] = [];

  private constructor(
    readonly dir: string,
    readonly nats: NatsServerProcess,
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
    private readonly sites: Map<string, SiteProcess>,
  ) {
    void this.listen();
  }

  /** Starts nats-server and a storage per spec, under `dir`. */
  static async start(dir: string, specs: readonly SiteSpec[], logLevel = process.env.BULWARK_TEST_LOG_LEVEL ?? 'info'): Promise<StorageSites> {
    mkdirSync(dir, { recursive: true });
    const nats = await NatsServerProcess.start(join(dir, 'nats'));
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const sub = nc.subscribe('bulwark.events.>');
    const sites = new Map<string, SiteProcess>();
    const started = new StorageSites(dir, nats, nc, sub, sites);
    try {
      for (const spec of specs) {
        const siteDir = join(dir, `storage-${spec.site}`);
        mkdirSync(siteDir, { recursive: true });
        const address = `127.0.0.1:${await freePort()}`;
        const configFile = join(siteDir, 'config.json');
        writeFileSync(
          configFile,
          `${JSON.stringify(
            { site: spec.site, worker: WORKER, datastoreDir: join(siteDir, 'datastore'), listen: address, nats: { url: nats.url }, logLevel, ...spec.config },
            null,
            2,
          )}\n`,
        );
        const { command, args } = tsxCommand('storage/main.ts', ['--config', configFile, '--ready-file', join(siteDir, 'ready.json')]);
        const proc = new ManagedProcess({ name: `storage-${spec.site}`, command, args, logFile: join(siteDir, 'storage.log'), readyFile: join(siteDir, 'ready.json') });
        sites.set(spec.site, { spec, address, dir: siteDir, proc });
        await proc.start();
      }
    } catch (err) {
      await started.stop();
      throw err;
    }
    return started;
  }

  private site(site: string): SiteProcess {
    const s = this.sites.get(site);
    if (!s) throw new Error(`no storage for site ${site}`);
    return s;
  }

  /** The gRPC address of a site's storage (fixed across restarts). */
  address(site: string): string {
    return this.site(site).address;
  }

  /** The datastore directory of a site's storage. */
  datastoreDir(site: string): string {
    return join(this.site(site).dir, 'datastore');
  }

  /** The storage process of a site (kill, start). */
  process(site: string): ManagedProcess {
    return this.site(site).proc;
  }

  /** A BlockStore client of a site's storage (closed by stop()). */
  client(site: string, address = this.address(site)): BlockStoreClient {
    const client = createBlockStoreClient(address);
    this.clients.push(client);
    return client;
  }

  /** Merges `extra` into a site's storage config and restarts it (same port, same datastore). */
  async reconfigure(site: string, extra: Record<string, unknown>): Promise<void> {
    const path = join(this.site(site).dir, 'config.json');
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, `${JSON.stringify({ ...config, ...extra }, null, 2)}\n`);
    await this.process(site).stop();
    await this.process(site).start();
  }

  /** SIGKILLs a site's storage and starts it again on the same port and datastore. */
  async killAndRestart(site: string): Promise<void> {
    const proc = this.process(site);
    await proc.kill();
    await proc.start();
  }

  /** Publishes a job to a site's storage; `done` resolves with how it ended (a redelivery runs on). */
  async submit(site: string, kind: JobKind, params: unknown): Promise<{ jobId: string; done: Promise<JobOutcome> }> {
    const jobId = newId();
    const job = JobMessage.parse({ jobId, attempt: 1, createdAt: new Date().toISOString(), kind, params });
    const done = new Promise<JobOutcome>((resolve) => this.waiters.set(jobId, { starts: 0, resolve }));
    await this.nc.jetstream().publish(subjects.jobs(site, WORKER), JSON.stringify(job), { msgID: jobId });
    return { jobId, done };
  }

  /** Runs a job to its end; throws when it failed or did not end within `timeoutMs`. */
  async runJob(site: string, kind: JobKind, params: unknown, timeoutMs = 120_000): Promise<JobResult> {
    const { jobId, done } = await this.submit(site, kind, params);
    const outcome = await withTimeout(done, timeoutMs, `${kind} job ${jobId} at ${site}`);
    if (outcome.state === 'failed') throw new Error(`${kind} job ${jobId} at ${site} failed: ${outcome.error.code} ${outcome.error.message}`);
    return outcome.outcome;
  }

  /** Waits until a job has started `count` times (a redelivery after a kill starts it again). */
  async waitForStarts(jobId: string, count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(`job ${jobId} started ${count} time(s)`, () => ((this.waiters.get(jobId)?.starts ?? 0) >= count ? true : undefined), timeoutMs, 20);
  }

  private async listen(): Promise<void> {
    for await (const msg of this.sub) {
      const parsed = WorkerEvent.safeParse(safeJson(msg.string()));
      if (!parsed.success) continue;
      const event = parsed.data;
      if (!('jobId' in event)) continue;
      const waiter = this.waiters.get(event.jobId);
      if (!waiter) continue;
      if (event.type === 'job.started') waiter.starts++;
      else if (event.type === 'job.succeeded') waiter.resolve({ state: 'succeeded', jobId: event.jobId, outcome: event.outcome, attempts: waiter.starts });
      else if (event.type === 'job.failed') waiter.resolve({ state: 'failed', jobId: event.jobId, error: event.error, attempts: waiter.starts });
    }
  }

  /** Stops every storage, then nats-server. */
  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all([...this.sites.values()].map((s) => s.proc.stop()));
    this.sub.unsubscribe();
    await this.nc.close();
    await this.nats.stop();
  }
}

/**
 * One disk of a backup read back over the wire (GetIndex, then GetChunks in batches read to
 * their end) and rebuilt; blobs are decoded unencrypted.
 */
export async function restoreDisk(client: BlockStoreClient, backupId: string, disk: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readServerStream('GetIndex', client.getIndex({ backupId, disk }))) parts.push(part.data);
  const index = decodeFixedIndex(Buffer.concat(parts));
  const wanted = new Map<string, Buffer>();
  for (let i = 0; i < index.chunkCount; i++) {
    const d = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
    if (!isZeroDigest(d)) wanted.set(digestHex(d), Buffer.from(d));
  }
  const digests = [...wanted.values()];
  const blobs = new Map<string, Buffer>();
  for (let at = 0; at < digests.length; at += 256) {
    for await (const msg of readServerStream('GetChunks', client.getChunks({ digests: digests.slice(at, at + 256) }))) blobs.set(digestHex(msg.digest), msg.blob);
  }
  return rebuildDisk(index, (digest) => {
    const blob = blobs.get(digestHex(digest));
    return blob ? Promise.resolve(blob) : Promise.reject(new Error(`chunk ${digestHex(digest)} was not served`));
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
