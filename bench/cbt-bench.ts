/**
 * Changed-block tracking against hashing: the same disk content and the same 2% scattered change,
 * backed up incrementally (a) by the `qemu` driver (a qemu-storage-daemon VM, persistent dirty
 * bitmaps, fleecing, NBD: reads only dirty extents) and (b) by the `files` driver (reads and
 * hashes the whole disk; deduplication finds what changed). Each on its own embedded deployment
 * (`bulwark up`, encrypted), jobs through the controller's API. Reports bytes read and seconds
 * of the incremental, and checks that both restore the changed disk byte for byte.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ControllerApi } from '../controller/cli/controller-api.js';
import { writeDemoDisk } from '../controller/cli/up/demo-disk.js';
import { startEmbedded, UpConfig } from '../controller/cli/up/up-command.js';
import { BackupResult, RestoreResult } from '../shared/messages/results.js';
import type { Job__Output } from '../shared/rpc/generated/bulwark/v1/Job.js';
import { fileSha256 } from '../test/helpers/files.js';
import { changeThroughNbd, plannedChange, type GuestWrite } from '../test/helpers/guest-writer.js';
import { secondsSince } from './measure.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const VM = 'cbt-vm';
const DISK = 'disk0';
const CHANGE_SEED = 'cbt-change';

export interface CbtRow {
  readonly driver: 'qemu' | 'files';
  readonly changeTracking: string;
  /** The incremental's wall seconds, StartBackup to finished. */
  readonly seconds: number;
  readonly bytesRead: number;
  readonly bytesSent: number;
  readonly fullSeconds: number;
  readonly restoredIdentical: boolean;
}

export interface CbtReport {
  readonly diskBytes: number;
  readonly changedBytes: number;
  readonly results: CbtRow[];
  /** Bytes the qemu incremental read over what the files one read. */
  readonly bytesReadRatio: number;
  /** The files incremental's seconds over the qemu one's. */
  readonly speedup: number;
}

async function finished(api: ControllerApi, started: Job__Output): Promise<Job__Output> {
  for (;;) {
    for await (const job of api.watchJob(started.id)) {
      if (job.state === 'succeeded') return job;
      if (job.state === 'failed') throw new Error(`${started.kind} job ${started.id} failed: ${job.error}`);
    }
  }
}

async function applyToFile(path: string, writes: readonly GuestWrite[]): Promise<void> {
  const file = await open(path, 'r+');
  try {
    for (const w of writes) await file.write(w.data, 0, w.data.length, w.offset);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function oneDriver(dir: string, driver: 'qemu' | 'files', sizeMib: number, expectedSha: string, say: (line: string) => void): Promise<CbtRow> {
  mkdirSync(dir, { recursive: true });
  const rawPath = join(dir, `${DISK}.img`);
  let config: UpConfig;
  if (driver === 'files') {
    await writeDemoDisk(rawPath, sizeMib * MIB, `${VM}/${DISK}`);
    config = UpConfig.parse({ demoHypervisor: 'files', demoVms: [], vms: [{ name: VM, disks: [{ name: DISK, path: rawPath }] }], logLevel: 'warn' });
  } else {
    config = UpConfig.parse({ demoHypervisor: 'qemu', demoVms: [{ name: VM, disks: [{ name: DISK, sizeMib }] }], logLevel: 'warn' });
  }
  say(`cbt: ${driver}: starting the embedded deployment`);
  const deployment = await startEmbedded(join(dir, 'up'), config, () => undefined);
  const api = new ControllerApi({ address: deployment.controllerAddress, source: 'bench', token: deployment.adminToken });
  try {
    await api.connect();
    say(`cbt: ${driver}: full backup`);
    let t0 = process.hrtime.bigint();
    await finished(api, await api.startBackup({ vm: VM, mode: 'full' }));
    const fullSeconds = secondsSince(t0);
    const size = sizeMib * MIB;
    if (driver === 'files') await applyToFile(rawPath, plannedChange(CHANGE_SEED, size, 0.02));
    else await changeThroughNbd(join(deployment.dataDir, 'vms', VM, 'nbd.sock'), DISK, 0.02, CHANGE_SEED);
    say(`cbt: ${driver}: incremental after a 2% change`);
    t0 = process.hrtime.bigint();
    const job = await finished(api, await api.startBackup({ vm: VM, mode: 'incremental' }));
    const seconds = secondsSince(t0);
    const result = BackupResult.parse(JSON.parse(job.resultJson));
    const manifestTracking = driver === 'qemu' ? 'dirty-bitmap' : 'hash';
    const target = join(dir, 'restore');
    const restore = RestoreResult.parse(JSON.parse((await finished(api, await api.startRestore({ backupId: result.backup.backupId, targetDir: target }))).resultJson));
    const restored = restore.disks[0]?.path ?? join(target, `${DISK}.img`);
    return {
      driver,
      changeTracking: manifestTracking,
      seconds: Math.round(seconds * 1000) / 1000,
      bytesRead: result.bytesRead,
      bytesSent: result.bytesSent,
      fullSeconds: Math.round(fullSeconds * 1000) / 1000,
      restoredIdentical: (await fileSha256(restored)) === expectedSha,
    };
  } finally {
    api.close();
    await deployment.stop();
  }
}

/** Runs both drivers on a seeded disk of `sizeMib`, under `dir`. */
export async function benchCbt(dir: string, sizeMib: number, say: (line: string) => void): Promise<CbtReport> {
  mkdirSync(dir, { recursive: true });
  // The changed disk both must restore to: the demo content plus the planned change.
  const expected = join(dir, 'expected.img');
  say(`cbt: writing the ${sizeMib} MiB disk content`);
  await writeDemoDisk(expected, sizeMib * MIB, `${VM}/${DISK}`);
  const change = plannedChange(CHANGE_SEED, sizeMib * MIB, 0.02);
  await applyToFile(expected, change);
  const expectedSha = await fileSha256(expected);
  await run('rm', ['-f', expected]);
  const qemu = await oneDriver(join(dir, 'qemu'), 'qemu', sizeMib, expectedSha, say);
  await run('rm', ['-rf', join(dir, 'qemu')]);
  const files = await oneDriver(join(dir, 'files'), 'files', sizeMib, expectedSha, say);
  await run('rm', ['-rf', join(dir, 'files')]);
  return {
    diskBytes: sizeMib * MIB,
    changedBytes: change.reduce((n, w) => n + w.data.length, 0),
    results: [qemu, files],
    bytesReadRatio: Math.round((qemu.bytesRead / Math.max(1, files.bytesRead)) * 1000) / 1000,
    speedup: Math.round((files.seconds / qemu.seconds) * 100) / 100,
  };
}
