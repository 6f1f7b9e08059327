import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { AppError, PreconditionError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { callUnary, unaryHandler } from '../../shared/rpc/grpc-calls.js';
import { startGrpcServer, stopGrpcServer } from '../../shared/rpc/grpc-server.js';
import { controllerPackage, createControllerClient, type ControllerClient } from '../../shared/rpc/proto-packages.js';
import { ApiAccess } from '../access/api-access.js';
import { ACCESS_MIGRATION_SQL, SqliteAccessStore } from '../catalog/sqlite-access-store.js';
import { createAccessHandlers } from './grpc-access-control-service.js';
import { CALLER_ROLE_KEY, CALLER_TOKEN_KEY, createApiAccessInterceptor, summarizeRequest } from './grpc-access-control.js';

const log = createLogger('test', 'silent');

describe('the API access interceptor, on a real gRPC server', () => {
  const db = new Database(':memory:');
  db.exec(ACCESS_MIGRATION_SQL);
  const store = new SqliteAccessStore(db);
  const clock = new ManualClock(Date.UTC(2027, 0, 1));
  const access = new ApiAccess({ store, clock, log, anonymousRole: 'none', newId: () => newId(clock.nowMs()) });
  const secrets = {
    admin: access.createToken({ name: 'root', role: 'admin' }, 'test').secret,
    operator: access.createToken({ name: 'ops', role: 'operator' }, 'test').secret,
    viewer: access.createToken({ name: 'watcher', role: 'viewer' }, 'test').secret,
  };
  const seen: { metadata: Record<string, unknown>; request: unknown }[] = [];
  let server: grpc.Server;
  let address: string;
  const clients: ControllerClient[] = [];
  const client = (token?: string, extra?: grpc.Metadata) => {
    const c = createControllerClient(address, token === undefined ? {} : { token });
    clients.push(c);
    return {
      listVms: () => callUnary<object, unknown>('controller', (r, o, cb) => c.listVms(r, extra ?? new grpc.Metadata(), o, cb), {}),
      startBackup: (vm: string) => callUnary<object, unknown>('controller', (r, o, cb) => c.startBackup(r, extra ?? new grpc.Metadata(), o, cb), { vm, mode: 'full' }),
      createToken: (name: string) =>
        callUnary<object, { secret: string }>('controller', (r, o, cb) => c.createApiToken(r, o, cb), { name, role: 'viewer', expiresInMs: 0 }),
    };
  };
  const refusedWith = (c: string, pattern: RegExp) => (err: unknown) => err instanceof AppError && err.code === c && pattern.test(err.message);

  before(async () => {
    const record = (call: grpc.ServerUnaryCall<unknown, unknown>) => seen.push({ metadata: call.metadata.getMap(), request: call.request });
    ({ server, address } = await startGrpcServer(
      '127.0.0.1:0',
      (s) => {
        s.addService(controllerPackage().Controller.service, {
          ListVms: unaryHandler(log, (_req, call) => {
            record(call);
            return Promise.resolve({ vms: [] });
          }),
          StartBackup: unaryHandler(log, (req: { vm: string }, call) => {
            record(call);
            if (req.vm === 'broken') return Promise.reject(new PreconditionError('VM broken has no online agent'));
            return Promise.resolve({ id: 'J1', kind: 'backup', state: 'queued' });
          }),
          ...createAccessHandlers(access, log),
        });
      },
      { interceptors: [createApiAccessInterceptor(access, clock, log)] },
    ));
  });

  after(async () => {
    for (const c of clients) c.close();
    await stopGrpcServer(server, 500);
  });

  const lastAudit = () => access.listAudit({ limit: 1 })[0];

  it('refuses a call without a token as UNAUTHENTICATED and audits it as anonymous, with the request', async () => {
    await assert.rejects(client().startBackup('vm1'), refusedWith('UNAUTHENTICATED', /role held: none, Controller\.StartBackup needs role operator/));
    const entry = lastAudit();
    assert.equal(entry?.tokenName, 'anonymous');
    assert.equal(entry?.role, null);
    assert.equal(entry?.outcome, 'UNAUTHENTICATED');
    assert.deepEqual(JSON.parse(entry?.request ?? 'null'), { vm: 'vm1', mode: 'full' });
    assert.equal(seen.length, 0, 'the handler never ran');
  });

  it('refuses a wrong token, audited as "-" without repeating it', async () => {
    await assert.rejects(client('bwk_wrong-secret-value').listVms(), refusedWith('UNAUTHENTICATED', /not valid at this controller/));
    const entry = lastAudit();
    assert.equal(entry?.tokenName, '-');
    assert.equal(entry?.method, 'ListVms');
    assert.ok(!JSON.stringify(entry).includes('wrong-secret'), 'the token is not in the audit log');
  });

  it('lets a viewer read (not audited) but not start a backup (PERMISSION_DENIED, audited)', async () => {
    const before = access.listAudit({ limit: 100 }).length;
    await client(secrets.viewer).listVms();
    assert.equal(access.listAudit({ limit: 100 }).length, before, 'reads are not audited');
    await assert.rejects(
      client(secrets.viewer).startBackup('vm1'),
      refusedWith('PERMISSION_DENIED', /^token watcher holds role viewer; Controller\.StartBackup needs role operator or higher/),
    );
    const entry = lastAudit();
    assert.deepEqual([entry?.tokenName, entry?.role, entry?.method, entry?.outcome], ['watcher', 'viewer', 'StartBackup', 'PERMISSION_DENIED']);
    assert.match(entry?.error ?? '', /needs role operator/);
  });

  it('passes an operator\'s backup to the handler with the caller, never the token, and audits the outcome', async () => {
    const forged = new grpc.Metadata();
    forged.set(CALLER_TOKEN_KEY, 'root');
    forged.set(CALLER_ROLE_KEY, 'admin');
    seen.length = 0;
    await client(secrets.operator, forged).startBackup('vm1');
    assert.equal(seen.length, 1);
    const md = seen[0]!.metadata;
    assert.equal(md.authorization, undefined, 'the handler never sees the token');
    assert.equal(md[CALLER_TOKEN_KEY], 'ops', 'a client cannot name itself');
    assert.equal(md[CALLER_ROLE_KEY], 'operator');
    let entry = lastAudit();
    assert.deepEqual([entry?.tokenName, entry?.role, entry?.outcome, entry?.error], ['ops', 'operator', 'ok', null]);

    await assert.rejects(client(secrets.operator).startBackup('broken'), refusedWith('FAILED_PRECONDITION', /no online agent/));
    entry = lastAudit();
    assert.deepEqual([entry?.tokenName, entry?.outcome, entry?.error], ['ops', 'FAILED_PRECONDITION', 'VM broken has no online agent']);
  });

  it('lets only admins create tokens; the secret is returned but never audited', async () => {
    await assert.rejects(client(secrets.operator).createToken('x'), refusedWith('PERMISSION_DENIED', /needs role admin/));
    const made = await client(secrets.admin).createToken('new-viewer');
    assert.match(made.secret, /^bwk_/);
    const entry = lastAudit();
    assert.deepEqual([entry?.tokenName, entry?.method, entry?.outcome], ['root', 'CreateApiToken', 'ok']);
    assert.deepEqual(JSON.parse(entry?.request ?? 'null'), { name: 'new-viewer', role: 'viewer', expiresInMs: 0 });
    assert.equal(store.getApiToken('new-viewer')?.createdBy, 'root');
    const all = JSON.stringify(access.listAudit({ limit: 1000 }));
    for (const s of [made.secret, ...Object.values(secrets)]) assert.ok(!all.includes(s), 'no secret in the audit log');
  });

  it('redacts secret-looking fields and cuts long requests', () => {
    assert.equal(summarizeRequest({ name: 'a', token: 'bwk_x', storageToken: 'y', passphrase: 'p', tokenName: 'ok', empty: '', list: [] }), '{"name":"a","token":"[redacted]","storageToken":"[redacted]","passphrase":"[redacted]","tokenName":"ok"}');
    assert.equal(summarizeRequest({ data: Buffer.alloc(10) }), '{"data":"[10 bytes]"}');
    assert.ok(summarizeRequest({ s: 'x'.repeat(5000) }).endsWith('…(cut)'));
  });
});
