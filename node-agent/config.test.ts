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
    assert.equal(config.hypervisor.kind, 'files');
    if (config.hypervisor.kind === 'files') assert.equal(config.hypervisor.vms[0]!.disks[0]!.path, '/var/lib/images/web1.raw');
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

  it('takes a storage token inline or as an absolute file path, not both', async () => {
    assert.equal((await load({ ...valid, storageToken: 'bwk_0123456789abcdef' })).storageToken, 'bwk_0123456789abcdef');
    assert.equal((await load({ ...valid, storageTokenFile: '/etc/bulwark/agent.token' })).storageTokenFile, '/etc/bulwark/agent.token');
    await rejects({ ...valid, storageToken: 'short' }, 'storageToken', /at least 16 characters/);
    await rejects({ ...valid, storageTokenFile: 'agent.token' }, 'storageTokenFile', /must be an absolute path/);
    await rejects({ ...valid, storageToken: 'bwk_0123456789abcdef', storageTokenFile: '/t' }, 'storageTokenFile', /give storageToken or storageTokenFile, not both/);
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

  describe('qemu hypervisor', () => {
    const qemu = {
      kind: 'qemu',
      workDir: '/var/lib/bulwark/qemu',
      vms: [
        {
          name: 'web1',
          qmpSocket: '/run/qemu/web1.qmp',
          definition: { cpus: 2, memoryMiB: 2048, machine: 'q35', nics: [{ model: 'virtio-net-pci', mac: '52:54:00:12:34:56' }] },
        },
        { name: 'db1', qmpSocket: '/run/qsd/db1.qmp', nbdSocket: '/run/qsd/db1.nbd', definition: { cpus: 1, memoryMiB: 16 } },
      ],
    };
    const withVm = (patch: Record<string, unknown>, definition: Record<string, unknown> = {}) => ({
      ...valid,
      hypervisor: { ...qemu, vms: [{ ...qemu.vms[0]!, ...patch, definition: { ...qemu.vms[0]!.definition, ...definition } }] },
    });

    it('accepts a valid qemu config', async () => {
      const config = await load({ ...valid, hypervisor: qemu });
      assert.equal(config.hypervisor.kind, 'qemu');
      if (config.hypervisor.kind !== 'qemu') return;
      assert.equal(config.hypervisor.workDir, '/var/lib/bulwark/qemu');
      assert.deepEqual(config.hypervisor.vms[0], qemu.vms[0]);
      assert.equal(config.hypervisor.vms[1]!.nbdSocket, '/run/qsd/db1.nbd');
      assert.equal(config.hypervisor.vms[1]!.definition.nics, undefined);
    });

    it('names each broken field', async () => {
      await rejects({ ...valid, hypervisor: { ...qemu, kind: 'xen' } }, 'hypervisor.kind', /.+/);
      await rejects({ ...valid, hypervisor: { ...qemu, workDir: 'work' } }, 'hypervisor.workDir', /must be an absolute path/);
      await rejects({ ...valid, hypervisor: { ...qemu, disks: [] } }, 'hypervisor', /.+/);
      await rejects(withVm({ qmpSocket: 'web1.qmp' }), 'hypervisor.vms.0.qmpSocket', /must be an absolute path/);
      await rejects(withVm({ qmpSocket: `/${'q'.repeat(120)}` }), 'hypervisor.vms.0.qmpSocket', /at most 107 bytes/);
      await rejects(withVm({ nbdSocket: 'nbd.sock' }), 'hypervisor.vms.0.nbdSocket', /must be an absolute path/);
      await rejects(withVm({ name: 'bad name' }), 'hypervisor.vms.0.name', /must be letters/);
      await rejects(withVm({ disks: [] }), 'hypervisor.vms.0', /.+/);
      await rejects(withVm({}, { cpus: 0 }), 'hypervisor.vms.0.definition.cpus', /.+/);
      await rejects(withVm({}, { cpus: 1.5 }), 'hypervisor.vms.0.definition.cpus', /.+/);
      await rejects(withVm({}, { memoryMiB: 8 }), 'hypervisor.vms.0.definition.memoryMiB', /.+/);
      await rejects(withVm({}, { machine: '' }), 'hypervisor.vms.0.definition.machine', /must not be empty/);
      await rejects(withVm({}, { nics: [{ model: 'e1000', mac: 'zz' }] }), 'hypervisor.vms.0.definition.nics.0.mac', /must be a MAC address/);
      await rejects(withVm({}, { nics: [{ mac: '52:54:00:12:34:56' }] }), 'hypervisor.vms.0.definition.nics.0.model', /.+/);
      const { cpus: _cpus, ...noCpus } = qemu.vms[0]!.definition;
      await rejects({ ...valid, hypervisor: { ...qemu, vms: [{ ...qemu.vms[0]!, definition: noCpus }] } }, 'hypervisor.vms.0.definition.cpus', /.+/);
      await rejects({ ...valid, hypervisor: { ...qemu, vms: [qemu.vms[0]!, qemu.vms[0]!] } }, 'hypervisor.vms.1.name', /duplicate VM name "web1"/);
    });

    it('refuses a VM whose NBD socket in workDir would not fit a unix socket path', async () => {
      const longName = 'v'.repeat(90);
      await rejects(withVm({ name: longName }), 'hypervisor.vms.0.name', /at most 107 bytes/);
      // With the VM's own NBD server named, the driver needs no socket in workDir.
      const config = await load(withVm({ name: longName, nbdSocket: '/run/qsd/v.nbd' }));
      assert.equal(config.hypervisor.kind === 'qemu' ? config.hypervisor.vms[0]!.name : undefined, longName);
    });

    describe('consistency', () => {
      const ssh = {
        where: 'guest-ssh',
        host: 'web1.internal',
        port: 22,
        user: 'backup',
        identityFile: '/etc/bulwark/id_ed25519',
        knownHostsFile: '/etc/bulwark/known_hosts',
        command: 'sync && systemctl reload app',
        timeoutMs: 30_000,
      };
      const consistencyOf = async (consistency: unknown) => {
        const config = await load(withVm({ consistency }));
        assert.equal(config.hypervisor.kind, 'qemu');
        return config.hypervisor.kind === 'qemu' ? config.hypervisor.vms[0]!.consistency : undefined;
      };

      it('is absent by default and fills its defaults when given', async () => {
        const plain = (await load(withVm({}))).hypervisor;
        assert.equal(plain.kind === 'qemu' && 'consistency' in plain.vms[0]!, false);
        assert.deepEqual(await consistencyOf({}), { mode: 'crash', onFailure: 'abort', freezeTimeoutMs: 30_000 });
        assert.deepEqual(await consistencyOf({ mode: 'application', guestAgent: { socket: '/run/qemu/web1.qga' } }), {
          mode: 'application',
          guestAgent: { socket: '/run/qemu/web1.qga', timeoutMs: 10_000 },
          onFailure: 'abort',
          freezeTimeoutMs: 30_000,
        });
      });

      it('accepts host and guest-ssh hooks and the continue policy', async () => {
        const host = { where: 'host', command: ['/usr/local/bin/app-quiesce', '--vm', 'web1'], timeoutMs: 60_000 };
        const c = await consistencyOf({ mode: 'application', preSnapshot: host, postSnapshot: { ...ssh, hostKeyAlias: 'web1' }, onFailure: 'continue', freezeTimeoutMs: 5000 });
        assert.deepEqual(c?.preSnapshot, host);
        assert.deepEqual(c?.postSnapshot, { ...ssh, hostKeyAlias: 'web1' });
        assert.equal(c?.onFailure, 'continue');
      });

      it('names each broken field', async () => {
        const at = 'hypervisor.vms.0.consistency';
        const app = (patch: Record<string, unknown>) => withVm({ consistency: { mode: 'application', guestAgent: { socket: '/run/q.qga' }, ...patch } });
        await rejects(withVm({ consistency: { mode: 'quiesced' } }), `${at}.mode`, /.+/);
        await rejects(withVm({ consistency: { mode: 'application' } }), `${at}.mode`, /needs guestAgent or preSnapshot/);
        await rejects(withVm({ consistency: { preSnapshot: ssh } }), `${at}.preSnapshot`, /needs mode "application"/);
        await rejects(withVm({ consistency: { guestAgent: { socket: '/run/q.qga' } } }), `${at}.guestAgent`, /needs mode "application"/);
        await rejects(app({ guestAgent: { socket: 'q.qga' } }), `${at}.guestAgent.socket`, /must be an absolute path/);
        await rejects(app({ guestAgent: { socket: `/${'q'.repeat(120)}` } }), `${at}.guestAgent.socket`, /at most 107 bytes/);
        await rejects(app({ onFailure: 'ignore' }), `${at}.onFailure`, /.+/);
        await rejects(app({ freezeTimeoutMs: 10 }), `${at}.freezeTimeoutMs`, /at least 100 ms/);
        await rejects(app({ preSnapshot: { where: 'host', command: [], timeoutMs: 1000 } }), `${at}.preSnapshot.command`, /must name the program/);
        await rejects(app({ preSnapshot: { where: 'host', command: ['/bin/true'] } }), `${at}.preSnapshot.timeoutMs`, /.+/);
        await rejects(app({ preSnapshot: { where: 'host', command: 'sync', timeoutMs: 1000 } }), `${at}.preSnapshot.command`, /.+/);
        await rejects(app({ preSnapshot: { ...ssh, where: 'guest' } }), `${at}.preSnapshot.where`, /.+/);
        await rejects(app({ preSnapshot: { ...ssh, host: '-oProxyCommand=sh' } }), `${at}.preSnapshot.host`, /must not start with "-"/);
        await rejects(app({ preSnapshot: { ...ssh, user: 'root@evil' } }), `${at}.preSnapshot.user`, /must not contain "@"/);
        await rejects(app({ preSnapshot: { ...ssh, port: 70_000 } }), `${at}.preSnapshot.port`, /.+/);
        await rejects(app({ preSnapshot: { ...ssh, identityFile: 'id_ed25519' } }), `${at}.preSnapshot.identityFile`, /must be an absolute path/);
        await rejects(app({ postSnapshot: { ...ssh, knownHostsFile: 'known_hosts' } }), `${at}.postSnapshot.knownHostsFile`, /must be an absolute path/);
        await rejects(app({ postSnapshot: { ...ssh, command: '' } }), `${at}.postSnapshot.command`, /must not be empty/);
        await rejects(app({ postSnapshot: { ...ssh, shell: true } }), `${at}.postSnapshot`, /.+/);
      });
    });
  });

  describe('libvirt hypervisor', () => {
    const libvirt = { kind: 'libvirt', scratchDir: '/var/lib/libvirt/bulwark-scratch', vms: [{ name: 'web1', domain: 'web1.example' }] };

    it('accepts a valid libvirt config and fills the URI and NBD host', async () => {
      const config = await load({ ...valid, hypervisor: libvirt });
      assert.equal(config.hypervisor.kind, 'libvirt');
      if (config.hypervisor.kind !== 'libvirt') return;
      assert.equal(config.hypervisor.uri, 'qemu:///system');
      assert.equal(config.hypervisor.nbdHost, '127.0.0.1');
      assert.equal(config.hypervisor.nbdPortRange, undefined);
      assert.deepEqual(config.hypervisor.vms, libvirt.vms);
      const custom = await load({ ...valid, hypervisor: { ...libvirt, uri: 'qemu+ssh://host/system', nbdHost: '10.0.0.5', nbdPortRange: [10809, 10820] } });
      assert.ok(custom.hypervisor.kind === 'libvirt');
      assert.deepEqual(custom.hypervisor.nbdPortRange, [10809, 10820]);
      assert.equal(custom.hypervisor.uri, 'qemu+ssh://host/system');
    });

    it('names each broken field', async () => {
      const at = (patch: Record<string, unknown>) => ({ ...valid, hypervisor: { ...libvirt, ...patch } });
      await rejects(at({ scratchDir: 'scratch' }), 'hypervisor.scratchDir', /must be an absolute path/);
      await rejects(at({ uri: '' }), 'hypervisor.uri', /must not be empty/);
      await rejects(at({ nbdPortRange: [10820, 10809] }), 'hypervisor.nbdPortRange', /from <= to/);
      await rejects(at({ nbdPortRange: [0, 10] }), 'hypervisor.nbdPortRange.0', /.+/);
      await rejects(at({ workDir: '/w' }), 'hypervisor', /.+/);
      await rejects(at({ vms: [{ name: 'web1' }] }), 'hypervisor.vms.0.domain', /.+/);
      await rejects(at({ vms: [{ name: 'web1', domain: 'a/b' }] }), 'hypervisor.vms.0.domain', /libvirt domain name/);
      await rejects(at({ vms: [{ name: 'bad name', domain: 'x' }] }), 'hypervisor.vms.0.name', /must be letters/);
      await rejects(at({ vms: [libvirt.vms[0], { name: 'web1', domain: 'other' }] }), 'hypervisor.vms.1.name', /duplicate VM name "web1"/);
      await rejects(at({ vms: [libvirt.vms[0], { name: 'web2', domain: 'web1.example' }] }), 'hypervisor.vms.1.domain', /already another VM's/);
    });
  });

  it('takes the sim hypervisor (scale tests only) and names its broken fields', async () => {
    const config = await load({ ...valid, hypervisor: { kind: 'sim', vmCount: 10, seed: 3 } });
    assert.equal(config.hypervisor.kind, 'sim');
    await rejects({ ...valid, hypervisor: { kind: 'sim', vmCount: 1, diskSizeBytes: 100_000 } }, 'hypervisor.diskSizeBytes', /multiple of blockBytes/);
  });

  it('reports an unreadable file and bad JSON', async () => {
    assert.throws(() => loadAgentConfig(join(dir, 'missing.json')), /missing\.json: cannot read the file/);
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "site": ');
    assert.throws(() => loadAgentConfig(path), (err: unknown) => err instanceof ConfigError && /not valid JSON/.test(err.message));
  });
});
