import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../shared/errors.js';
import { loadAgentConfig } from './config.js';

const valid = {
  site: 'site-a',
  worker: 'agent-1',
  nats: { url: 'nats://127.0.0.1:4222' },
  hypervisor: {
    kind: 'files',
    vms: [{ name: 'web1', disks: [{ name: 'root', path: '/var/lib/images/web1.raw' }] }],
  },
};

describe('agent config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-agent-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (value: unknown) => {
    const path = join(dir, 'agent.json');
    await writeFile(path, JSON.stringify(value));
    return loadAgentConfig(path);
  };

  const rejects = async (value: unknown, field: string, rule: RegExp) => {
    await assert.rejects(load(value), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.field, field);
      assert.match(err.message, new RegExp(`${field.replace(/\./g, '\\.')}: .*${rule.source}`));
      return true;
    });
  };

  it('accepts a valid file and fills defaults', async () => {
    const config = await load(valid);
    assert.equal(config.heartbeatIntervalMs, 2000);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.hypervisor.vms[0]!.disks[0]!.path, '/var/lib/images/web1.raw');
  });

  it('names the field of a relative disk path', async () => {
    const bad = structuredClone(valid);
    bad.hypervisor.vms[0]!.disks[0]!.path = 'images/web1.raw';
    await rejects(bad, 'hypervisor.vms.0.disks.0.path', /must be an absolute path/);
  });

  it('names duplicate VM and disk names', async () => {
    const dupVm = structuredClone(valid);
    dupVm.hypervisor.vms.push(structuredClone(valid.hypervisor.vms[0]!));
    await rejects(dupVm, 'hypervisor.vms.1.name', /duplicate VM name "web1"/);
    const dupDisk = structuredClone(valid);
    dupDisk.hypervisor.vms[0]!.disks.push({ name: 'root', path: '/other.raw' });
    await rejects(dupDisk, 'hypervisor.vms.0.disks.1.name', /duplicate disk name "root"/);
  });

  it('takes an encryption key file and passphrase file (absolute paths) and a thread count', async () => {
    const config = await load({ ...valid, encryption: { keyFile: '/etc/bulwark/key.json', passphraseFile: '/etc/bulwark/passphrase' }, chunkWorkers: 3 });
    assert.deepEqual(config.encryption, { keyFile: '/etc/bulwark/key.json', passphraseFile: '/etc/bulwark/passphrase' });
    assert.equal(config.chunkWorkers, 3);
    assert.equal((await load(valid)).encryption, undefined);
    await rejects({ ...valid, encryption: { keyFile: 'key.json', passphraseFile: '/p' } }, 'encryption.keyFile', /must be an absolute path/);
    await rejects({ ...valid, encryption: { keyFile: '/key.json' } }, 'encryption.passphraseFile', /.+/);
    await rejects({ ...valid, chunkWorkers: -1 }, 'chunkWorkers', /.+/);
  });

  it('names every other broken field', async () => {
    await rejects({ ...valid, site: 'Site A' }, 'site', /must match/);
    await rejects({ ...valid, worker: 'shared' }, 'worker', /reserved/);
    await rejects({ ...valid, nats: { url: 'http://x' } }, 'nats.url', /must be a nats:\/\/ URL/);
    await rejects({ ...valid, hypervisor: { kind: 'files', vms: [{ name: 'web1', disks: [] }] } }, 'hypervisor.vms.0.disks', /at least one disk/);
    await rejects({ ...valid, hypervisor: { kind: 'files', vms: [{ name: 'bad/name', disks: valid.hypervisor.vms[0]!.disks }] } }, 'hypervisor.vms.0.name', /must be letters/);
    await rejects({ ...valid, heartbeatIntervalMs: 5 }, 'heartbeatIntervalMs', /.+/);
    await rejects({ ...valid, logLevel: 'loud' }, 'logLevel', /.+/);
    await rejects({ ...valid, extra: 1 }, '', /.+/);
  });

  it('reports an unreadable file and bad JSON', async () => {
    assert.throws(() => loadAgentConfig(join(dir, 'missing.json')), /missing\.json: cannot read the file/);
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "site": ');
    assert.throws(() => loadAgentConfig(path), (err: unknown) => err instanceof ConfigError && /not valid JSON/.test(err.message));
  });
});
