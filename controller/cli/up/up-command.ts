/**
 * `bulwark up`: the embedded single-machine default. Starts nats-server with JetStream, a
 * controller, storages for sites A (primary) and B (replica), and one agent with demo VMs, all
 * under one data directory; writes the client config the CLI finds by itself; stops everything
 * on Ctrl-C or SIGTERM. Each daemon is a real child process, as it would be on its own host.
 * Storage calls need a token (made under <data dir>/tokens on first start, docs/ACCESS.md): the
 * agent's, and for each storage a read-only one at the other site, for sync and repair. Calls to
 * the controller need an API token too: the controller makes the admin token
 * <data dir>/tokens/bootstrap-admin.token on its first start, and client.json names it.
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { loadConfigFile, parseConfig } from '../../../shared/config/load-config.js';
import { BEARER_TOKEN_PATTERN, bearerTokenSha256, createBearerToken } from '../../../shared/crypto/bearer-token.js';
import { generateKeyMaterial } from '../../../shared/crypto/datastore-keys.js';
import { AppError, ConfigError } from '../../../shared/errors.js';
import { KeyFile, sealKeyFile } from '../../../shared/crypto/key-file.js';
import { writeFileAtomic } from '../../../shared/fs/atomic-file.js';
import { ObjectName } from '../../../shared/ids.js';
import { SchedulerConfig } from '../../config.js';
import { VmTag } from '../../../shared/messages/policy.js';
import type { ListVmsRequest } from '../../../shared/rpc/generated/bulwark/v1/ListVmsRequest.js';
import type { ListVmsResponse__Output } from '../../../shared/rpc/generated/bulwark/v1/ListVmsResponse.js';
import type { ListWorkersRequest } from '../../../shared/rpc/generated/bulwark/v1/ListWorkersRequest.js';
import type { ListWorkersResponse__Output } from '../../../shared/rpc/generated/bulwark/v1/ListWorkersResponse.js';
import { callUnary } from '../../../shared/rpc/grpc-calls.js';
import { createControllerClient } from '../../../shared/rpc/proto-packages.js';
import { writeClientConfig } from '../client-config.js';
import { parseDir, zodParser } from '../option-parsers.js';
import { writeDemoDisk } from './demo-disk.js';
import { ManagedProcess, tsxCommand } from './managed-process.js';
import { startQemuDemoVm, type QemuDemoVm } from './qemu-demo-vm.js';
import { freePort, NatsServerProcess } from './nats-server-process.js';

const MIB = 1024 * 1024;

/** The optional `bulwark up --config` file. */
export const UpConfig = z
  .object({
    /**
     * Where the demo VMs run: `qemu` (default) serves their qcow2 disks from a qemu-storage-daemon
     * per VM and the agent backs them up through QMP and NBD (fleecing, dirty bitmaps); `files`
     * makes them raw image files read by the `files` driver (and allows `vms`).
     */
    demoHypervisor: z.enum(['qemu', 'files']).default('qemu'),
    /** Generated demo VMs; their images are created when missing. */
    demoVms: z
      .array(
        z.object({
          name: ObjectName,
          disks: z.array(z.object({ name: ObjectName, sizeMib: z.number().int().min(1).max(1024 * 1024) })).min(1),
          /** Tags in the agent config (policies select VMs by tag). */
          tags: z.array(VmTag).optional(),
        }),
      )
      .default([{ name: 'demo-vm', disks: [{ name: 'disk0', sizeMib: 1024 }] }]),
    /** Existing raw disk images to protect as well. */
    vms: z
      .array(
        z.object({
          name: ObjectName,
          disks: z.array(z.object({ name: ObjectName, path: z.string().startsWith('/', 'must be an absolute path') })).min(1),
          tags: z.array(VmTag).optional(),
        }),
      )
      .default([]),
    chunkSizeBytes: z.number().int().optional(),
    /** Encrypt the datastores (a key is created under the data dir on first start). */
    encryption: z.boolean().default(true),
    natsPort: z.number().int().min(0).max(65535).default(0),
    /** The controller's dispatch limits and scheduler tick (docs/OPERATORS.md "Scheduling"); absent: its defaults. */
    scheduler: SchedulerConfig.optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.demoHypervisor === 'qemu' && c.vms.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['vms'], message: 'raw image files need "demoHypervisor": "files" (one agent runs one driver)' });
    }
  });
export type UpConfig = z.infer<typeof UpConfig>;

interface UpOptions {
  dataDir: string;
  config?: string;
  demoDiskMib?: number;
  readyFile?: string;
  json?: boolean;
}

const parseDiskMib = zodParser(
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number of MiB')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(1024 * 1024, 'must be at most 1048576 (1 TiB)')),
);

/** The deployment `bulwark up` runs: where everything lives and how it is wired. */
export interface EmbeddedDeployment {
  readonly dataDir: string;
  readonly natsUrl: string;
  readonly controllerAddress: string;
  readonly storages: Record<string, string>;
  readonly vms: string[];
  /** The demo VMs on QEMU (demoHypervisor qemu): sockets and disk images. */
  readonly qemuVms: readonly QemuDemoVm[];
  /** The daemons by name: controller, storage-a, storage-b, agent-1 (for tests that kill one). */
  readonly processes: ReadonlyMap<string, ManagedProcess>;
  readonly nats: NatsServerProcess;
  /** Each daemon's Prometheus endpoint (host:port, GET /metrics) by daemon name. */
  readonly metrics: Readonly<Record<string, string>>;
  /** The storage token of the agent (role agent at both storages), for tests that call a storage directly. */
  readonly agentToken: string;
  /** The controller's bootstrap admin API token (the client config names its file), for tests and benches that call the API directly. */
  readonly adminToken: string;
  readonly adminTokenFile: string;
  stop(): Promise<void>;
  /** Resolves with the name of the first daemon that exits on its own. */
  readonly unexpectedExit: Promise<string>;
}

/** Starts the whole embedded deployment and waits until the controller sees every worker. */
export async function startEmbedded(dataDirArg: string, config: UpConfig, log: (line: string) => void): Promise<EmbeddedDeployment> {
  const dataDir = resolve(dataDirArg);
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const env = { BULWARK_LOG_LEVEL: config.logLevel };
  const started: ManagedProcess[] = [];
  const qemuVms: QemuDemoVm[] = [];
  let nats: NatsServerProcess | undefined;

  // Workers first (all at once), then the VMs' QEMU daemons (a clean exit saves their dirty
  // bitmaps), then the controller, then NATS: nothing waits on a dead peer.
  const stop = async () => {
    const controllerProc = started.find((p) => p.opts.name === 'controller');
    await Promise.all(started.filter((p) => p !== controllerProc).map((p) => p.stop()));
    await Promise.all(qemuVms.map((vm) => vm.process.stop()));
    await controllerProc?.stop();
    await nats?.stop();
  };

  // Every daemon serves Prometheus metrics on a free port (its ready file names it); the demo's
  // stores are small, so storage measures its chunk store every 5 s rather than every minute.
  const metrics: Record<string, string> = {};
  const daemon = async (name: string, entry: string, withoutMetrics: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const daemonConfig = { ...withoutMetrics, metrics: { listen: '127.0.0.1:0', ...(entry.startsWith('storage/') ? { chunkStoreRefreshMs: 5000 } : {}) } };
    const dir = join(dataDir, name);
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, `${JSON.stringify(daemonConfig, null, 2)}\n`);
    const { command, args } = tsxCommand(entry, ['--config', configFile, '--ready-file', join(dir, 'ready.json')]);
    const proc = new ManagedProcess({ name, command, args, env, logFile: join(logs, `${name}.log`), readyFile: join(dir, 'ready.json') });
    started.push(proc);
    const ready = JSON.parse(await proc.start()) as Record<string, unknown>;
    if (typeof ready.metricsAddress === 'string') metrics[name] = ready.metricsAddress;
    return ready;
  };

  try {
    nats = await NatsServerProcess.start(join(dataDir, 'nats'), config.natsPort);
    log(`nats-server      ${nats.url}`);
    const natsCfg = { url: nats.url };
    const key = config.encryption ? await ensureEmbeddedKey(join(dataDir, 'key')) : undefined;
    if (key) log(`encryption       key ${key.fingerprint} (${key.keyFile})`);

    const tokens = await ensureEmbeddedTokens(join(dataDir, 'tokens'));
    const adminTokenFile = join(dataDir, 'tokens', 'bootstrap-admin.token');
    // A fixed port: the CLI's client config and running `--wait` calls survive a controller restart.
    const controller = await daemon('controller', 'controller/main.ts', {
      listen: `127.0.0.1:${await freePort()}`,
      nats: natsCfg,
      databasePath: join(dataDir, 'controller', 'catalog.db'),
      replication: [{ from: 'a', to: 'b' }],
      // Read-only at both storages: `bulwark catalog import` lists their backups.
      storageTokenFile: tokens.controller.file,
      // Every API call needs a token; on a fresh catalog the controller makes an admin one here,
      // which the client config names, so `bulwark` works at once.
      access: { anonymousRole: 'none', bootstrapTokenFile: adminTokenFile },
      ...(config.scheduler ? { scheduler: config.scheduler } : {}),
      logLevel: config.logLevel,
    });
    const controllerAddress = String(controller.address);
    log(`controller       ${controllerAddress}`);
    const adminToken = readEmbeddedAdminToken(adminTokenFile);
    log(`API token        ${adminTokenFile} (role admin; \`bulwark token create\` makes more)`);

    // Fixed ports, as for the controller: a restarted storage keeps its address, and each
    // storage's config can name the other's before either runs.
    const sites = ['a', 'b'] as const;
    const listen: Record<string, string> = {};
    for (const site of sites) {
      let port = await freePort();
      while (Object.values(listen).includes(`127.0.0.1:${port}`)) port = await freePort();
      listen[site] = `127.0.0.1:${port}`;
    }
    log(`storage tokens   ${join(dataDir, 'tokens')} (agent, and each site's read-only token at the other)`);
    const storages: Record<string, string> = {};
    for (const site of sites) {
      const other = site === 'a' ? 'b' : 'a';
      const ready = await daemon(`storage-${site}`, 'storage/main.ts', {
        site,
        worker: 'storage',
        datastoreDir: join(dataDir, `storage-${site}`, 'datastore'),
        listen: listen[site],
        nats: natsCfg,
        ...(config.chunkSizeBytes === undefined ? {} : { chunkSizeBytes: config.chunkSizeBytes }),
        ...(key ? { keyFingerprint: key.fingerprint } : {}),
        // Every call needs a token: the agent's backs up and restores, the other site's only reads
        // (sync pulls from here, repairs fetch good copies here). Nothing on the wire deletes.
        access: {
          anonymousRole: 'none',
          clients: [
            { name: 'agent-1', role: 'agent', tokenSha256: bearerTokenSha256(tokens.agent.token) },
            { name: `storage-${other}`, role: 'peer-read', tokenSha256: bearerTokenSha256(tokens.peer(other, site).token) },
            { name: 'controller', role: 'peer-read', tokenSha256: bearerTokenSha256(tokens.controller.token) },
          ],
        },
        peers: [{ site: other, address: listen[other], tokenFile: tokens.peer(site, other).file }],
        logLevel: config.logLevel,
      });
      storages[site] = String(ready.address);
      log(`storage site ${site}   ${storages[site]}  (${site === 'a' ? 'primary' : 'replica of a'})`);
    }

    const vms: { name: string; disks: { name: string; path: string }[]; tags?: string[] | undefined }[] = [...config.vms];
    const demoTags = (name: string) => config.demoVms.find((v) => v.name === name)?.tags;
    if (config.demoHypervisor === 'qemu') {
      for (const vm of config.demoVms) {
        const qvm = await startQemuDemoVm(join(dataDir, 'vms'), logs, vm, log);
        qemuVms.push(qvm);
        log(`VM ${vm.name.padEnd(12)} qemu-storage-daemon, QMP ${qvm.qmpSocket}`);
      }
    }
    for (const vm of config.demoHypervisor === 'files' ? config.demoVms : []) {
      const dir = join(dataDir, 'vms', vm.name);
      mkdirSync(dir, { recursive: true });
      const disks = [];
      for (const disk of vm.disks) {
        const path = join(dir, `${disk.name}.img`);
        if (!existsSync(path)) {
          log(`creating demo disk ${path} (${disk.sizeMib} MiB)`);
          await writeDemoDisk(path, disk.sizeMib * MIB, `${vm.name}/${disk.name}`);
        }
        disks.push({ name: disk.name, path });
      }
      vms.push({ name: vm.name, disks, ...(vm.tags ? { tags: vm.tags } : {}) });
    }
    await daemon('agent-1', 'node-agent/main.ts', {
      site: 'a',
      worker: 'agent-1',
      nats: natsCfg,
      hypervisor:
        config.demoHypervisor === 'qemu'
          ? {
              kind: 'qemu',
              workDir: join(dataDir, 'agent-1', 'qemu'),
              vms: qemuVms.map((vm) => ({
                name: vm.name,
                qmpSocket: vm.qmpSocket,
                nbdSocket: vm.nbdSocket,
                definition: { cpus: 1, memoryMiB: 512 },
                ...(demoTags(vm.name) ? { tags: demoTags(vm.name) } : {}),
              })),
            }
          : { kind: 'files', vms },
      ...(key ? { encryption: { keyFile: key.keyFile, passphraseFile: key.passphraseFile } } : {}),
      storageTokenFile: tokens.agent.file,
      logLevel: config.logLevel,
    });
    const vmNames = [...vms.map((v) => v.name), ...qemuVms.map((v) => v.name)];
    log(`agent agent-1    site a, ${config.demoHypervisor} driver, VMs: ${vmNames.join(', ') || '(none)'}`);

    await waitForWorkers(controllerAddress, adminToken, ['a/storage', 'b/storage', 'a/agent-1'], vmNames);
    writeClientConfig(dataDir, controllerAddress, { tokenFile: adminTokenFile });
    log(`metrics          ${Object.entries(metrics).map(([name, address]) => `${name} http://${address}/metrics`).join(', ')}`);

    const unexpectedExit = Promise.race(
      [...started, ...qemuVms.map((vm) => vm.process)].map((p) => p.waitForExit().then(() => p.opts.name)).concat(nats.process.waitForExit().then(() => 'nats-server')),
    );
    return {
      dataDir,
      natsUrl: nats.url,
      controllerAddress,
      storages,
      vms: vmNames,
      qemuVms,
      processes: new Map(started.map((p) => [p.opts.name, p])),
      metrics,
      nats,
      agentToken: tokens.agent.token,
      adminToken,
      adminTokenFile,
      stop,
      unexpectedExit,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The embedded deployment's key: created on first start with a random passphrase kept beside it
 * (mode 0600). An operator who wants to hold the passphrase elsewhere runs the daemons with their
 * own configs; `bulwark key export --paper` makes the copy to keep away from the backups.
 */
async function ensureEmbeddedKey(dir: string): Promise<{ keyFile: string; passphraseFile: string; fingerprint: string }> {
  const keyFile = join(dir, 'key.json');
  const passphraseFile = join(dir, 'passphrase');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(keyFile)) {
    const passphrase = randomBytes(24).toString('base64url');
    await writeFileAtomic(passphraseFile, Buffer.from(`${passphrase}\n`), { mode: 0o600 });
    const file = sealKeyFile(generateKeyMaterial(), passphrase, new Date().toISOString());
    await writeFileAtomic(keyFile, Buffer.from(`${JSON.stringify(file, null, 2)}\n`), { mode: 0o600 });
  }
  const file = loadConfigFile(KeyFile, keyFile);
  return { keyFile, passphraseFile, fingerprint: file.fingerprint };
}

interface TokenFile {
  readonly file: string;
  readonly token: string;
}

/**
 * The storage credentials of the embedded deployment (docs/ACCESS.md), made on first start and
 * reused after: one file per token, mode 0600, in a 0700 directory. `agent-1.token` is the
 * agent's (role agent at both storages); `storage-<x>-reads-<y>.token` is what storage x presents
 * to storage y (role peer-read there): b reads a to sync, and each reads the other to repair.
 * `controller.token` is the controller's (role peer-read at both): it reads them to rebuild its catalog.
 */
export async function ensureEmbeddedTokens(
  dir: string,
): Promise<{ agent: TokenFile; controller: TokenFile; peer: (reader: string, source: string) => TokenFile }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ensure = async (name: string): Promise<TokenFile> => {
    const file = join(dir, `${name}.token`);
    if (!existsSync(file)) await writeFileAtomic(file, Buffer.from(`${createBearerToken()}\n`), { mode: 0o600 });
    const token = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (!BEARER_TOKEN_PATTERN.test(token)) throw new ConfigError(file, '', 'not a storage token (bwk_ + 43 base64url characters); delete it to make a new one');
    return { file, token };
  };
  const peers = new Map<string, TokenFile>();
  for (const [reader, source] of [['a', 'b'], ['b', 'a']] as const) peers.set(`${reader}/${source}`, await ensure(`storage-${reader}-reads-${source}`));
  const agent = await ensure('agent-1');
  const controller = await ensure('controller');
  return {
    agent,
    controller,
    peer: (reader, source) => {
      const t = peers.get(`${reader}/${source}`);
      if (!t) throw new Error(`no token for storage ${reader} reading ${source}`);
      return t;
    },
  };
}

/**
 * The admin API token the controller wrote on its first start. A later start finds tokens in
 * the catalog and writes none, so the file from the first start is the one to use.
 */
function readEmbeddedAdminToken(file: string): string {
  if (!existsSync(file)) {
    throw new ConfigError(file, '', 'missing: the controller writes its admin token there only on a catalog without tokens; restore the file, or make a token with the old one');
  }
  const token = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (!BEARER_TOKEN_PATTERN.test(token)) throw new ConfigError(file, '', 'not an API token (bwk_ + 43 base64url characters)');
  return token;
}

async function waitForWorkers(address: string, token: string, workers: string[], vms: string[], timeoutMs = 60_000): Promise<void> {
  const client = createControllerClient(address, { token });
  // A controller that refuses the token (revoked, or a catalog from elsewhere) will not change its mind: say so now.
  const notYet = (err: unknown): never[] => {
    if (err instanceof AppError && (err.code === 'UNAUTHENTICATED' || err.code === 'PERMISSION_DENIED')) throw err;
    return [];
  };
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const [w, v] = await Promise.all([
        callUnary<ListWorkersRequest, ListWorkersResponse__Output>('controller', (req, o, cb) => client.ListWorkers(req, o, cb), {})
          .then((r) => r.workers)
          .catch(notYet),
        callUnary<ListVmsRequest, ListVmsResponse__Output>('controller', (req, o, cb) => client.ListVms(req, o, cb), {})
          .then((r) => r.vms)
          .catch(notYet),
      ]);
      const online = new Set(w.filter((x) => x.state === 'online').map((x) => `${x.site}/${x.id}`));
      const known = new Set(v.map((x) => x.name));
      if (workers.every((x) => online.has(x)) && vms.every((x) => known.has(x))) return;
      if (Date.now() > deadline) {
        throw new Error(`the controller did not see every worker and VM within ${timeoutMs} ms (online: ${[...online].join(', ') || 'none'})`);
      }
      await sleep(200);
    }
  } finally {
    client.close();
  }
}

/** Registers `bulwark up` on the CLI. */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('start the embedded single-machine deployment: nats-server, controller, storages for sites a and b, an agent with demo VMs')
    .option('--data-dir <dir>', 'where everything lives', parseDir, resolve(process.env.BULWARK_HOME ?? '.bulwark'))
    .option('--config <file>', 'an optional JSON file: demoVms, vms, chunkSizeBytes, encryption, natsPort, scheduler, logLevel', parseDir)
    .option('--demo-disk-mib <n>', 'size of the default demo VM disk in MiB (default 1024)', parseDiskMib)
    .option('--ready-file <file>', 'write a JSON file here once everything is up (for scripts)', parseDir)
    .option('--json', 'print the ready JSON (as in --ready-file) on stdout once up; the progress lines go to stderr')
    .action(async (opts: UpOptions) => {
      // With --json, stdout holds the ready JSON alone.
      const say = opts.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
      let config = opts.config ? loadConfigFile(UpConfig, opts.config) : parseConfig(UpConfig, {}, 'defaults');
      if (opts.demoDiskMib !== undefined && !opts.config) {
        config = { ...config, demoVms: [{ name: 'demo-vm', disks: [{ name: 'disk0', sizeMib: opts.demoDiskMib }] }] };
      }
      const deployment = await startEmbedded(opts.dataDir, config, say);
      say(`\nBulwark is up. The CLI finds the controller at ${deployment.controllerAddress} by itself`);
      say(`(client config in ${deployment.dataDir}); logs in ${join(deployment.dataDir, 'logs')}. Ctrl-C stops everything.`);
      const ready = {
        pid: process.pid,
        dataDir: deployment.dataDir,
        natsUrl: deployment.natsUrl,
        controller: deployment.controllerAddress,
        storages: deployment.storages,
        metrics: deployment.metrics,
        vms: deployment.vms,
      };
      if (opts.readyFile) writeFileSync(opts.readyFile, JSON.stringify(ready));
      if (opts.json) process.stdout.write(`${JSON.stringify(ready)}\n`);
      const signal = await new Promise<string>((resolveSignal) => {
        process.once('SIGINT', () => resolveSignal('SIGINT'));
        process.once('SIGTERM', () => resolveSignal('SIGTERM'));
        void deployment.unexpectedExit.then((name) => resolveSignal(`${name} exited`));
      });
      say(`\nstopping (${signal})`);
      await deployment.stop();
      say('stopped');
      if (signal.endsWith('exited')) process.exitCode = 1;
    });
}
