/**
 * A small run of `npm run bench` (Bulwark only, 64 MiB image, no restic or borg): the entry point
 * runs end to end on real processes, prints one JSON object of the documented shape, restores
 * the image byte for byte, and leaves no temp dir behind. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { repoRoot } from '../../controller/cli/up/managed-process.js';

const Row = z.object({
  tool: z.enum(['bulwark', 'restic', 'borg']),
  scenario: z.enum(['full', 'incremental', 'restore']),
  seconds: z.number().positive(),
  mbPerSec: z.number().positive(),
  storedBytes: z.number().int().positive(),
  peakRssBytes: z.number().int().positive(),
  peakRssByProcess: z.record(z.string(), z.number().int().positive()),
  cpuSecondsByProcess: z.record(z.string(), z.number().nonnegative()),
  identical: z.boolean().optional(),
});
const Report = z.object({
  image: z.object({ bytes: z.number().int(), seed: z.number().int(), sha256: z.string(), changedSha256: z.string() }),
  tools: z.record(z.string(), z.object({ version: z.string(), encrypted: z.boolean() })),
  results: z.array(Row),
  ratios: z.record(z.string(), z.number()),
  allRestoresIdentical: z.boolean(),
  replication: z.object({
    uniqueStoredBytes: z.number().int().positive(),
    wireBytes: z.number().int().positive(),
    wireOverUnique: z.number().positive(),
    rateLimit: z.object({ configuredBytesPerSecond: z.number().positive(), measuredBytesPerSecond: z.number().positive(), accuracy: z.number().positive() }),
    restoredIdentical: z.boolean(),
  }),
  repair: z.object({
    chunks: z.number().int().positive(),
    heal: z.object({ seconds: z.number().positive(), chunksPerSecond: z.number().positive(), repairsRecorded: z.number().int(), allIdentical: z.boolean() }),
    scrub: z.object({ bytes: z.number().int().positive(), seconds: z.number().positive(), mbPerSecond: z.number().positive() }),
  }),
  cbt: z.object({
    diskBytes: z.number().int(),
    changedBytes: z.number().int().positive(),
    results: z.array(z.object({ driver: z.enum(['qemu', 'files']), changeTracking: z.string(), seconds: z.number().positive(), bytesRead: z.number().int(), restoredIdentical: z.boolean() })),
  }),
});

function runBench(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${repoRoot}bench/data-path.ts`, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run bench (smoke)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bulwark-bench-smoke-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('backs up, changes, backs up again and restores a 64 MiB image, printing one JSON object', async () => {
    const res = await runBench(['--json', '--size-mib', '64', '--tools', 'bulwark', '--cbt-size-mib', '64', '--replication-size-mib', '32', '--repair-chunks', '20', '--scale-vms', '0'], { TMPDIR: tmp });
    assert.equal(res.code, 0, `bench exited ${res.code}\n${res.stderr}`);
    const report = Report.parse(JSON.parse(res.stdout));

    assert.equal(report.image.bytes, 64 * 1024 * 1024);
    assert.equal(report.image.seed, 1);
    assert.notEqual(report.image.sha256, report.image.changedSha256, 'the change must change the image');
    assert.deepEqual(report.results.map((r) => `${r.tool}/${r.scenario}`), ['bulwark/full', 'bulwark/incremental', 'bulwark/restore']);
    assert.equal(report.tools.bulwark?.encrypted, true, 'Bulwark is measured encrypted, as restic and borg are');
    const [full, incremental, restore] = report.results;
    assert.equal(restore?.identical, true, 'the restored image is byte for byte the image backed up');
    assert.equal(report.allRestoresIdentical, true);
    assert.ok(full && incremental && incremental.storedBytes >= full.storedBytes, 'the incremental adds to the datastore');
    assert.ok(full?.peakRssByProcess.agent && full.peakRssByProcess.storage, 'the agent and the storage are measured');
    assert.ok((full?.cpuSecondsByProcess.agent ?? 0) > 0, 'the agent used CPU to back up 64 MiB');
    assert.deepEqual(report.ratios, {}, 'no peers, no ratios');
    assert.equal(report.replication.restoredIdentical, true, 'the replica restores the synced image byte for byte');
    assert.equal(report.repair.chunks, 20);
    assert.equal(report.repair.heal.allIdentical, true, 'every healed chunk served is the original');
    assert.equal(report.repair.heal.repairsRecorded, 20, 'each damaged chunk healed and recorded once');
    assert.equal(report.repair.scrub.bytes, 20 * (1024 * 1024 + 32), 'the scrub read every blob (1 MiB of random data, stored raw, with its 32-byte header)');
    const [cbtQemu, cbtFiles] = report.cbt.results;
    assert.deepEqual(report.cbt.results.map((r) => `${r.driver}/${r.changeTracking}`), ['qemu/dirty-bitmap', 'files/hash']);
    assert.ok(cbtQemu && cbtFiles && cbtQemu.bytesRead < cbtFiles.bytesRead, 'dirty bitmaps read less than hashing the whole disk');
    assert.ok(report.cbt.results.every((r) => r.restoredIdentical), 'both incrementals restore the changed disk byte for byte');
    assert.deepEqual(readdirSync(tmp).filter((name) => name.startsWith('bulwark-bench-')), [], 'the temp dir is removed');
  });

  it('refuses a bad option, naming it', async () => {
    const res = await runBench(['--tools', 'bulwark,tar'], { TMPDIR: tmp });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--tools/);
  });
});
