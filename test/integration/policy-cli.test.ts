/**
 * Policies as data through the real `bulwark` CLI against the embedded deployment (nats-server,
 * controller, two storages, an agent; real processes, SQLite catalog): create from flags and
 * from a file, refusals that name the field (exit 2) or the conflict (exit 1), edit that changes
 * only what is given and clears with --no-*, assign and unassign, list and show, a tag set in the
 * agent config making a VM covered, policies surviving a controller restart, delete leaving
 * nothing behind. Schedules are yearly so no policy falls due while the test runs; the test
 * writes no backup (so it restores none).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, runCliJson } from '../helpers/cli.js';
import { startTestDeployment } from '../helpers/embedded.js';
import { waitFor } from '../helpers/wait-for.js';

interface PolicyJson {
  policy: {
    name: string;
    description: string;
    enabled: boolean;
    schedule: { cron: string[]; timezone: string; window?: { start: string; end: string }; spreadMs: number; mode: string };
    retention?: Record<string, number>;
    rpoMs?: number;
    consistency: { mode: string; onFailure: string };
    storageSite?: string;
    replicaSites: string[];
    selector: { vms: string[]; namePatterns: string[]; tags: string[] };
    priority: number;
    retry: { maxAttempts: number; initialBackoffMs: number; maxBackoffMs: number };
  };
  createdAt: string;
  updatedAt: string;
  coveredVms: string[];
  nextDue: string[];
}

interface VmJson {
  name: string;
  tags: string[];
}

describe('bulwark policy (CLI, embedded deployment)', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment(
      [
        { name: 'web-1', disks: [{ name: 'disk0', sizeMib: 1 }], tags: ['prod', 'tier:web'] },
        { name: 'web-2', disks: [{ name: 'disk0', sizeMib: 1 }] },
        { name: 'db-1', disks: [{ name: 'disk0', sizeMib: 1 }], tags: ['prod'] },
      ],
      'files',
    );
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('creates, refuses, edits, assigns, lists, shows, survives a restart and deletes policies', async () => {
    const { env, deployment } = ctx;
    const vms = await waitFor('the agent inventory with tags', async () => {
      const listed = await runCliJson<VmJson[]>(['vms'], env);
      return listed.length === 3 ? listed : undefined;
    });
    assert.deepEqual(vms.find((v) => v.name === 'web-1')?.tags, ['prod', 'tier:web'], 'tags from the agent config reach `bulwark vms`');
    assert.deepEqual(vms.find((v) => v.name === 'web-2')?.tags, []);
    const table = await runCli(['vms'], env);
    assert.match(table.stdout, /TAGS/);
    assert.match(table.stdout, /prod, tier:web/);

    // Create from flags: every field; the tag from the agent config makes web-1 and db-1 covered.
    const created = await runCliJson<PolicyJson>(
      [
        'policy', 'create', 'nightly',
        '--schedule', '0 3 1 1 *', '--timezone', 'Europe/Paris', '--window', '22:00-06:00', '--spread', '15m', '--mode', 'incremental',
        '--keep-last', '3', '--keep-daily', '7', '--rpo', '24h',
        '--consistency', 'application', '--on-quiesce-failure', 'continue',
        '--site', 'a', '--replica', 'b', '--tag', 'prod',
        '--priority', '70', '--max-attempts', '5', '--retry-backoff', '30s', '--retry-max-backoff', '10m',
        '--description', 'yearly test policy',
      ],
      env,
    );
    assert.deepEqual(created.policy, {
      name: 'nightly',
      description: 'yearly test policy',
      enabled: true,
      action: 'backup',
      schedule: { cron: ['0 3 1 1 *'], timezone: 'Europe/Paris', window: { start: '22:00', end: '06:00' }, spreadMs: 900_000, mode: 'incremental' },
      retention: { last: 3, daily: 7 },
      rpoMs: 86_400_000,
      consistency: { mode: 'application', onFailure: 'continue' },
      storageSite: 'a',
      replicaSites: ['b'],
      selector: { vms: [], namePatterns: [], tags: ['prod'] },
      priority: 70,
      retry: { maxAttempts: 5, initialBackoffMs: 30_000, maxBackoffMs: 600_000 },
    });
    assert.deepEqual(created.coveredVms, ['db-1', 'web-1']);
    // 03:00 in Paris on January 1st is 02:00 UTC (winter time); three years in a row.
    assert.equal(created.nextDue.length, 3);
    const firstYear = Number(created.nextDue[0]?.slice(0, 4));
    assert.deepEqual(created.nextDue, [0, 1, 2].map((i) => `${firstYear + i}-01-01T02:00:00.000Z`));

    // The same name again: refused, exit 1, saying what to do.
    const again = await runCli(['policy', 'create', 'nightly', '--schedule', '0 3 1 1 *'], env);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /policy nightly already exists/);

    // Bad input: exit 2, naming the option or the field of the policy.
    const badCron = await runCli(['policy', 'create', 'bad', '--schedule', '61 * * * *'], env);
    assert.equal(badCron.code, 2, badCron.stderr);
    assert.match(badCron.stderr, /--schedule <cron>.*is not a valid cron expression/);
    const badSpread = await runCli(['policy', 'create', 'bad', '--schedule', '0 3 1 1 *', '--spread', '13h'], env);
    assert.equal(badSpread.code, 2, badSpread.stderr);
    assert.match(badSpread.stderr, /schedule\.spreadMs: must be at most 43200000 \(12 h\)/);
    const badWindow = await runCli(['policy', 'create', 'bad', '--schedule', '0 3 1 1 *', '--window', '25:00-06:00'], env);
    assert.equal(badWindow.code, 2, badWindow.stderr);
    assert.match(badWindow.stderr, /--window.*must be a time of day HH:MM/);
    const file = join(deployment.dataDir, 'bad-policy.json');
    writeFileSync(file, JSON.stringify({ name: 'bad', schedule: { cron: ['0 3 1 1 *', 'every day'] } }));
    const badFile = await runCli(['policy', 'create', '--file', file], env);
    assert.equal(badFile.code, 2, badFile.stderr);
    assert.match(badFile.stderr, /invalid input: schedule\.cron\.1: is not a valid cron expression/);
    const noSchedule = await runCli(['policy', 'create', 'bad'], env);
    assert.equal(noSchedule.code, 2, noSchedule.stderr);
    assert.match(noSchedule.stderr, /--schedule: give at least one cron expression/);

    // Create from a file, a flag overriding one of its fields.
    const good = join(deployment.dataDir, 'weekly.json');
    writeFileSync(good, JSON.stringify({ name: 'weekly', schedule: { cron: ['0 4 1 1 *'] }, selector: { namePatterns: ['web-?'] }, priority: 20 }));
    const weekly = await runCliJson<PolicyJson>(['policy', 'create', '--file', good, '--priority', '10'], env);
    assert.equal(weekly.policy.priority, 10);
    assert.deepEqual(weekly.coveredVms, ['web-1', 'web-2']);

    // Edit changes only what is given; --no-* clears; --disable stops the due times.
    const edited = await runCliJson<PolicyJson>(['policy', 'edit', 'nightly', '--no-rpo', '--no-window', '--disable', '--schedule', '0 5 1 1 *'], env);
    assert.equal(edited.policy.rpoMs, undefined);
    assert.equal(edited.policy.schedule.window, undefined);
    assert.deepEqual(edited.policy.schedule.cron, ['0 5 1 1 *']);
    assert.equal(edited.policy.schedule.timezone, 'Europe/Paris');
    assert.equal(edited.policy.enabled, false);
    assert.deepEqual(edited.policy.retention, { last: 3, daily: 7 });
    assert.equal(edited.policy.priority, 70);
    assert.deepEqual(edited.nextDue, []);
    assert.equal(edited.createdAt, created.createdAt);
    assert.ok(edited.updatedAt > created.updatedAt);
    const enabled = await runCliJson<PolicyJson>(['policy', 'edit', 'nightly', '--enable', '--keep-last', '5'], env);
    assert.equal(enabled.policy.enabled, true);
    assert.deepEqual(enabled.policy.retention, { last: 5, daily: 7 });
    assert.equal(enabled.nextDue.length, 3);
    const badEdit = await runCli(['policy', 'edit', 'nightly', '--priority', '101'], env);
    assert.equal(badEdit.code, 2, badEdit.stderr);
    assert.match(badEdit.stderr, /--priority.*must be at most 100/);
    const missing = await runCli(['policy', 'edit', 'nope', '--priority', '1'], env);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /policy nope not found/);
    assert.match(missing.stderr, /bulwark policy list/);

    // Assign and unassign.
    const assigned = await runCliJson<PolicyJson>(['policy', 'assign', 'nightly', '--vm', 'web-2', '--pattern', 'db-*'], env);
    assert.deepEqual(assigned.policy.selector, { vms: ['web-2'], namePatterns: ['db-*'], tags: ['prod'] });
    assert.deepEqual(assigned.coveredVms, ['db-1', 'web-1', 'web-2']);
    const unassigned = await runCliJson<PolicyJson>(['policy', 'assign', 'nightly', '--tag', 'prod', '--remove'], env);
    assert.deepEqual(unassigned.policy.selector, { vms: ['web-2'], namePatterns: ['db-*'], tags: [] });
    assert.deepEqual(unassigned.coveredVms, ['db-1', 'web-2']);

    // List and show, as tables and JSON.
    const listed = await runCliJson<PolicyJson[]>(['policy', 'list'], env);
    assert.deepEqual(
      listed.map((p) => [p.policy.name, p.coveredVms.length]),
      [
        ['nightly', 2],
        ['weekly', 2],
      ],
    );
    const listTable = await runCli(['policy', 'list'], env);
    assert.equal(listTable.code, 0, listTable.stderr);
    assert.match(listTable.stdout, /NAME.*ENABLED.*SCHEDULE.*RPO.*COVERS.*NEXT DUE/);
    assert.match(listTable.stdout, /nightly.*yes.*0 5 1 1 \* \(Europe\/Paris\).*2 VM\(s\)/);
    const shown = await runCli(['policy', 'show', 'nightly'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /covers\s+2 VM\(s\): db-1, web-2/);
    assert.match(shown.stdout, /consistency\s+application, on quiesce failure continue/);
    assert.match(shown.stdout, /spread\s+15m \(each VM at its own offset\)/);
    assert.match(shown.stdout, /next due\s+\d{4}-01-01 04:00:00Z/);

    // The policies are in the catalog: a controller restart keeps them as they were.
    const controller = deployment.processes.get('controller');
    assert.ok(controller);
    await controller.stop();
    await controller.start();
    assert.deepEqual(await runCliJson<PolicyJson[]>(['policy', 'list'], env), listed);

    // Delete: gone, and a second delete is refused.
    const deleted = await runCliJson<{ name: string; deleted: boolean }>(['policy', 'delete', 'nightly'], env);
    assert.deepEqual(deleted, { name: 'nightly', deleted: true });
    const gone = await runCli(['policy', 'show', 'nightly'], env);
    assert.equal(gone.code, 1, gone.stderr);
    assert.match(gone.stderr, /policy nightly not found/);
    assert.deepEqual(
      (await runCliJson<PolicyJson[]>(['policy', 'list'], env)).map((p) => p.policy.name),
      ['weekly'],
    );
  });
});
