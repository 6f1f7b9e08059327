/**
 * `npm run demo`: the whole story on the embedded deployment, through the real CLI, with the
 * demo VM on QEMU (a qemu-storage-daemon serving its qcow2 disk; the agent uses QMP, fleecing,
 * dirty bitmaps and NBD). full backup (reads only allocated data) → the guest changes ~2% →
 * incremental while the guest keeps writing (reads only the dirty extents; the backup is one
 * instant of the disk) → sync to site B → damage three chunk files at site A → verify --repair
 * heals them from B → verify A again → restore from B and from A, each compared byte for byte
 * with the disk at the backup's instant. Prints a summary and exits 0 only if every step held.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Table from 'cli-table3';
import { repoRoot } from '../controller/cli/up/managed-process.js';
import { allocatedBytes, chunkFiles, fileSha256 } from '../test/helpers/files.js';
import { runJobView } from '../test/helpers/embedded.js';
import { BackgroundWriter, changeThroughNbd, pointInTimeCut } from '../test/helpers/guest-writer.js';
import { BackupResult, RestoreResult, SyncResult, VerifyResult } from '../shared/messages/results.js';
import type { z } from 'zod';

const run = promisify(execFile);
const diskMib = Number(process.env.BULWARK_DEMO_DISK_MIB ?? 1024);
const keep = process.env.BULWARK_DEMO_KEEP === '1';
const dataDir = mkdtempSync(join(tmpdir(), 'bulwark-demo-'));
const env = { BULWARK_HOME: dataDir };

interface Step {
  step: string;
  seconds: number;
  detail: string;
  ok: boolean;
}
const steps: Step[] = [];


const mib = (n: number) => `${(Number(n) / 1048576).toFixed(1)} MiB`;

async function cliJob<S extends z.ZodType>(schema: S, args: string[]): Promise<{ result: z.output<S>; seconds: number }> {
  const t0 = performance.now();
  const job = await runJobView(args, env);
  return { result: schema.parse(job.result), seconds: (performance.now() - t0) / 1000 };
}

function record(step: string, seconds: number, detail: string, ok: boolean): void {
  steps.push({ step, seconds, detail, ok });
  console.log(`${ok ? '✔' : '✘'} ${step.padEnd(28)} ${seconds.toFixed(1).padStart(6)} s  ${detail}`);
}

async function startUp(): Promise<() => Promise<void>> {
  const readyFile = join(dataDir, 'up-ready.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', `${repoRoot}controller/cli/main.ts`, 'up', '--data-dir', dataDir, '--demo-disk-mib', String(diskMib), '--ready-file', readyFile],
    { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 300_000;
  while (!existsSync(readyFile)) {
    if (child.exitCode !== null) throw new Error(`bulwark up exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('bulwark up was not ready within 5 minutes');
    await sleep(100);
  }
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}

async function main(): Promise<number> {
  console.log(`Bulwark demo in ${dataDir} (demo disk ${diskMib} MiB)\n`);
  let t0 = performance.now();
  const stopUp = await startUp();
  const vmDir = join(dataDir, 'vms', 'demo-vm');
  const disk = join(vmDir, 'disk0.qcow2');
  const nbdSocket = join(vmDir, 'nbd.sock');
  record('bulwark up + demo VM (QEMU)', (performance.now() - t0) / 1000, `qcow2 disk ${mib(diskMib * 1048576)}, ${mib(allocatedBytes(disk))} allocated, served by qemu-storage-daemon`, true);
  try {
    const full = await cliJob(BackupResult, ['backup', 'demo-vm', '--mode', 'full']);
    const fr = full.result;
    record('full backup', full.seconds, `read ${mib(fr.bytesRead)} (allocated data only), sent ${fr.chunksSent} chunks (${mib(fr.bytesSent)})`, fr.bytesRead < diskMib * 1048576);

    t0 = performance.now();
    const changed = await changeThroughNbd(nbdSocket, 'disk0', 0.02, 'demo-change');
    record('the guest changes ~2%', (performance.now() - t0) / 1000, `${changed.length} scattered 64 KiB writes through the VM's NBD export`, true);

    // The disk as it is now, read through QEMU, before the guest goes on writing.
    const before = join(dataDir, 'before.raw');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', '-S', '4k', `nbd+unix:///disk0?socket=${nbdSocket}`, before]);
    const writer = await BackgroundWriter.start(nbdSocket, 'disk0', 'demo-live', 20);
    while (writer.done < 20) await sleep(5);
    const inc = await cliJob(BackupResult, ['backup', 'demo-vm']);
    const writes = await writer.stop();
    const ir = inc.result;
    const incBackup = ir.backup;
    const dirtyBound = (changed.length + writes.length) * 2 * 1048576;
    record(
      'incremental, guest writing',
      inc.seconds,
      `${incBackup.mode}: read ${mib(ir.bytesRead)} (dirty extents only), sent ${ir.chunksSent} chunks; the guest made ${writes.length} writes meanwhile`,
      incBackup.mode === 'incremental' && ir.bytesRead <= dirtyBound,
    );
    const pointInTime = async (restored: string): Promise<{ same: boolean; cut: number }> => {
      const expected = join(dataDir, 'expected.raw');
      const cut = await pointInTimeCut(restored, before, writes, expected);
      const same = (await fileSha256(restored)) === (await fileSha256(expected));
      rmSync(expected, { force: true });
      return { same, cut };
    };

    const sync = await cliJob(SyncResult, ['sync']);
    const sr = sync.result;
    record('sync a → b', sync.seconds, `${sr.copied.length} backups, ${sr.chunksCopied} chunks (${mib(sr.bytesCopied)})`, sr.copied.length === 2);

    const files = chunkFiles(join(dataDir, 'storage-a', 'datastore'));
    const [flip, trunc, del] = [files[Math.floor(files.length / 4)], files[Math.floor(files.length / 2)], files[Math.floor((3 * files.length) / 4)]];
    if (!flip || !trunc || !del) throw new Error('too few chunk files to damage');
    const bytes = readFileSync(flip);
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0x04;
    writeFileSync(flip, bytes);
    truncateSync(trunc, Math.floor(readFileSync(trunc).length / 2));
    unlinkSync(del);
    record('damage 3 chunks at site a', 0, 'a bit flip, a truncation, a deletion', true);

    const repair = await cliJob(VerifyResult, ['verify', '--site', 'a', '--repair']);
    const rr = repair.result;
    record('verify --repair at a', repair.seconds, `${rr.chunksChecked} chunks checked, ${rr.repaired} repaired from b, ${rr.unrepaired} unrepaired`, rr.repaired === 3 && rr.unrepaired === 0);

    const again = await cliJob(VerifyResult, ['verify', '--site', 'a', '--force']);
    const ar = again.result;
    const damagedAgain = ar.chunks.length + ar.damagedFiles.length;
    record('verify a again', again.seconds, `${ar.chunksChecked} chunks checked, ${damagedAgain} damaged`, damagedAgain === 0);

    for (const site of ['b', 'a']) {
      const target = join(dataDir, `restore-${site}`);
      const res = await cliJob(RestoreResult, ['restore', incBackup.backupId, '--to', target, '--site', site]);
      const restored = join(target, 'disk0.img');
      const { same, cut } = await pointInTime(restored);
      record(
        `restore from site ${site}`,
        res.seconds,
        `${mib(res.result.bytesWritten)} written; the disk at the backup's instant (guest write ${cut} of ${writes.length}): ${same ? 'identical' : 'DIFFERENT'}`,
        same,
      );
    }
  } catch (err) {
    record('demo step', 0, (err as Error).message, false);
  } finally {
    await stopUp();
  }

  const stored = (site: string) => chunkFiles(join(dataDir, `storage-${site}`, 'datastore')).reduce((n, f) => n + allocatedBytes(f), 0);
  const table = new Table({ head: ['step', 'seconds', 'detail', 'ok'], style: { head: [], border: [] } });
  for (const s of steps) table.push([s.step, s.seconds.toFixed(1), s.detail, s.ok ? 'yes' : 'NO']);
  console.log(`\n${table.toString()}`);
  console.log(`stored at site a: ${mib(stored('a'))}, at site b: ${mib(stored('b'))} (source disk ${mib(diskMib * 1048576)})`);
  const ok = steps.every((s) => s.ok);
  console.log(ok ? '\nDemo passed: every step held.' : '\nDemo FAILED: see the steps marked NO.');
  if (keep) console.log(`kept ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
  return ok ? 0 : 1;
}

process.exitCode = await main();
