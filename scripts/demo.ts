/**
 * `npm run demo`: the whole story on the embedded deployment, through the real CLI, with the
 * demo VM on QEMU (a qemu-storage-daemon serving its qcow2 disk; the agent uses QMP, fleecing,
 * dirty bitmaps and NBD). full backup (reads only allocated data) → the guest changes ~2% →
 * incremental while the guest keeps writing (reads only the dirty extents; the backup is one
 * instant of the disk) → the replica's lag per VM → sync to site B (lag back to 0) → damage three
 * chunks at site A: a restore from A heals them from B on the read path, transparently → damage a
 * chunk and an index at site B: verify --repair at B heals them from A → `bulwark repairs` lists
 * the five, `bulwark status` shows no open alert → restore from B and from A, each compared byte
 * for byte with the disk at the backup's instant. Prints a summary and exits 0 only if every step
 * held.
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
import { runCli, runCliJson } from '../test/helpers/cli.js';
import { runJobView } from '../test/helpers/embedded.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../shared/format/chunk-digest.js';
import { decodeFixedIndex } from '../shared/format/fixed-index.js';
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

interface VmLagView {
  vm: string;
  lagMs: number;
  notYetReplicated: number;
  dataAgeAtReplicaMs?: number;
}
interface RepairView {
  site: string;
  object: string;
  trigger: string;
  peer: string;
  problem: string;
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** The demo VM's lag on the a → b pair (`bulwark replication`). */
async function vmLag(): Promise<VmLagView | undefined> {
  const status = await runCliJson<{ pairs: { fromSite: string; toSite: string; vms: VmLagView[] }[] }>(['replication'], env);
  return status.pairs.find((p) => p.fromSite === 'a' && p.toSite === 'b')?.vms.find((v) => v.vm === 'demo-vm');
}

/** The repairs the controller recorded at a site, once there are `count` (events arrive asynchronously). */
async function repairsAt(site: string, count: number): Promise<RepairView[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const repairs = await runCliJson<RepairView[]>(['repairs', '--site', site], env);
    if (repairs.length >= count || Date.now() > deadline) return repairs;
    await sleep(250);
  }
}

function summarize(repairs: readonly RepairView[]): string {
  return repairs.map((r) => `${r.object} ${r.problem} ← ${r.peer}`).join('; ');
}

/** Files of `n` distinct chunks a backup uses, spread over its disk, at a site. */
function chunkFilesOf(site: string, backupId: string, n: number): string[] {
  const store = join(dataDir, `storage-${site}`, 'datastore');
  const index = decodeFixedIndex(readFileSync(join(store, 'backups', 'demo-vm', backupId, 'disk0.fidx')));
  const hexes: string[] = [];
  for (let i = 0; i < index.chunkCount; i++) {
    const d = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
    if (!isZeroDigest(d) && !hexes.includes(digestHex(d))) hexes.push(digestHex(d));
  }
  const step = Math.max(1, Math.floor(hexes.length / (n + 1)));
  return Array.from({ length: n }, (_, k) => hexes[(k + 1) * step]).flatMap((hex) => (hex ? [join(store, 'chunks', hex.slice(0, 2), hex.slice(2, 4), hex)] : []));
}

function flipByte(path: string): void {
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0x04;
  writeFileSync(path, bytes);
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

    const lagBefore = await vmLag();
    record(
      'replica lag (before sync)',
      0,
      `demo-vm: ${lagBefore?.notYetReplicated ?? '?'} backups not at b yet, b behind by ${seconds(lagBefore?.lagMs)}`,
      lagBefore !== undefined && lagBefore.notYetReplicated === 2 && lagBefore.lagMs > 0,
    );

    const sync = await cliJob(SyncResult, ['sync']);
    const sr = sync.result;
    record('sync a → b', sync.seconds, `${sr.copied.length} backups, ${sr.chunksCopied} chunks (${mib(sr.bytesCopied)})`, sr.copied.length === 2);
    const lagAfter = await vmLag();
    record(
      'replica lag (after sync)',
      0,
      `demo-vm: ${lagAfter?.notYetReplicated ?? '?'} not at b, lag ${seconds(lagAfter?.lagMs)}, data age at b ${seconds(lagAfter?.dataAgeAtReplicaMs)}`,
      lagAfter !== undefined && lagAfter.notYetReplicated === 0 && lagAfter.lagMs === 0,
    );

    // Site a: three chunks of the incremental backup damaged three ways; a restore from a heals them.
    const [flip, trunc, del] = chunkFilesOf('a', incBackup.backupId, 3);
    if (!flip || !trunc || !del) throw new Error('too few chunks to damage');
    flipByte(flip);
    truncateSync(trunc, Math.floor(readFileSync(trunc).length / 2));
    unlinkSync(del);
    record('damage 3 chunks at site a', 0, 'a bit flip, a truncation, a deletion', true);
    const healA = join(dataDir, 'restore-heal-a');
    const healRestore = await cliJob(RestoreResult, ['restore', incBackup.backupId, '--to', healA, '--site', 'a']);
    const healed = await pointInTime(join(healA, 'disk0.img'));
    rmSync(healA, { recursive: true, force: true });
    const repairsA = await repairsAt('a', 3);
    record(
      'restore from a heals from b',
      healRestore.seconds,
      `restored disk ${healed.same ? 'identical' : 'DIFFERENT'}; ${repairsA.length} repairs at a (${summarize(repairsA)})`,
      healed.same && repairsA.length === 3 && repairsA.every((r) => r.peer === 'b' && r.trigger === 'read'),
    );

    // Site b: a chunk and the full backup's index damaged; verify --repair at b heals them from a.
    const [chunkAtB] = chunkFilesOf('b', incBackup.backupId, 1);
    if (!chunkAtB) throw new Error('no chunk to damage at b');
    flipByte(chunkAtB);
    flipByte(join(dataDir, 'storage-b', 'datastore', 'backups', 'demo-vm', fr.backup.backupId, 'disk0.fidx'));
    record('damage a chunk and an index at b', 0, `a chunk of ${incBackup.backupId}, the index of ${fr.backup.backupId}`, true);
    const repairB = await cliJob(VerifyResult, ['verify', '--site', 'b', '--repair', '--force']);
    const rb = repairB.result;
    const repairsB = await repairsAt('b', 2);
    record(
      'verify --repair at b heals from a',
      repairB.seconds,
      `${rb.chunksChecked} chunks checked; ${rb.repaired} chunk and ${rb.damagedFiles.filter((f) => f.outcome === 'repaired').length} index repaired from a; ${rb.unrepaired} unrepaired`,
      rb.repaired === 1 && rb.unrepaired === 0 && rb.damagedFiles.every((f) => f.outcome === 'repaired') && repairsB.every((r) => r.peer === 'a'),
    );
    const repairsTable = await runCli(['repairs'], env);
    console.log(repairsTable.stdout);
    const status = await runCliJson<{ openAlerts: unknown[] }>(['status'], env);
    record('bulwark status', 0, `${status.openAlerts.length} open damage alerts`, status.openAlerts.length === 0);

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
