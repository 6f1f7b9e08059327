import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../shared/clock.js';
import { ConfigError } from '../../shared/errors.js';
import { BEARER_TOKEN_PATTERN, bearerTokenSha256, createBearerToken, findByTokenSha256 } from '../../shared/crypto/bearer-token.js';
import { callUnary } from '../../shared/rpc/grpc-calls.js';
import { startGrpcServer, stopGrpcServer } from '../../shared/rpc/grpc-server.js';
import { blockStorePackage, createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { Datastore } from '../datastore/datastore.js';
import { probeCode, type ProbeTarget } from '../testing/access-probes.js';
import { chunkDisk, makeDiskImage } from '../testing/disk-fixture.js';
import { backupOverWire, putChunks, restoreOverWire } from '../testing/test-storage.js';
import type { FindMissingRequest } from '../../shared/rpc/generated/bulwark/v1/FindMissingRequest.js';
import type { FindMissingResponse__Output } from '../../shared/rpc/generated/bulwark/v1/FindMissingResponse.js';
import {
  AccessDeniedError,
  authenticate,
  authorizeMessage,
  authorizeMethod,
  blockStoreMethodOf,
  checkAccessConfig,
  createAccessInterceptor,
  METHOD_ROLES,
  UnauthenticatedError,
  type AccessConfig,
  type BlockStoreMethod,
  type StorageRole,
} from './access-control.js';
import { createBlockStoreService } from './blockstore-service.js';

const CHUNK = 64 * 1024;
const READS: BlockStoreMethod[] = ['GetDatastoreInfo', 'ListBackups', 'GetManifest', 'GetIndex', 'GetChunks'];
const methodsOf = (role: StorageRole) => (Object.keys(METHOD_ROLES) as BlockStoreMethod[]).filter((m) => METHOD_ROLES[m].includes(role)).sort();

describe('BlockStore roles', () => {
  it('places every method of the service, and only those', () => {
    assert.deepEqual(Object.keys(METHOD_ROLES).sort(), Object.keys(blockStorePackage().BlockStore.service).sort());
  });

  it('gives peer-read the reads only, peer-push the reads plus chunks and imports, agent everything but imports', () => {
    assert.deepEqual(methodsOf('peer-read'), [...READS].sort());
    assert.deepEqual(methodsOf('peer-push'), [...READS, 'FindMissing', 'PutChunks', 'ImportBackup'].sort());
    assert.deepEqual(methodsOf('agent'), (Object.keys(METHOD_ROLES) as BlockStoreMethod[]).filter((m) => m !== 'ImportBackup').sort());
  });

  it('names methods from their gRPC path and knows no other service', () => {
    assert.equal(blockStoreMethodOf('/bulwark.v1.BlockStore/PutChunks'), 'PutChunks');
    assert.equal(blockStoreMethodOf('/bulwark.v1.BlockStore/DeleteEverything'), undefined);
    assert.equal(blockStoreMethodOf('/bulwark.v1.Controller/ListVms'), undefined);
    assert.equal(blockStoreMethodOf('/bulwark.v1.BlockStore/toString'), undefined);
    assert.throws(() => authorizeMethod({ client: 'x', role: 'agent' }, undefined, '/other.Service/Call'), /role agent \(client x\) may not call BlockStore\.\/other\.Service\/Call/);
  });

  it('holds the session rule: agent streams chunks into a session, peer-push never names one', () => {
    const agent = { client: 'agent-1', role: 'agent' } as const;
    const push = { client: 'site-a', role: 'peer-push' } as const;
    assert.doesNotThrow(() => authorizeMessage(agent, 'PutChunks', { sessionId: 's1' }, 0));
    assert.doesNotThrow(() => authorizeMessage(agent, 'PutChunks', { sessionId: '' }, 1), 'later messages may omit it');
    assert.throws(() => authorizeMessage(agent, 'PutChunks', { sessionId: '' }, 0), /role agent \(client agent-1\) may call BlockStore\.PutChunks only with a session id/);
    assert.doesNotThrow(() => authorizeMessage(agent, 'FindMissing', { sessionId: '' }, 0));
    assert.doesNotThrow(() => authorizeMessage(push, 'PutChunks', { sessionId: '' }, 0));
    assert.throws(() => authorizeMessage(push, 'PutChunks', { sessionId: 's1' }, 0), AccessDeniedError);
    assert.throws(() => authorizeMessage(push, 'PutChunks', { sessionId: 's1' }, 5), /peer-push \(client site-a\) may call BlockStore\.PutChunks only without a session id/);
    assert.throws(() => authorizeMessage(push, 'FindMissing', { sessionId: 's1' }, 0), /FindMissing only without a session id/);
    assert.doesNotThrow(() => authorizeMessage(push, 'GetChunks', { sessionId: 's1' }, 0));
  });
});

describe('bearer tokens', () => {
  it('are bwk_ + 32 random bytes in base64url, each different', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => createBearerToken()));
    assert.equal(tokens.size, 100);
    for (const t of tokens) assert.match(t, BEARER_TOKEN_PATTERN);
    assert.equal(Buffer.from([...tokens][0]!.slice(4), 'base64url').length, 32);
  });

  it('are kept as their SHA-256 in hex', () => {
    assert.equal(bearerTokenSha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('are looked up by hash among all entries', () => {
    const [t1, t2] = [createBearerToken(), createBearerToken()];
    const entries = [
      { name: 'one', tokenSha256: bearerTokenSha256(t1) },
      { name: 'two', tokenSha256: bearerTokenSha256(t2) },
    ];
    assert.equal(findByTokenSha256(entries, t2)?.name, 'two');
    assert.equal(findByTokenSha256(entries, t1)?.name, 'one');
    assert.equal(findByTokenSha256(entries, createBearerToken()), undefined);
    assert.equal(findByTokenSha256(entries, ''), undefined);
    assert.equal(findByTokenSha256([], t1), undefined);
  });
});

describe('authenticate', () => {
  const token = createBearerToken();
  const access = (anonymousRole: AccessConfig['anonymousRole']): AccessConfig => ({
    anonymousRole,
    clients: [{ name: 'storage-b', role: 'peer-read', tokenSha256: bearerTokenSha256(token) }],
  });

  it('gives a call without a token the anonymous role, or refuses it under none', () => {
    assert.deepEqual(authenticate(access('agent'), [], 'a'), { client: 'anonymous', role: 'agent' });
    assert.deepEqual(authenticate(access('peer-read'), [], 'a'), { client: 'anonymous', role: 'peer-read' });
    assert.throws(() => authenticate(access('none'), [], 'a'), (err: unknown) => err instanceof UnauthenticatedError && /storage a: this storage requires a token/.test(err.message));
  });

  it('names the client of a known token; refuses malformed and unknown ones without echoing them', () => {
    assert.deepEqual(authenticate(access('none'), [`Bearer ${token}`], 'a'), { client: 'storage-b', role: 'peer-read' });
    for (const bad of [[token], [`Basic ${token}`], [`Bearer ${token}`, `Bearer ${token}`], ['Bearer '], [Buffer.from(token)]]) {
      assert.throws(() => authenticate(access('agent'), bad, 'a'), (err: unknown) => err instanceof UnauthenticatedError && /must be one "Bearer <token>"/.test(err.message) && !err.message.includes(token));
    }
    const other = createBearerToken();
    assert.throws(() => authenticate(access('agent'), [`Bearer ${other}`], 'a'), (err: unknown) => err instanceof UnauthenticatedError && /not valid here/.test(err.message) && !err.message.includes(other));
  });

  it('refuses a config listing the same token twice', () => {
    const h = bearerTokenSha256(token);
    const twice: AccessConfig = { anonymousRole: 'none', clients: [{ name: 'a', role: 'agent', tokenSha256: h }, { name: 'b', role: 'peer-read', tokenSha256: h }] };
    assert.throws(() => checkAccessConfig(twice, 'storage.json'), (err: unknown) => err instanceof ConfigError && /access\.clients\.1\.tokenSha256: the same token as access\.clients\.0/.test(err.message));
  });
});

describe('the access interceptor on a real BlockStore server', () => {
  const clock = new ManualClock();
  const tokens = { agent: createBearerToken(), read: createBearerToken(), push: createBearerToken() };
  const access: AccessConfig = {
    anonymousRole: 'none',
    clients: [
      { name: 'agent-1', role: 'agent', tokenSha256: bearerTokenSha256(tokens.agent) },
      { name: 'storage-b', role: 'peer-read', tokenSha256: bearerTokenSha256(tokens.read) },
      { name: 'storage-c', role: 'peer-push', tokenSha256: bearerTokenSha256(tokens.push) },
    ],
  };
  let dir: string;
  let stopServer: () => Promise<void>;
  let address: string;
  let logText = '';
  const clients: BlockStoreClient[] = [];
  const client = (token?: string) => {
    const c = createBlockStoreClient(address, token === undefined ? {} : { token });
    clients.push(c);
    return c;
  };
  let target: ProbeTarget;
  const image = makeDiskImage(400_000, 5);
  const chunked = chunkDisk(image, CHUNK);
  const extra = chunkDisk(Buffer.alloc(CHUNK, 0x77), CHUNK);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-access-'));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logText += chunk.toString();
        done();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const datastore = await Datastore.open(dir, { chunkSizeBytes: CHUNK, clock, log, keyFingerprint: null });
    const started = await startGrpcServer(
      '127.0.0.1:0',
      (s) => s.addService(blockStorePackage().BlockStore.service, createBlockStoreService({ datastore, site: 'a', log })),
      { interceptors: [createAccessInterceptor(access, 'a', log)] },
    );
    address = started.address;
    stopServer = () => stopGrpcServer(started.server, 1000);
    const { backup } = await backupOverWire(client(tokens.agent), { vm: 'vm1', disk: 'd0', sizeBytes: image.length, chunked, jobId: 'j1' });
    const first = [...extra.blobs.values()][0]!;
    target = {
      backupId: backup.backupId,
      disk: 'd0',
      digest: [...chunked.blobs.values()][0]!.digest,
      chunk: first,
      manifest: await datastore.readManifestFile(backup.backupId),
      sessionId: 'no-such-session',
    };
  });
  after(async () => {
    for (const c of clients) c.close();
    await stopServer();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets an agent back up and restore byte for byte', async () => {
    const agent = client(tokens.agent);
    const { backup } = await backupOverWire(agent, { vm: 'vm2', disk: 'd0', sizeBytes: image.length, chunked, jobId: 'j2' });
    assert.ok((await restoreOverWire(agent, backup.backupId, 'd0')).equals(image));
  });

  it('lets peer-read read everything and refuses every other method, naming role and method', async () => {
    const reader = client(tokens.read);
    for (const m of READS) assert.deepEqual(await probeCode(reader, m, target), { code: 'OK', message: '' }, m);
    for (const m of (Object.keys(METHOD_ROLES) as BlockStoreMethod[]).filter((x) => !READS.includes(x))) {
      const res = await probeCode(reader, m, target, { sessionId: m === 'FindMissing' ? '' : target.sessionId });
      assert.equal(res.code, 'PERMISSION_DENIED', m);
      assert.match(res.message, new RegExp(`role peer-read \\(client storage-b\\) may not call BlockStore\\.${m}$`));
    }
  });

  it('lets peer-push add chunks without a session only, and never open or commit one', async () => {
    const pusher = client(tokens.push);
    for (const m of READS) assert.equal((await probeCode(pusher, m, target)).code, 'OK', m);
    assert.equal((await probeCode(pusher, 'FindMissing', target, { sessionId: '' })).code, 'OK');
    const withSession = await probeCode(pusher, 'PutChunks', target);
    assert.equal(withSession.code, 'PERMISSION_DENIED');
    assert.match(withSession.message, /role peer-push \(client storage-c\) may call BlockStore\.PutChunks only without a session id/);
    assert.equal((await probeCode(pusher, 'FindMissing', target)).code, 'PERMISSION_DENIED');
    for (const m of ['BeginBackup', 'PutIndex', 'CommitBackup', 'AbortBackup'] as const) {
      assert.equal((await probeCode(pusher, m, target)).code, 'PERMISSION_DENIED', m);
    }
    const pushed = chunkDisk(Buffer.alloc(CHUNK, 0x78), CHUNK);
    assert.equal((await putChunks(pusher, '', pushed.blobs.values())).chunksWritten, 1, 'a chunk pushed without a session is written');
    assert.deepEqual(await probeCode(pusher, 'ImportBackup', target), { code: 'OK', message: '' }, 'an import of a backup already here is left alone');
  });

  it('refuses an agent PutChunks without a session id, and answers an empty stream', async () => {
    const agent = client(tokens.agent);
    const res = await probeCode(agent, 'PutChunks', target, { sessionId: '' });
    assert.equal(res.code, 'PERMISSION_DENIED');
    assert.match(res.message, /role agent \(client agent-1\) may call BlockStore\.PutChunks only with a session id/);
    assert.deepEqual(await putChunks(agent, 'any', []), { chunksWritten: 0, chunksAlreadyPresent: 0, bytesWritten: 0 });
  });

  it('writes nothing for a refused PutChunks', async () => {
    for (const token of [tokens.read, tokens.push]) assert.equal((await probeCode(client(token), 'PutChunks', target)).code, 'PERMISSION_DENIED');
    const { missing } = await callUnary<FindMissingRequest, FindMissingResponse__Output>('storage', (r, o, cb) => client(tokens.agent).findMissing(r, o, cb), { digests: [target.chunk.digest] });
    assert.deepEqual(missing, [target.chunk.digest]);
  });

  it('refuses no token and an unknown token with UNAUTHENTICATED, on every method', async () => {
    const wrong = createBearerToken();
    for (const m of Object.keys(METHOD_ROLES) as BlockStoreMethod[]) {
      const none = await probeCode(client(), m, target);
      assert.equal(none.code, 'UNAUTHENTICATED', m);
      assert.match(none.message, /storage a: this storage requires a token/);
      const bad = await probeCode(client(wrong), m, target);
      assert.equal(bad.code, 'UNAUTHENTICATED', m);
      assert.match(bad.message, /the token is not valid here/);
    }
    const info = await callUnary('storage', client(tokens.read).getDatastoreInfo.bind(client(tokens.read)), {});
    assert.ok(info, 'the server still serves');
    assert.ok(!logText.includes(wrong), 'a presented token is never logged');
    for (const t of Object.values(tokens)) assert.ok(!logText.includes(t), 'a valid token is never logged');
    assert.match(logText, /call refused/);
    assert.doesNotMatch(logText, /unexpected error in call/, 'a refused stream is not an internal error');
  });
});
