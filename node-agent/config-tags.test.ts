import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../shared/errors.js';
import { loadAgentConfig, withConfiguredTags } from './config.js';

const base = { site: 'site-a', worker: 'agent-1', nats: { url: 'nats://127.0.0.1:4222' } };
const filesVm = (name: string, tags?: unknown) => ({
  name,
  disks: [{ name: 'root', path: `/var/lib/images/${name}.raw` }],
  ...(tags === undefined ? {} : { tags }),
});

describe('agent config VM tags', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-agent-tags-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const load = async (value: unknown) => {
    const path = join(dir, 'agent.json');
    await writeFile(path, JSON.stringify(value));
    return loadAgentConfig(path);
  };

  it('reads tags on files, qemu and libvirt VMs', async () => {
    const files = await load({ ...base, hypervisor: { kind: 'files', vms: [filesVm('web1', ['prod', 'tier:web'])] } });
    assert.equal(files.hypervisor.kind, 'files');
    const qemu = await load({
      ...base,
      hypervisor: {
        kind: 'qemu',
        workDir: '/var/lib/bulwark',
        vms: [{ name: 'db1', qmpSocket: '/run/db1.qmp', definition: { cpus: 1, memoryMiB: 256 }, tags: ['prod'] }],
      },
    });
    assert.equal(qemu.hypervisor.kind, 'qemu');
    const libvirt = await load({
      ...base,
      hypervisor: { kind: 'libvirt', scratchDir: '/var/tmp', vms: [{ name: 'mail', domain: 'mail', tags: ['mail'] }] },
    });
    assert.equal(libvirt.hypervisor.kind, 'libvirt');
    assert.deepEqual(
      withConfiguredTags([{ name: 'mail', hypervisor: 'libvirt', disks: [] }], libvirt.hypervisor).map((v) => v.tags),
      [['mail']],
    );
  });

  it('rejects a bad tag, naming the field and the rule', async () => {
    await assert.rejects(load({ ...base, hypervisor: { kind: 'files', vms: [filesVm('web1', ['ok', 'has space'])] } }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.field, 'hypervisor.vms.0.tags.1');
      assert.match(err.message, /hypervisor\.vms\.0\.tags\.1: must be letters, digits/);
      return true;
    });
  });

  it('puts each VM its configured tags (deduplicated), none when it has none, keeps a driver-made VM its own', async () => {
    const config = await load({ ...base, hypervisor: { kind: 'files', vms: [filesVm('a', ['x', 'y', 'x']), filesVm('b')] } });
    const inventory = withConfiguredTags(
      [
        { name: 'a', hypervisor: 'files', disks: [] },
        { name: 'b', hypervisor: 'files', disks: [] },
        { name: 'made-up', hypervisor: 'files', disks: [], tags: ['sim'] },
      ],
      config.hypervisor,
    );
    assert.deepEqual(
      inventory.map((v) => [v.name, v.tags]),
      [
        ['a', ['x', 'y']],
        ['b', []],
        ['made-up', ['sim']],
      ],
    );
  });
});
