/**
 * Storage credentials with real processes (docs/ACCESS.md): storage daemons as child processes
 * with `access` configs, called over gRPC with each role's token; a replica that pulls with its
 * read-only token; and the embedded deployment of `bulwark up`, tokens everywhere, backing up,
 * syncing and restoring byte for byte.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { ManagedProcess, tsxCommand } from '../../controller/cli/up/managed-process.js';
import { ensureEmbeddedTokens } from '../../controller/cli/up/up-command.js';
import { NatsServerProcess } from '../../controller/cli/up/nats-server-process.js';
import { GrpcBlockStore } from '../../node-agent/adapters/grpc-block-store.js';
import { bearerTokenSha256, createBearerToken } from '../../shared/crypto/bearer-token.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { WorkerEvent } from '../../shared/messages/events.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import { BackupResult, RestoreResult, SyncResult } from '../../shared/messages/results.js';
import { EVENTS_STREAM, subjects } from '../../shared/messages/subjects.js';
import { ensureStreams } from '../../shared/nats/streams.js';
import { createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import type { BlockStoreMethod } from '../../storage/api/access-control.js';
import { probeCode, type ProbeTarget } from '../../storage/testing/access-probes.js';
import { chunkDisk, makeDiskImage } from '../../storage/testing/disk-fixture.js';
import { backupOverWire, putChunks, restoreOverWire } from '../../storage/testing/test-storage.js';
import { runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

const CHUNK = 64 * 1024;
const READS: BlockStoreMethod[] = ['GetDatastoreInfo', 'ListBackups', 'GetManifest', 'GetIndex', 'GetChunks'];

function storageProcess(root: string, name: string, configFile: string): ManagedProcess {
  const readyFile = join(root, `${name}.ready`);
  const { command, args } = tsxCommand('storage/main.ts', ['--config', configFile, '--ready-file', readyFile]);
  return new ManagedProcess({ name, command, args, logFile: join(root, `${name}.log`), readyFile, readyTimeoutMs: 30_000 });
}

describe('storage credentials, storage daemons as processes', () => {
  let root: string;
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  const procs: ManagedProcess[] = [];
  const clients: BlockStoreClient[] = [];
  const tokens = { agent: createBearerToken(), read: createBearerToken(), push: createBearerToken() };
  let addressA: string;
  let target: ProbeTarget;
  const image = makeDiskImage(700_000, 17);
  const chunked = chunkDisk(image, CHUNK);
  const fresh = chunkDisk(Buffer.alloc(CHUNK, 0x3c), CHUNK);

  const client = (address: string, token?: string): BlockStoreClient => {
    const c = createBlockStoreClient(address, token === undefined ? {} : { token });
    clients.push(c);
    return c;
  };

  async function startStorage(name: string, config: Record<string, unknown>): Promise<{ address: string; proc: ManagedProcess }> {
    const configFile = join(root, `${name}.json`);
    await writeFile(configFile, JSON.stringify({ datastoreDir: join(root, `ds-${name}`), nats: { url: nats.url }, chunkSizeBytes: CHUNK, heartbeatIntervalMs: 500, ...config }));
    const proc = storageProcess(root, name, configFile);
    procs.push(proc);
    const ready = JSON.parse(await proc.start()) as { address: string };
    return { address: ready.address, proc };
  }

  async function runStorageJob(site: string, job: JobMessage): Promise<WorkerEvent> {
    await nc.jetstream().publish(subjects.jobs(site, 'storage'), JSON.stringify(job));
    const jsm = await nc.jetstreamManager();
    return waitFor(`the end of job ${job.jobId}`, async () => {
      for (const kind of ['job.succeeded', 'job.failed']) {
        const msg = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.event(site, 'storage', kind) }).catch(() => undefined);
        const event = msg ? WorkerEvent.parse(msg.json()) : undefined;
        if (event && 'jobId' in event && event.jobId === job.jobId) return event;
      }
      return undefined;
    }, 60_000);
  }

  const syncJob = (source: { site: string; address: string }): JobMessage => ({
    jobId: newId(),
    attempt: 1,
    createdAt: new Date().toISOString(),
    kind: 'sync',
    params: { mode: 'pull', source, concurrency: 2 },
  });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-access-proc-'));
    nats = await NatsServerProcess.start(join(root, 'nats'));
    nc = await connect({ servers: nats.url });
    await ensureStreams(await nc.jetstreamManager());
    ({ address: addressA } = await startStorage('storage-a', {
      site: 'site-a',
      access: {
        anonymousRole: 'none',
        clients: [
          { name: 'agent-1', role: 'agent', tokenSha256: bearerTokenSha256(tokens.agent) },
          { name: 'storage-b', role: 'peer-read', tokenSha256: bearerTokenSha256(tokens.read) },
          { name: 'storage-c', role: 'peer-push', tokenSha256: bearerTokenSha256(tokens.push) },
        ],
      },
    }));
    const agent = client(addressA, tokens.agent);
    const { backup } = await backupOverWire(agent, { vm: 'db', disk: 'data', sizeBytes: image.length, chunked, jobId: 'j-access' });
    const { manifest } = await new Promise<{ manifest: Buffer }>((resolve, reject) =>
      agent.getManifest({ backupId: backup.backupId }, (err, res) => (err || !res ? reject(err ?? new Error('no answer')) : resolve(res))),
    );
    target = {
      backupId: backup.backupId,
      disk: 'data',
      digest: [...chunked.blobs.values()][0]!.digest,
      chunk: [...fresh.blobs.values()][0]!,
      manifest,
      sessionId: 'no-such-session',
    };
  });
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(procs.map((p) => p.stop()));
    await nc?.close();
    await nats?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('lets a peer-read token list, read manifests, indexes and chunks, and refuses every write', async () => {
    const reader = client(addressA, tokens.read);
    for (const m of READS) assert.deepEqual(await probeCode(reader, m, target), { code: 'OK', message: '' }, m);
    assert.ok((await restoreOverWire(reader, target.backupId, 'data')).equals(image), 'a reader restores the backup byte for byte');
    for (const m of ['PutChunks', 'BeginBackup', 'PutIndex', 'CommitBackup', 'AbortBackup', 'FindMissing', 'ImportBackup'] as const) {
      const res = await probeCode(reader, m, target, { sessionId: m === 'PutChunks' ? target.sessionId : '' });
      assert.equal(res.code, 'PERMISSION_DENIED', m);
      assert.match(res.message, new RegExp(`role peer-read \\(client storage-b\\) may not call BlockStore\\.${m}`));
    }
  });

  it('lets a peer-push token add chunks without a session only, never open a backup', async () => {
    const pusher = client(addressA, tokens.push);
    const pushed = chunkDisk(Buffer.alloc(CHUNK, 0x3d), CHUNK);
    assert.equal((await putChunks(pusher, '', pushed.blobs.values())).chunksWritten, 1, 'a chunk pushed without a session is written');
    assert.deepEqual(await probeCode(pusher, 'ImportBackup', target), { code: 'OK', message: '' }, 'an import of a backup already here is left alone');
    const withSession = await probeCode(pusher, 'PutChunks', target);
    assert.equal(withSession.code, 'PERMISSION_DENIED');
    assert.match(withSession.message, /role peer-push \(client storage-c\) may call BlockStore\.PutChunks only without a session id/);
    for (const m of ['BeginBackup', 'CommitBackup', 'PutIndex', 'AbortBackup'] as const) {
      const res = await probeCode(pusher, m, target);
      assert.equal(res.code, 'PERMISSION_DENIED', m);
      assert.match(res.message, new RegExp(`role peer-push .* may not call BlockStore\\.${m}`));
    }
    for (const m of READS) assert.equal((await probeCode(pusher, m, target)).code, 'OK', m);
    const agent = new GrpcBlockStore(addressA, { token: tokens.agent });
    try {
      assert.deepEqual(await agent.findMissing([target.chunk.digest]), [target.chunk.digest], 'the refused PutChunks calls wrote nothing');
    } finally {
      agent.close();
    }
  });

  it('refuses a wrong token and a call without one with UNAUTHENTICATED, and never logs a token', async () => {
    const wrong = createBearerToken();
    const bad = await probeCode(client(addressA, wrong), 'ListBackups', target);
    assert.equal(bad.code, 'UNAUTHENTICATED');
    assert.match(bad.message, /storage site-a: the token is not valid here/);
    const none = await probeCode(client(addressA), 'GetChunks', target);
    assert.equal(none.code, 'UNAUTHENTICATED');
    assert.match(none.message, /storage site-a: this storage requires a token/);
    // The agent adapter with the wrong token: refused before anything is written.
    const store = new GrpcBlockStore(addressA, { token: wrong });
    try {
      await assert.rejects(store.info(), (err: unknown) => err instanceof AppError && err.code === 'UNAUTHENTICATED');
    } finally {
      store.close();
    }
    const log = await readFile(join(root, 'storage-a.log'), 'utf8');
    assert.match(log, /call refused/);
    for (const t of [wrong, ...Object.values(tokens)]) assert.ok(!log.includes(t), 'no token in the storage log');
  });

  it('a replica pulls with its peer-read token (tokenFile), and fails UNAUTHENTICATED without one', async () => {
    const tokenFile = join(root, 'b-reads-a.token');
    await writeFile(tokenFile, `${tokens.read}\n`, { mode: 0o600 });
    const { address: addressB } = await startStorage('storage-b', {
      site: 'site-b',
      peers: [{ site: 'site-a', address: addressA, tokenFile }],
    });
    const synced = await runStorageJob('site-b', syncJob({ site: 'site-a', address: addressA }));
    assert.equal(synced.type, 'job.succeeded', JSON.stringify(synced));
    if (synced.type === 'job.succeeded' && synced.outcome.kind === 'sync') {
      assert.deepEqual(synced.outcome.result.copied.map((c) => c.backupId), [target.backupId]);
    }
    assert.ok((await restoreOverWire(client(addressB), target.backupId, 'data')).equals(image), 'the replica restores byte for byte');

    await startStorage('storage-c', { site: 'site-c' });
    const refused = await runStorageJob('site-c', syncJob({ site: 'site-a', address: addressA }));
    assert.equal(refused.type, 'job.failed');
    if (refused.type === 'job.failed') {
      assert.equal(refused.error.code, 'UNAUTHENTICATED');
      assert.match(refused.error.message, /this storage requires a token/);
    }
  });

  it('accepts a token made by `bulwark storage-token create` under the sha256 it printed', async () => {
    const tokenFile = join(root, 'cli.token');
    const made = await runCliJson<{ tokenFile: string; tokenSha256: string }>(['storage-token', 'create', '--out', tokenFile, '--json']);
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    assert.deepEqual(await runCliJson(['storage-token', 'hash', tokenFile, '--json']), { tokenSha256: made.tokenSha256 });
    const { address } = await startStorage('storage-d', {
      site: 'site-d',
      access: { anonymousRole: 'none', clients: [{ name: 'replica', role: 'peer-read', tokenSha256: made.tokenSha256 }] },
    });
    assert.equal((await probeCode(client(address, token), 'ListBackups', target)).code, 'OK');
    assert.equal((await probeCode(client(address, token), 'BeginBackup', target)).code, 'PERMISSION_DENIED');
  });

  it('refuses to start, exit code 2, on a bad access config or an unreadable peer token file', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['bad-hash', { access: { anonymousRole: 'none', clients: [{ name: 'x', role: 'agent', tokenSha256: 'ABC' }] } }, /access\.clients\.0\.tokenSha256: must be 64 lowercase hex/],
      ['bad-role', { access: { clients: [{ name: 'x', role: 'admin', tokenSha256: bearerTokenSha256('x') }] } }, /access\.clients\.0\.role/],
      [
        'twice',
        { access: { clients: [0, 1].map((i) => ({ name: `c${i}`, role: 'agent', tokenSha256: bearerTokenSha256(tokens.agent) })) } },
        /access\.clients\.1\.tokenSha256: the same token as access\.clients\.0/,
      ],
      ['no-file', { peers: [{ site: 'site-a', tokenFile: join(root, 'missing.token') }] }, /peers\.0\.tokenFile: cannot read .*missing\.token \(ENOENT\)/],
    ];
    for (const [name, config, message] of cases) {
      const configFile = join(root, `${name}.json`);
      await writeFile(configFile, JSON.stringify({ site: 'site-x', datastoreDir: join(root, `ds-${name}`), nats: { url: nats.url }, ...config }));
      const proc = storageProcess(root, name, configFile);
      await assert.rejects(proc.start(), /before it was ready/);
      assert.equal(await proc.waitForExit(), 2, name);
      assert.match(await readFile(join(root, `${name}.log`), 'utf8'), message);
    }
  });
});

describe('the embedded deployment with storage credentials', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([{ name: 'vm1', disks: [{ name: 'disk0', sizeMib: 24 }] }]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('backs up, syncs and restores byte for byte with tokens everywhere; storages refuse calls without one', async () => {
    const { deployment, env } = ctx;
    const tokensDir = join(deployment.dataDir, 'tokens');
    assert.equal((await stat(tokensDir)).mode & 0o777, 0o700);
    for (const name of ['agent-1', 'storage-a-reads-b', 'storage-b-reads-a']) {
      assert.equal((await stat(join(tokensDir, `${name}.token`))).mode & 0o777, 0o600, name);
    }
    const agentToken = readFileSync(join(tokensDir, 'agent-1.token'), 'utf8').trim();
    assert.equal(agentToken, deployment.agentToken);
    const again = await ensureEmbeddedTokens(tokensDir);
    assert.equal(again.agent.token, agentToken, 'a restart reuses the tokens');
    assert.notEqual(again.peer('a', 'b').token, again.peer('b', 'a').token, 'one token per direction');
    const config = JSON.parse(readFileSync(join(deployment.dataDir, 'storage-a', 'config.json'), 'utf8')) as { access: unknown; peers: unknown };
    assert.ok(!JSON.stringify(config).includes(agentToken), 'a storage config holds hashes, not tokens');
    assert.deepEqual(config.peers, [{ site: 'b', address: deployment.storages.b, tokenFile: join(tokensDir, 'storage-a-reads-b.token') }]);

    const backup = await runJob(BackupResult, ['backup', 'vm1'], env);
    const sync = await runJob(SyncResult, ['sync'], env);
    assert.deepEqual(sync.copied.map((c) => c.backupId), [backup.backup.backupId]);
    const source = await fileSha256(join(deployment.dataDir, 'vms', 'vm1', 'disk0.img'));
    for (const site of ['a', 'b']) {
      const to = join(deployment.dataDir, `restore-${site}`);
      await runJob(RestoreResult, ['restore', backup.backup.backupId, '--to', to, '--site', site], env);
      assert.equal(await fileSha256(join(to, 'disk0.img')), source, `restored from ${site} byte for byte`);
    }

    for (const site of ['a', 'b'] as const) {
      const address = deployment.storages[site] ?? '';
      const anonymous = new GrpcBlockStore(address);
      const asAgent = new GrpcBlockStore(address, { token: deployment.agentToken });
      try {
        await assert.rejects(anonymous.listBackups('vm1'), (err: unknown) => err instanceof AppError && err.code === 'UNAUTHENTICATED');
        assert.deepEqual((await asAgent.listBackups('vm1')).map((b) => b.backupId), [backup.backup.backupId]);
      } finally {
        anonymous.close();
        asAgent.close();
      }
    }
    // Site b's credential at a reads, and cannot write.
    const bAtA = readFileSync(join(tokensDir, 'storage-b-reads-a.token'), 'utf8').trim();
    const reader = createBlockStoreClient(deployment.storages.a ?? '', { token: bAtA });
    try {
      const probeTarget: ProbeTarget = {
        backupId: backup.backup.backupId,
        disk: 'disk0',
        digest: Buffer.alloc(32, 1),
        chunk: { digest: Buffer.alloc(32, 1), blob: Buffer.alloc(64) },
        manifest: Buffer.alloc(0),
        sessionId: 'x',
      };
      assert.equal((await probeCode(reader, 'ListBackups', probeTarget)).code, 'OK');
      const denied = await probeCode(reader, 'BeginBackup', probeTarget);
      assert.equal(denied.code, 'PERMISSION_DENIED');
      assert.match(denied.message, /role peer-read \(client storage-b\) may not call BlockStore\.BeginBackup/);
    } finally {
      reader.close();
    }
  });
});
