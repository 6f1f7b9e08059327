/**
 * `npm run bench`: the data path end to end on the embedded deployment (real nats-server,
 * controller, storages and agent processes on 127.0.0.1), on a seeded, reproducible image:
 * full backup, incremental after a 2% scattered change, sync to the replica, restore.
 * Prints one JSON object. Peers (restic, borg) join this run with the data-path issue.
 *
 *   npm run bench -- [--json] [--disk-mib 1024]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mutateDemoDisk } from '../controller/cli/up/demo-disk.js';
import { startEmbedded, UpConfig } from '../controller/cli/up/up-command.js';
import { BackupResult, RestoreResult, SyncResult } from '../shared/messages/results.js';
import { runJob } from '../test/helpers/embedded.js';
import { chunkFiles, allocatedBytes, fileSha256 } from '../test/helpers/files.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, 'disk-mib': { type: 'string', default: '1024' } } });
const diskMib = Number(values['disk-mib']);
if (!Number.isInteger(diskMib) || diskMib < 1) throw new Error('--disk-mib: must be a whole number of MiB, at least 1');
const say = (line: string) => {
  if (!values.json) console.error(line);
};

/** Peak resident set of a process (VmHWM), in bytes. */
function peakRssBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : null;
}

const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-'));
const deployment = await startEmbedded(dir, UpConfig.parse({ demoVms: [{ name: 'bench-vm', disks: [{ name: 'disk0', sizeMib: diskMib }] }], logLevel: 'warn' }), say);
try {
  const env = { BULWARK_HOME: dir, BULWARK_CONTROLLER: '' };
  const disk = join(dir, 'vms', 'bench-vm', 'disk0.img');
  const sizeBytes = diskMib * 1024 * 1024;
  const rate = (bytes: number, ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;

  say('full backup');
  const full = await runJob(BackupResult, ['backup', 'bench-vm', '--mode', 'full'], env);
  say('incremental after a 2% change');
  const writes = await mutateDemoDisk(disk, 0.02);
  const inc = await runJob(BackupResult, ['backup', 'bench-vm'], env);
  say('sync to site b');
  const sync = await runJob(SyncResult, ['sync'], env);
  say('restore');
  const target = join(dir, 'restore');
  const restore = await runJob(RestoreResult, ['restore', inc.backup.backupId, '--to', target], env);
  const identical = (await fileSha256(join(target, 'disk0.img'))) === (await fileSha256(disk));
  const stored = chunkFiles(join(dir, 'storage-a', 'datastore')).reduce((n, f) => n + allocatedBytes(f), 0);

  const report = {
    bench: 'data-path',
    image: { sizeBytes, allocatedBytes: allocatedBytes(disk), seed: 'bench-vm/disk0', changedWrites64KiB: writes.length },
    full: { ms: full.durationMs, bytesRead: full.bytesRead, chunksSent: full.chunksSent, bytesSent: full.bytesSent, readMBps: rate(full.bytesRead, full.durationMs) },
    incremental: { ms: inc.durationMs, bytesRead: inc.bytesRead, chunksSent: inc.chunksSent, bytesSent: inc.bytesSent, readMBps: rate(inc.bytesRead, inc.durationMs) },
    sync: { ms: sync.durationMs, chunksCopied: sync.chunksCopied, bytesCopied: sync.bytesCopied, MBps: rate(sync.bytesCopied, sync.durationMs) },
    restore: { ms: restore.durationMs, bytesWritten: restore.bytesWritten, MBps: rate(sizeBytes, restore.durationMs), identical },
    storedBytes: stored,
    peakRssBytes: {
      agent: peakRssBytes(deployment.processes.get('agent-1')?.pid),
      storageA: peakRssBytes(deployment.processes.get('storage-a')?.pid),
      storageB: peakRssBytes(deployment.processes.get('storage-b')?.pid),
      controller: peakRssBytes(deployment.processes.get('controller')?.pid),
    },
  };
  console.log(JSON.stringify(report, null, values.json ? undefined : 2));
  if (!identical) process.exitCode = 1;
} finally {
  await deployment.stop();
  rmSync(dir, { recursive: true, force: true });
}
