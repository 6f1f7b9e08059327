/**
 * API tokens, roles and the audit log with real processes: the embedded deployment of `bulwark
 * up` (its controller runs with anonymousRole none and a bootstrap admin token that client.json
 * names). Through the real CLI: an admin makes operator, viewer and short-lived tokens; a viewer
 * lists but may not start a backup (PERMISSION_DENIED naming both roles, exit 4); an operator
 * backs up (restored byte for byte) but may not make tokens; no token and a wrong token are
 * UNAUTHENTICATED; a revoked and an expired token are refused; `bulwark audit` lists the mutating
 * and refused calls with token names and outcomes and no secret; the SQLite catalog holds no
 * plaintext secret.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupResult, RestoreResult } from '../../shared/messages/results.js';
import { runCli, runCliJson, type CliResult } from '../helpers/cli.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

interface TokenView {
  name: string;
  role: string;
  state: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  secret?: string;
  secretFile?: string;
}

interface AuditView {
  at: string;
  token: string;
  role: string | null;
  method: string;
  request: Record<string, unknown> | null;
  outcome: string;
  error: string | null;
}

const DENIED = 4;

describe('API tokens, roles and audit on the embedded deployment', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;
  let tokens: string;
  const secrets: string[] = [];
  /** The CLI as the holder of a token file (not the client config's admin token). */
  const as = (file: string, args: string[]): Promise<CliResult> => runCli([...args, '--token-file', file], ctx.env, 120_000);
  const expectRefused = (res: CliResult, pattern: RegExp, what: string) => {
    assert.equal(res.code, DENIED, `${what}: exit ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, pattern, what);
  };

  before(async () => {
    ctx = await startTestDeployment([{ name: 'vm1', disks: [{ name: 'disk0', sizeMib: 8 }] }]);
    tokens = join(ctx.deployment.dataDir, 'test-tokens');
    mkdirSync(tokens, { recursive: true });
    secrets.push(ctx.deployment.adminToken);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('runs `bulwark up` with auth on: an admin token in a 0600 file that client.json names', () => {
    const { deployment } = ctx;
    assert.equal(statSync(deployment.adminTokenFile).mode & 0o777, 0o600);
    const client = JSON.parse(readFileSync(join(deployment.dataDir, 'client.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(client, { controller: deployment.controllerAddress, tokenFile: deployment.adminTokenFile });
    const config = JSON.parse(readFileSync(join(deployment.dataDir, 'controller', 'config.json'), 'utf8')) as { access: unknown };
    assert.deepEqual(config.access, { anonymousRole: 'none', bootstrapTokenFile: deployment.adminTokenFile });
  });

  it('enforces roles, refuses bad tokens, and audits every mutating and refused call without secrets', async () => {
    const { deployment, env } = ctx;
    const file = (name: string) => join(tokens, `${name}.token`);
    const create = async (name: string, role: string, extra: string[] = []): Promise<TokenView> => {
      const made = await runCliJson<TokenView>(['token', 'create', name, '--role', role, '--out', file(name), ...extra], env);
      assert.equal(statSync(file(name)).mode & 0o777, 0o600);
      secrets.push(readFileSync(file(name), 'utf8').trim());
      return made;
    };

    // The admin (client.json's bootstrap token) makes the others; the secret is printed once.
    const printed = await runCliJson<TokenView>(['token', 'create', 'printed', '--role', 'viewer'], env);
    assert.match(printed.secret ?? '', /^bwk_[A-Za-z0-9_-]{43}$/);
    secrets.push(printed.secret ?? '');
    const ops = await create('ops', 'operator');
    assert.deepEqual([ops.role, ops.state, ops.createdBy, ops.expiresAt], ['operator', 'active', 'bootstrap-admin', null]);
    await create('watcher', 'viewer');
    const brief = await create('brief', 'viewer', ['--expires', '3s']);
    assert.ok(brief.expiresAt);

    // A viewer lists, but may not start a backup.
    const vms = await runCliJson<{ name: string }[]>(['vms', '--token-file', file('watcher')], env);
    assert.deepEqual(vms.map((v) => v.name), ['vm1']);
    expectRefused(
      await as(file('watcher'), ['backup', 'vm1']),
      /token watcher holds role viewer; Controller\.StartBackup needs role operator or higher: use a token with role operator/,
      'a viewer starting a backup',
    );

    // An operator backs up (BULWARK_TOKEN this time), but may not make tokens.
    const opsSecret = readFileSync(file('ops'), 'utf8').trim();
    const backup = await runJob(BackupResult, ['backup', 'vm1', '--mode', 'full'], { ...env, BULWARK_TOKEN: opsSecret });
    expectRefused(await as(file('ops'), ['token', 'create', 'sneaky', '--role', 'admin']), /token ops holds role operator; Controller\.CreateApiToken needs role admin/, 'an operator making a token');
    expectRefused(await as(file('ops'), ['audit']), /needs role admin/, 'an operator reading the audit log');

    // No token (a home without client.json) and a wrong token are UNAUTHENTICATED.
    const bare = { BULWARK_HOME: join(deployment.dataDir, 'no-such-home'), BULWARK_CONTROLLER: deployment.controllerAddress };
    expectRefused(await runCli(['vms'], bare), /this controller requires an API token; role held: none, Controller\.ListVms needs role viewer/, 'no token');
    expectRefused(await runCli(['vms'], { ...bare, BULWARK_TOKEN: 'bwk_not-a-real-token' }), /the API token is not valid at this controller/, 'a wrong token');

    // Revoked and expired tokens are refused, naming the token.
    const revoked = await runCliJson<TokenView>(['token', 'revoke', 'watcher'], env);
    assert.equal(revoked.state, 'revoked');
    expectRefused(await as(file('watcher'), ['vms']), /API token watcher was revoked at /, 'a revoked token');
    await waitFor('the 3 s token to expire', async () => {
      const res = await as(file('brief'), ['vms']);
      return res.code === DENIED && /API token brief expired at /.test(res.stderr) ? true : undefined;
    }, 30_000, 500);

    const listed = await runCliJson<TokenView[]>(['token', 'list'], env);
    const states = Object.fromEntries(listed.map((t) => [t.name, t.state]));
    assert.deepEqual(states, { 'bootstrap-admin': 'active', printed: 'active', ops: 'active', watcher: 'revoked', brief: 'expired' });
    assert.ok(listed.find((t) => t.name === 'ops')?.lastUsedAt, 'the operator token was used');

    // The audit log: mutating calls with their outcome, refused calls, token names, no secrets.
    const audit = await runCliJson<AuditView[]>(['audit', '--since', '1h', '--limit', '1000'], env);
    const has = (token: string, method: string, outcome: string) =>
      assert.ok(audit.some((e) => e.token === token && e.method === method && e.outcome === outcome), `audit: ${token} ${method} ${outcome}\n${JSON.stringify(audit, null, 1)}`);
    has('bootstrap-admin', 'CreateApiToken', 'ok');
    has('watcher', 'StartBackup', 'PERMISSION_DENIED');
    has('ops', 'StartBackup', 'ok');
    has('ops', 'CreateApiToken', 'PERMISSION_DENIED');
    has('ops', 'ListAuditEntries', 'PERMISSION_DENIED');
    has('anonymous', 'ListVms', 'UNAUTHENTICATED');
    has('-', 'ListVms', 'UNAUTHENTICATED');
    has('watcher', 'ListVms', 'UNAUTHENTICATED');
    has('brief', 'ListVms', 'UNAUTHENTICATED');
    has('bootstrap-admin', 'RevokeApiToken', 'ok');
    const deniedBackup = audit.find((e) => e.token === 'watcher' && e.method === 'StartBackup');
    assert.deepEqual(deniedBackup?.request, { vm: 'vm1', mode: 'auto' }, 'the refused request is recorded');
    assert.equal(deniedBackup?.role, 'viewer');
    assert.match(deniedBackup?.error ?? '', /needs role operator/);
    assert.ok(!audit.some((e) => e.method === 'ListVms' && e.outcome === 'ok'), 'successful reads are not audited');
    const text = JSON.stringify(audit);
    for (const s of secrets) assert.ok(s.length > 10 && !text.includes(s), 'no secret in the audit log');
    const table = await runCli(['audit', '--token', 'watcher'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /TOKEN[\s\S]*watcher\s.*viewer\s.*StartBackup\s.*PERMISSION_DENIED\s.*\{"vm":"vm1","mode":"auto"\} token watcher holds role viewer/);
    const tokenTable = await runCli(['token', 'list'], env);
    assert.equal(tokenTable.code, 0, tokenTable.stderr);
    assert.match(tokenTable.stdout, /watcher\s.*viewer\s.*revoked /);
    const opsOnly = await runCliJson<AuditView[]>(['audit', '--token', 'ops', '--method', 'StartBackup'], env);
    assert.deepEqual(opsOnly.map((e) => [e.token, e.method, e.outcome]), [['ops', 'StartBackup', 'ok']]);

    // The catalog holds hashes only: no secret anywhere in the SQLite file or its WAL.
    const dbPath = join(deployment.dataDir, 'controller', 'catalog.db');
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT name, token_sha256 FROM api_tokens').all() as { name: string; token_sha256: string }[];
      assert.equal(rows.length, 5);
      for (const r of rows) assert.match(r.token_sha256, /^[0-9a-f]{64}$/);
    } finally {
      db.close();
    }
    const bytes = Buffer.concat([dbPath, `${dbPath}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
    for (const s of secrets) assert.equal(bytes.indexOf(s), -1, 'no plaintext secret in the catalog files');

    // The operator's backup restores byte for byte.
    const target = join(deployment.dataDir, 'restored');
    await runJob(RestoreResult, ['restore', backup.backup.backupId, '--to', target], { ...env, BULWARK_TOKEN: opsSecret });
    assert.equal(
      await fileSha256(join(target, 'disk0.img')),
      await fileSha256(join(deployment.dataDir, 'vms', 'vm1', 'disk0.img')),
      'the backup restores byte for byte',
    );
  });
});
