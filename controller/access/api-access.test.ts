import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { bearerTokenSha256 } from '../../shared/crypto/bearer-token.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { ApiTokenExistsError } from '../catalog/access-store.js';
import { ACCESS_MIGRATION_SQL, SqliteAccessStore } from '../catalog/sqlite-access-store.js';
import { ApiAccess, ApiPermissionDeniedError, ApiUnauthenticatedError, type AnonymousRole } from './api-access.js';

const log = createLogger('test', 'silent');

function setup(anonymousRole: AnonymousRole = 'none') {
  const db = new Database(':memory:');
  db.exec(ACCESS_MIGRATION_SQL);
  const store = new SqliteAccessStore(db);
  const clock = new ManualClock(Date.UTC(2027, 0, 1));
  const access = new ApiAccess({ store, clock, log, anonymousRole, newId: () => newId(clock.nowMs()) });
  return { db, store, clock, access };
}

const bearer = (secret: string) => [`Bearer ${secret}`];
const code = (c: string) => (err: unknown) => err instanceof AppError && err.code === c;

describe('ApiAccess', () => {
  let ctx: ReturnType<typeof setup>;
  beforeEach(() => {
    ctx = setup();
  });

  it('stores only the hash of a new token and authenticates its secret', () => {
    const { token, secret } = ctx.access.createToken({ name: 'ops', role: 'operator' }, 'bootstrap-admin');
    assert.match(secret, /^bwk_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.tokenSha256, bearerTokenSha256(secret));
    const dump = JSON.stringify(ctx.db.prepare('SELECT * FROM api_tokens').all());
    assert.ok(!dump.includes(secret), 'no plaintext secret in the table');
    assert.deepEqual(ctx.access.authenticate(bearer(secret), 'StartBackup'), { tokenName: 'ops', tokenId: token.id, role: 'operator' });
    assert.equal(ctx.store.getApiToken('ops')?.createdBy, 'bootstrap-admin');
  });

  it('refuses calls without a token when anonymousRole is none, and gives the role otherwise', () => {
    assert.throws(() => ctx.access.authenticate([], 'ListVms'), (err: unknown) => {
      assert.ok(err instanceof ApiUnauthenticatedError);
      assert.match(err.message, /requires an API token; role held: none, Controller\.ListVms needs role viewer: give one with --token-file/);
      return true;
    });
    const viewerAnon = setup('viewer');
    assert.deepEqual(viewerAnon.access.authenticate([], 'ListVms'), { tokenName: 'anonymous', tokenId: null, role: 'viewer' });
  });

  it('refuses malformed, unknown, revoked and expired tokens, naming the known ones', () => {
    assert.throws(() => ctx.access.authenticate(['Basic abc'], 'ListVms'), /must be one "Bearer <token>"/);
    assert.throws(() => ctx.access.authenticate(['Bearer a', 'Bearer b'], 'ListVms'), code('UNAUTHENTICATED'));
    assert.throws(() => ctx.access.authenticate(bearer('bwk_nope'), 'ListVms'), /not valid at this controller/);
    const a = ctx.access.createToken({ name: 'admin-1', role: 'admin' }, 'x');
    const b = ctx.access.createToken({ name: 'admin-2', role: 'admin' }, 'x');
    ctx.access.revokeToken('admin-1', 'admin-2');
    assert.throws(() => ctx.access.authenticate(bearer(a.secret), 'ListVms'), (err: unknown) => {
      assert.ok(err instanceof ApiUnauthenticatedError);
      assert.equal(err.token?.name, 'admin-1');
      assert.match(err.message, /API token admin-1 was revoked at 2027-01-01T00:00:00.000Z/);
      return true;
    });
    const short = ctx.access.createToken({ name: 'short', role: 'viewer', expiresInMs: 60_000 }, 'x');
    assert.equal(ctx.access.authenticate(bearer(short.secret), 'ListVms').tokenName, 'short');
    ctx.clock.advance(60_000);
    assert.throws(() => ctx.access.authenticate(bearer(short.secret), 'ListVms'), /API token short expired at 2027-01-01T00:01:00.000Z/);
    assert.equal(ctx.access.tokenState(ctx.store.getApiToken('short')!), 'expired');
    assert.equal(ctx.access.authenticate(bearer(b.secret), 'ListVms').tokenName, 'admin-2');
  });

  it('records the last use at most once a minute', () => {
    const { secret } = ctx.access.createToken({ name: 'v', role: 'viewer' }, 'x');
    ctx.access.authenticate(bearer(secret), 'ListVms');
    const first = ctx.store.getApiToken('v')?.lastUsedAt;
    assert.equal(first, '2027-01-01T00:00:00.000Z');
    ctx.clock.advance(30_000);
    ctx.access.authenticate(bearer(secret), 'ListVms');
    assert.equal(ctx.store.getApiToken('v')?.lastUsedAt, first);
    ctx.clock.advance(30_000);
    ctx.access.authenticate(bearer(secret), 'ListVms');
    assert.equal(ctx.store.getApiToken('v')?.lastUsedAt, '2027-01-01T00:01:00.000Z');
  });

  it('denies a role weaker than the method needs, naming both roles and the next step', () => {
    const viewer = { tokenName: 'ci', tokenId: 'id', role: 'viewer' as const };
    assert.equal(ctx.access.authorize(viewer, 'ListVms').mutates, false);
    assert.throws(() => ctx.access.authorize(viewer, 'StartBackup'), (err: unknown) => {
      assert.ok(err instanceof ApiPermissionDeniedError);
      assert.equal(err.code, 'PERMISSION_DENIED');
      assert.equal(
        err.message,
        'token ci holds role viewer; Controller.StartBackup needs role operator or higher: use a token with role operator (an admin makes one with `bulwark token create <name> --role operator`)',
      );
      return true;
    });
    assert.throws(() => ctx.access.authorize({ ...viewer, role: 'operator' }, 'CreateApiToken'), /needs role admin/);
    assert.equal(ctx.access.authorize({ ...viewer, role: 'admin' }, 'CreateApiToken').mutates, true);
    assert.throws(() => ctx.access.authorize({ ...viewer, role: 'operator' }, 'NotInTheTable'), /needs role admin/);
  });

  it('refuses a taken or reserved name, and revoking the last usable admin token', () => {
    ctx.access.createToken({ name: 'root', role: 'admin' }, 'x');
    assert.throws(() => ctx.access.createToken({ name: 'root', role: 'viewer' }, 'x'), ApiTokenExistsError);
    assert.throws(() => ctx.access.createToken({ name: 'anonymous', role: 'viewer' }, 'x'), /reserved/);
    assert.throws(() => ctx.access.revokeToken('root', 'root'), /would leave no usable admin token/);
    assert.throws(() => ctx.access.revokeToken('nope', 'root'), code('NOT_FOUND'));
    ctx.access.createToken({ name: 'root-2', role: 'admin' }, 'root');
    const revoked = ctx.access.revokeToken('root', 'root-2');
    assert.equal(revoked.revokedAt, '2027-01-01T00:00:00.000Z');
    ctx.clock.advance(1000);
    assert.equal(ctx.access.revokeToken('root', 'root-2').revokedAt, revoked.revokedAt, 'revoking twice changes nothing');
    assert.throws(() => ctx.access.createToken({ name: 'root', role: 'admin' }, 'x'), ApiTokenExistsError, 'a revoked name is not reused');
  });

  it('makes the bootstrap admin token once, persisting its secret before storing it', async () => {
    const persisted: string[] = [];
    const made = await ctx.access.ensureBootstrapToken((secret) => {
      assert.equal(ctx.access.listTokens().length, 0, 'the file is written before the token is stored');
      persisted.push(secret);
      return Promise.resolve();
    });
    assert.equal(made?.name, 'bootstrap-admin');
    assert.equal(made?.role, 'admin');
    assert.equal(made?.createdBy, 'controller');
    assert.equal(persisted.length, 1);
    assert.equal(ctx.access.authenticate(bearer(persisted[0]!), 'CreateApiToken').role, 'admin');
    assert.equal(await ctx.access.ensureBootstrapToken(() => Promise.reject(new Error('not called'))), undefined);

    const crashed = setup();
    await assert.rejects(crashed.access.ensureBootstrapToken(() => Promise.reject(new Error('disk full'))), /disk full/);
    assert.equal(crashed.access.listTokens().length, 0, 'a failed write stores no token: the next start tries again');
  });

  it('keeps audit entries, newest first, filtered', () => {
    const entry = { tokenName: 'ops', tokenId: 'i', role: 'operator' as const, method: 'StartBackup', request: '{"vm":"v"}', outcome: 'ok', error: null };
    ctx.access.audit({ ...entry, at: '2027-01-01T00:00:00.000Z' });
    ctx.access.audit({ ...entry, at: '2027-01-02T00:00:00.000Z', tokenName: 'ci', method: 'StartGc', outcome: 'PERMISSION_DENIED', error: 'no' });
    assert.deepEqual(ctx.access.listAudit({ limit: 10 }).map((e) => e.method), ['StartGc', 'StartBackup']);
    assert.deepEqual(ctx.access.listAudit({ limit: 10, tokenName: 'ops' }).map((e) => e.method), ['StartBackup']);
    assert.deepEqual(ctx.access.listAudit({ limit: 10, since: '2027-01-01T12:00:00.000Z' }).map((e) => e.tokenName), ['ci']);
    assert.deepEqual(ctx.access.listAudit({ limit: 10, method: 'StartBackup' }).length, 1);
    assert.equal(ctx.access.listAudit({ limit: 1 }).length, 1);
  });

  it('prunes audit entries older than the retention, and only those', () => {
    const entry = { tokenName: 'ops', tokenId: 'i', role: 'operator' as const, method: 'StartBackup', request: '{}', outcome: 'ok', error: null };
    // The clock reads 2027-01-01T00:00Z; a 30-day retention keeps entries from 2026-12-02T00:00Z on.
    ctx.access.audit({ ...entry, at: '2026-11-01T00:00:00.000Z', method: 'old' });
    ctx.access.audit({ ...entry, at: '2026-12-01T23:59:59.999Z', method: 'just-older' });
    ctx.access.audit({ ...entry, at: '2026-12-02T00:00:00.000Z', method: 'edge' });
    ctx.access.audit({ ...entry, at: '2026-12-31T00:00:00.000Z', method: 'recent' });
    assert.equal(ctx.access.pruneAudit(30 * 86_400_000), 2);
    assert.deepEqual(ctx.access.listAudit({ limit: 10 }).map((e) => e.method), ['recent', 'edge']);
    assert.equal(ctx.access.pruneAudit(30 * 86_400_000), 0, 'nothing more to prune');
  });
});
