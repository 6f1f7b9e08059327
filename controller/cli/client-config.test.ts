import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, ValidationError } from '../../shared/errors.js';
import { clientConfigPath, locateController, writeClientConfig } from './client-config.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('controller discovery', () => {
  it('prefers --controller, then BULWARK_CONTROLLER, then client.json in BULWARK_HOME or ./.bulwark', () => {
    const home = join(dir, 'home');
    writeClientConfig(home, '127.0.0.1:7001');
    assert.deepEqual(JSON.parse(readFileSync(clientConfigPath(home), 'utf8')), { controller: '127.0.0.1:7001' });
    writeClientConfig(join(dir, 'cwd', '.bulwark'), '127.0.0.1:7002');
    const env = { BULWARK_CONTROLLER: '127.0.0.1:7003', BULWARK_HOME: home };
    const cwd = join(dir, 'cwd');
    assert.equal(locateController({ flag: 'h:7004', env, cwd })?.address, 'h:7004');
    assert.equal(locateController({ env, cwd })?.address, '127.0.0.1:7003');
    assert.equal(locateController({ env: { BULWARK_HOME: home }, cwd })?.address, '127.0.0.1:7001');
    assert.equal(locateController({ env: {}, cwd })?.address, '127.0.0.1:7002');
    assert.equal(locateController({ env: {}, cwd: dir }), undefined);
  });

  it('rejects bad values, naming where they came from', () => {
    assert.throws(() => locateController({ flag: 'nohost', env: {}, cwd: dir }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('--controller: must be host:port'));
    assert.throws(() => locateController({ env: { BULWARK_CONTROLLER: 'x:99999' }, cwd: dir }), (e: unknown) => e instanceof ConfigError && /BULWARK_CONTROLLER: the port/.test(e.message));
    const bad = join(dir, 'bad');
    writeClientConfig(bad, '127.0.0.1:1');
    writeFileSync(clientConfigPath(bad), '{"controller": 7}');
    assert.throws(() => locateController({ env: { BULWARK_HOME: bad }, cwd: dir }), (e: unknown) => e instanceof ConfigError && e.message.includes('client.json: controller:'));
  });

  it('sends the API token of --token-file, then BULWARK_TOKEN, then the client config (its own controller only)', () => {
    const home = join(dir, 'auth');
    const tokenFile = join(dir, 'admin.token');
    writeFileSync(tokenFile, 'bwk_from-config-file\n');
    writeClientConfig(home, '127.0.0.1:7101', { tokenFile });
    assert.equal(statSync(clientConfigPath(home)).mode & 0o777, 0o600);
    const flagFile = join(dir, 'flag.token');
    writeFileSync(flagFile, 'bwk_from-flag\n');
    const env = { BULWARK_HOME: home };
    const at = (input: Partial<Parameters<typeof locateController>[0]>) => locateController({ env, cwd: dir, ...input });
    assert.deepEqual([at({})?.token, at({})?.tokenSource], ['bwk_from-config-file', clientConfigPath(home)]);
    assert.equal(at({ env: { ...env, BULWARK_TOKEN: 'bwk_from-env' } })?.token, 'bwk_from-env');
    assert.equal(at({ tokenFile: flagFile, env: { ...env, BULWARK_TOKEN: 'bwk_from-env' } })?.token, 'bwk_from-flag');
    assert.equal(at({ flag: '127.0.0.1:7101' })?.token, 'bwk_from-config-file', 'the same controller named by flag');
    assert.equal(at({ flag: 'elsewhere:7101' })?.token, undefined, "the client config's token never goes to another controller");
    assert.throws(() => at({ tokenFile: join(dir, 'missing.token') }), (e: unknown) => e instanceof ConfigError && /--token-file: tokenFile: cannot read/.test(e.message));
    writeFileSync(clientConfigPath(home), '{"controller": "127.0.0.1:7101", "token": "a", "tokenFile": "/x"}');
    assert.throws(() => at({}), (e: unknown) => e instanceof ConfigError && /tokenFile: give token or tokenFile, not both/.test(e.message));
    assert.equal(at({ flag: 'h:1' })?.token, undefined, 'a broken client config is ignored when the address is given');
  });
});
