/**
 * The policy scheduler with real processes (nats-server, controller, two storages, an agent), on
 * the embedded deployment with one dispatch slot per agent:
 * - a policy with a 6-field cron every 2 s over the demo VMs makes backups on its own;
 * - no two agent jobs ever overlap at the agent: the gate publishes one only after the previous
 *   one finished (from the job rows' published, started and finished times);
 * - a backup whose disk is made unreadable (a symlink loop in its place: an I/O error, which is
 *   retryable) is retried with backoff under the same job id, and succeeds once the disk is back;
 * - prunes (the policy's retention) and a sync to the replica site follow the backups;
 * - the policy's consistency reaches the agent: it asks for application consistency, which the
 *   files driver cannot give, and onFailure continue records a crash-consistent backup saying why;
 * - the newest backup is restored byte for byte.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbedded, UpConfig, type EmbeddedDeployment } from '../../controller/cli/up/up-command.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { RestoreResult } from '../../shared/messages/results.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

const VMS = ['vm-a', 'vm-b'];
const POLICY = 'every-2s';

/** A job as `bulwark jobs --json` prints it (the fields used here). */
interface JobJson {
  id: string;
  kind: string;
  state: string;
  site: string;
  worker: string;
  vm: string | null;
  attempt: number;
  error: string | null;
  policy: string | null;
  priority: number;
  dueAt: string | null;
  notBefore: string | null;
  maxAttempts: number;
  publishedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  params: { source?: { site: string } } | null;
}

describe('policy scheduler: jobs from a policy, one slot per agent, retries, follow-ups', () => {
  let deployment: EmbeddedDeployment;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-policy-it-'));
    const config = UpConfig.parse({
      demoHypervisor: 'files',
      demoVms: VMS.map((name) => ({ name, disks: [{ name: 'disk0', sizeMib: 2 }] })),
      scheduler: { maxJobsPerAgent: 1, maxJobsPerSite: 8, tickMs: 200 },
      logLevel: process.env.BULWARK_TEST_LOG_LEVEL ?? 'info',
    });
    deployment = await startEmbedded(dir, config, () => undefined);
    env = { BULWARK_HOME: dir };
  });
  after(async () => {
    await deployment?.stop();
    if (process.env.BULWARK_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  /** Every job, oldest first, as `bulwark jobs --json` prints it. */
  const cliJobs = async () => (await runCliJson<JobJson[]>(['jobs', '--limit', '1000'], env)).reverse();
  /**
   * Every job, oldest first, read from the controller's catalog file (read-only): polling through
   * the CLI would start a process per look.
   */
  const jobs = () => {
    const db = new Database(join(dir, 'controller', 'catalog.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT * FROM jobs ORDER BY created_at, id').all() as Record<string, unknown>[];
      return rows.map(
        (r): JobJson => ({
          id: String(r.id),
          kind: String(r.kind),
          state: String(r.state),
          site: String(r.site),
          worker: String(r.worker),
          vm: r.vm as string | null,
          attempt: Number(r.attempt),
          error: r.error as string | null,
          policy: r.policy as string | null,
          priority: Number(r.priority),
          dueAt: r.due_at as string | null,
          notBefore: r.not_before as string | null,
          maxAttempts: Number(r.max_attempts),
          publishedAt: r.published_at as string | null,
          startedAt: r.started_at as string | null,
          finishedAt: r.finished_at as string | null,
          params: JSON.parse(String(r.params)) as JobJson['params'],
        }),
      );
    } finally {
      db.close();
    }
  };
  const policyJobs = (kind: string) => jobs().filter((j) => j.policy === POLICY && j.kind === kind);
  /** Copies of a VM at a site the catalog holds as present (not pruned). */
  const presentCopies = (vm: string, site: string) => {
    const db = new Database(join(dir, 'controller', 'catalog.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM backups WHERE vm = ? AND site = ? AND pruned_at IS NULL').get(vm, site) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('backs up on its own, one job at a time at the agent, retries a failing backup, prunes and syncs, and restores', async () => {
    const created = await runCli(
      ['policy', 'create', POLICY, '--schedule', '*/2 * * * * *', '--pattern', 'vm-*', '--keep-last', '2', '--replica', 'b',
        '--priority', '60', '--max-attempts', '6', '--retry-backoff', '1s', '--retry-max-backoff', '2s',
        '--consistency', 'application', '--on-quiesce-failure', 'continue'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);

    // Backups made by the policy alone, for every VM.
    await waitFor('a policy backup of each VM', () => {
      const done = policyJobs('backup').filter((j) => j.state === 'succeeded');
      return VMS.every((vm) => done.some((j) => j.vm === vm)) ? true : undefined;
    }, 60_000, 100);
    const first = policyJobs('backup')[0];
    assert.ok(first);
    assert.equal(first.priority, 60);
    assert.equal(first.maxAttempts, 6);
    assert.match(first.dueAt ?? '', /:\d[02468]\.000Z$/, 'due at an even second, as the cron says');

    // vm-a's disk unreadable: a symlink loop in its place (ELOOP, an I/O error, retryable).
    const disk = join(dir, 'vms', 'vm-a', 'disk0.img');
    renameSync(disk, `${disk}.away`);
    symlinkSync('disk0.img', disk);
    let retried: JobJson;
    try {
      retried = await waitFor('a vm-a backup failing and queued for retry', () => {
        const j = policyJobs('backup').find((x) => x.vm === 'vm-a' && x.attempt >= 2 && x.state === 'queued' && x.error !== null);
        return j;
      }, 30_000, 200);
      assert.match(retried.error ?? '', /^INTERNAL: .*(ELOOP|symbolic links)/);
      assert.ok(retried.notBefore !== null, 'a retry waits for its backoff');
    } finally {
      unlinkSync(disk);
      renameSync(`${disk}.away`, disk);
    }
    const recovered = await waitFor('the retried backup succeeding under the same id', () => {
      const j = jobs().find((x) => x.id === retried.id);
      assert.ok(j);
      assert.ok(j.state !== 'failed', `the retried job failed: ${j.error ?? ''}`);
      return j.state === 'succeeded' ? j : undefined;
    }, 30_000, 100);
    assert.ok(recovered.attempt >= 2);

    // Follow-ups: prunes at the storage site, a sync to b, and a prune at b after it.
    await waitFor('a policy prune at a, a sync a→b and a prune at b, all succeeded', () => {
      const all = jobs();
      const ok = (j: JobJson) => j.policy === POLICY && j.state === 'succeeded';
      const pruneA = all.some((j) => ok(j) && j.kind === 'prune' && j.site === 'a');
      const sync = all.some((j) => ok(j) && j.kind === 'sync' && j.site === 'b' && j.params?.source?.site === 'a');
      const pruneB = all.some((j) => ok(j) && j.kind === 'prune' && j.site === 'b');
      // Retention applied to vm-a (the policy is deleted next: a backup that ends after that has no follow-up).
      const madeA = all.filter((j) => j.policy === POLICY && j.kind === 'backup' && j.vm === 'vm-a' && j.state === 'succeeded').length;
      const pruned = presentCopies('vm-a', 'a') < madeA;
      return pruneA && sync && pruneB && pruned ? true : undefined;
    }, 45_000, 200);

    // Stop the churn, let every job end.
    assert.equal((await runCli(['policy', 'delete', POLICY], env)).code, 0);
    await waitFor('every job finished', () => (jobs().every((j) => j.state !== 'queued' && j.state !== 'running') ? true : undefined), 30_000, 200);
    // From here through the CLI: what `bulwark jobs --json` shows of scheduling.
    const finalJobs = await cliJobs();

    // One dispatch slot at the agent: its jobs' [published, finished] intervals never overlap.
    const agentJobs = finalJobs
      .filter((j) => j.worker === 'agent-1' && j.publishedAt !== null && j.finishedAt !== null)
      .sort((x, y) => (x.publishedAt ?? '').localeCompare(y.publishedAt ?? ''));
    assert.ok(agentJobs.length >= 4, `enough agent jobs to mean something (${agentJobs.length})`);
    for (let i = 1; i < agentJobs.length; i++) {
      const prev = agentJobs[i - 1]!;
      const next = agentJobs[i]!;
      assert.ok(next.publishedAt! >= prev.finishedAt!, `job ${next.id} published ${next.publishedAt} before ${prev.id} finished ${prev.finishedAt}`);
      if (next.startedAt !== null && prev.finishedAt !== null) assert.ok(next.startedAt >= prev.finishedAt, `job ${next.id} started while ${prev.id} ran`);
    }
    assert.ok(finalJobs.some((j) => j.state === 'failed' || j.attempt > 1), 'the fault showed in the rows');

    // Retention applied: vm-a has fewer present copies at a than backups made.
    const madeA = finalJobs.filter((j) => j.kind === 'backup' && j.vm === 'vm-a' && j.state === 'succeeded').length;
    const copiesA = await runCliJson<{ backupId: string; createdAt: string }[]>(['backups', '--vm', 'vm-a', '--site', 'a'], env);
    assert.ok(copiesA.length < madeA, `prune removed some of vm-a's ${madeA} backups (${copiesA.length} left)`);

    // The newest backup restores byte for byte.
    const newest = [...copiesA].sort((x, y) => y.createdAt.localeCompare(x.createdAt))[0];
    assert.ok(newest);
    const target = join(dir, 'restore-newest');
    await runJob(RestoreResult, ['restore', newest.backupId, '--to', target], env);
    assert.equal(await fileSha256(join(target, 'disk0.img')), await fileSha256(disk), 'restored byte for byte');

    // The policy's consistency reached the agent: asked for, not available, recorded as such.
    const manifest = decodeManifest(readFileSync(join(dir, 'storage-a', 'datastore', 'backups', 'vm-a', newest.backupId, 'manifest.json')));
    assert.equal(manifest.consistency?.level, 'crash');
    assert.match(manifest.consistency?.note ?? '', /^the policy asked for application consistency, not given: /);
  });
});
