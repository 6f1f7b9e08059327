import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../shared/errors.js';
import { loadStorageConfig } from './config.js';

describe('storage config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-storage-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (value: unknown) => {
    const file = join(dir, 'c.json');
    await writeFile(file, JSON.stringify(value));
    return loadStorageConfig(file);
  };
  const base = { site: 'site-a', datastoreDir: '/var/lib/bulwark', nats: { url: 'nats://127.0.0.1:4222' } };

  it('fills in defaults and freezes the result', async () => {
    const config = await load(base);
    assert.equal(config.worker, 'storage');
    assert.equal(config.listen, '127.0.0.1:0');
    assert.equal(config.chunkSizeBytes, 1024 * 1024);
    assert.equal(config.heartbeatIntervalMs, 2000);
    assert.equal(config.logLevel, 'info');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.nats));
  });

  it('names the field of a bad value', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...base, chunkSizeBytes: 3 * 65536 }, 'chunkSizeBytes', /power of two/],
      [{ ...base, chunkSizeBytes: 32 * 1024 }, 'chunkSizeBytes', /at least/],
      [{ ...base, site: 'Site A' }, 'site', /\^\[a-z0-9-\]\+\$/],
      [{ ...base, worker: 'shared' }, 'worker', /reserved/],
      [{ ...base, nats: {} }, 'nats.url', /./],
      [{ ...base, listen: 'nowhere' }, 'listen', /host:port/],
      [{ ...base, extra: 1 }, '', /extra/],
    ];
    for (const [value, field, rule] of cases) {
      await assert.rejects(load(value), (err: unknown) => err instanceof ConfigError && err.field === field && rule.test(err.message));
    }
  });
});
