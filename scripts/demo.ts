/**
 * `npm run demo`: the whole story on the embedded deployment, through the real CLI.
 * full backup → change ~2% → incremental → sync to site B → damage three chunk files at site A →
 * verify --repair heals them from B → verify A again → restore from B and from A, compared byte
 * for byte with the source disk. Prints a summary and exits 0 only if every step held.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Table from 'cli-table3';
import { mutateDemoDisk } from '../controller/cli/up/demo-disk.js';
import { repoRoot } from '../controller/cli/up/managed-process.js';
import { allocatedBytes, chunkFiles, fileSha256 } from '../test/helpers/files.js';
import { runJobView } from '../test/helpers/embedded.js';
import { BackupResult, RestoreResult, SyncResult, VerifyResult } from '../shared/messages/results.js';
import type { z } from 'zod';

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
  const disk = join(dataDir, 'vms', 'demo-vm', 'disk0.img');
  record('bulwark up + demo disk', (performance.now() - t0) / 1000, `disk ${mib(diskMib * 1048576)}, ${mib(allocatedBytes(disk))} allocated`, true);
  try {
    const full = await cliJob(BackupResult, ['backup', 'demo-vm', '--mode', 'full']);
    const fr = full.result;
    record('full backup', full.seconds, `read ${mib(fr.bytesRead)}, sent ${fr.chunksSent} chunks (${mib(fr.bytesSent)}), ${fr.chunksZero} zero chunks skipped`, true);

    t0 = performance.now();
    const offsets = await mutateDemoDisk(disk, 0.02);
    record('change ~2% of the disk', (performance.now() - t0) / 1000, `${offsets.length} scattered 64 KiB writes`, true);

    const inc = await cliJob(BackupResult, ['backup', 'demo-vm']);
    const ir = inc.result;
    const incBackup = ir.backup;
    record('incremental backup', inc.seconds, `${incBackup.mode}: read ${mib(ir.bytesRead)}, sent ${ir.chunksSent} chunks (${mib(ir.bytesSent)})`, incBackup.mode === 'incremental');
    const sourceSha = await fileSha256(disk);

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
      const same = (await fileSha256(restored)) === sourceSha;
      record(`restore from site ${site}`, res.seconds, `${mib(res.result.bytesWritten)} written, ${mib(allocatedBytes(restored))} allocated, identical: ${same ? 'yes' : 'NO'}`, same);
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
