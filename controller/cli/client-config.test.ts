import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
});
