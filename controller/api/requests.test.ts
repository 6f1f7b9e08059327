import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../shared/errors.js';
import {
  GetStatusInput,
  ImportCatalogInput,
  ListAlertsInput,
  ListJobsInput,
  ListRepairsInput,
  LockBackupInput,
  StartBackupInput,
  StartGcInput,
  StartPruneInput,
  StartRestoreInput,
  StartSnapshotInput,
  StartSyncInput,
  StartVerifyInput,
  parseRequest,
} from './requests.js';

const fails = (fn: () => unknown, message: string) =>
  assert.throws(fn, (err: unknown) => err instanceof ValidationError && err.message === message);

describe('controller request validation', () => {
  it('names the proto field and the rule', () => {
    fails(() => parseRequest(StartBackupInput, { vm: 'vm1', mode: 'fast' }), 'mode: must be one of auto, full, incremental');
    fails(() => parseRequest(StartRestoreInput, { backupId: 'B1', targetDir: 'rel/dir', site: '', worker: '' }), 'target_dir: must be an absolute path');
    fails(() => parseRequest(StartRestoreInput, { backupId: 'B1', targetDir: '/r', format: 'vmdk' }), 'format: must be raw or qcow2');
    fails(() => parseRequest(StartRestoreInput, { backupId: 'B1', verifyOnly: true, start: true }), 'start: cannot start a VM from a verify-only restore');
    fails(() => parseRequest(StartSyncInput, { fromSite: 'Site A', toSite: '' }), 'from_site: must match ^[a-z0-9-]+$');
    fails(() => parseRequest(ListJobsInput, { limit: 5, state: 'done' }), 'state: must be one of queued, running, succeeded, failed, cancelled, skipped');
  });

  it('treats empty proto strings as absent and fills defaults', () => {
    assert.deepEqual(parseRequest(StartBackupInput, { vm: 'vm1', mode: '' }), { vm: 'vm1', mode: 'auto' });
    assert.deepEqual(parseRequest(StartRestoreInput, { backupId: 'B1', targetDir: '/x/../y', site: '', worker: '' }), {
      backupId: 'B1',
      targetDir: '/y',
      site: undefined,
      worker: undefined,
      verifyOnly: false,
      format: 'raw',
      start: false,
    });
    assert.deepEqual(parseRequest(ListJobsInput, { limit: 0, state: '' }), { limit: 50, state: undefined });
  });

  it('validates verify, prune, gc and lock requests, naming the field', () => {
    fails(() => parseRequest(StartVerifyInput, { site: '', repair: false, backupId: 'B1', vm: 'vm1', force: false }), 'vm: give backup_id or vm, not both');
    fails(() => parseRequest(StartVerifyInput, { repair: false, skipVerifiedWithinMs: -1 }), 'skip_verified_within_ms: must not be negative');
    fails(() => parseRequest(StartRestoreInput, { backupId: 'B1', targetDir: '', verifyOnly: false }), 'target_dir: must not be empty (unless verify_only)');
    fails(() => parseRequest(StartPruneInput, { keepDaily: 1.5 }), 'keep_daily: must be a whole number');
    fails(() => parseRequest(StartGcInput, { graceMs: 1.5 }), 'grace_ms: must be a whole number of milliseconds');
    fails(() => parseRequest(LockBackupInput, { backupId: 'B1', until: 'tomorrow' }), 'until: must be an ISO-8601 time with a zone, e.g. 2027-01-01T00:00:00Z');
    fails(() => parseRequest(LockBackupInput, { backupId: 'B1', until: '' }), 'until: must not be empty');
  });

  it('validates snapshot requests: empty name and keep 0 are absent; the op decides what is needed', () => {
    assert.deepEqual(parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'create', name: '', keep: 0 }), {
      vm: 'vm1',
      op: 'create',
      name: undefined,
      keep: undefined,
    });
    assert.deepEqual(parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'create', name: 'pre-upgrade.1', keep: 3 }), {
      vm: 'vm1',
      op: 'create',
      name: 'pre-upgrade.1',
      keep: 3,
    });
    assert.deepEqual(parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'revert', name: 'bulwark-01JAAAAAAAAAAAAAAAAAAAAAAA', keep: 0 }), {
      vm: 'vm1',
      op: 'revert',
      name: 'bulwark-01JAAAAAAAAAAAAAAAAAAAAAAA',
      keep: undefined,
    });
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'copy', name: '', keep: 0 }), 'op: must be one of create, list, remove, revert');
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'revert', name: '', keep: 0 }), 'name: is required to revert a snapshot');
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'create', name: 'x/y', keep: 0 }), 'name: must be letters, digits, ".", "_" or "-"');
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'create', name: 'n'.repeat(65), keep: 0 }), 'name: must be at most 64 characters');
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'create', name: '123', keep: 0 }), 'name: must not be only digits (QEMU would take it for a snapshot id)');
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'create', name: 'bulwark-mine', keep: 0 }), 'name: must not start with "bulwark-" (reserved for the names Bulwark makes)');
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'remove', name: 'a', keep: 2 }), 'keep: applies only to create');
    fails(() => parseRequest(StartSnapshotInput, { vm: 'vm1', op: 'create', name: '', keep: 1001 }), 'keep: must be at most 1000');
  });

  it('maps proto3 zeros and absent optionals to absent values', () => {
    assert.deepEqual(parseRequest(StartVerifyInput, { site: '', repair: true, backupId: '', vm: 'vm1', force: false }), {
      site: undefined,
      repair: true,
      backupId: undefined,
      vm: 'vm1',
      force: false,
    });
    assert.equal(parseRequest(StartVerifyInput, { repair: false, skipVerifiedWithinMs: 0 }).skipVerifiedWithinMs, 0, '0 skips none');
    assert.deepEqual(
      parseRequest(StartPruneInput, { site: 'a', vm: '', keepLast: 3, keepHourly: 0, keepDaily: 7, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, dryRun: true }),
      { site: 'a', vm: undefined, keep: { last: 3, daily: 7 }, dryRun: true },
    );
    assert.deepEqual(parseRequest(StartGcInput, { site: '', dryRun: false }), { site: undefined, dryRun: false });
    assert.equal(parseRequest(StartGcInput, { site: '', graceMs: 0, dryRun: false }).graceMs, 0);
    assert.equal(parseRequest(LockBackupInput, { backupId: 'B1', until: '2027-01-01T02:00:00+02:00', site: '' }).until, '2027-01-01T00:00:00.000Z');
    assert.equal(parseRequest(StartRestoreInput, { backupId: 'B1', targetDir: '', verifyOnly: true }).targetDir, undefined);
  });

  it('validates sync requests: mode, rate and concurrency, naming the field', () => {
    assert.deepEqual(parseRequest(StartSyncInput, { fromSite: '', toSite: '', mode: '' }), {
      fromSite: undefined,
      toSite: undefined,
      mode: undefined,
    });
    assert.deepEqual(
      parseRequest(StartSyncInput, { fromSite: 'a', toSite: 'b', mode: 'push', rateBytesPerSecond: 1 << 20, concurrency: 8, _concurrency: 'concurrency' }),
      { fromSite: 'a', toSite: 'b', mode: 'push', rateBytesPerSecond: 1 << 20, concurrency: 8 },
    );
    fails(() => parseRequest(StartSyncInput, { mode: 'both' }), 'mode: must be pull or push');
    fails(() => parseRequest(StartSyncInput, { rateBytesPerSecond: 1000 }), 'rate_bytes_per_second: must be at least 1024 bytes per second');
    fails(() => parseRequest(StartSyncInput, { concurrency: 0 }), 'concurrency: must be at least 1');
    fails(() => parseRequest(StartSyncInput, { concurrency: 33 }), 'concurrency: must be at most 32');
  });

  it('validates repair, alert and status requests: defaults for proto3 zeros, the field named on error', () => {
    assert.deepEqual(parseRequest(ListRepairsInput, { site: '', vm: '', since: '', limit: 0 }), {
      site: undefined,
      vm: undefined,
      since: undefined,
      limit: 100,
    });
    assert.equal(parseRequest(ListRepairsInput, { since: '2027-01-01T02:00:00+02:00', limit: 5 }).since, '2027-01-01T00:00:00.000Z');
    fails(() => parseRequest(ListRepairsInput, { since: 'yesterday' }), 'since: must be an ISO-8601 time with a zone, e.g. 2027-01-01T00:00:00Z');
    fails(() => parseRequest(ListRepairsInput, { site: 'A', limit: 1 }), 'site: must match ^[a-z0-9-]+$');
    fails(() => parseRequest(ListRepairsInput, { vm: '../x', limit: 1 }), 'vm: must be letters, digits, ".", "_" or "-", starting with a letter or digit');
    fails(() => parseRequest(ListRepairsInput, { limit: 10_001 }), 'limit: must be at most 10000');
    assert.deepEqual(parseRequest(ListAlertsInput, { all: false, limit: 0 }), { all: false, limit: 1000 });
    assert.deepEqual(parseRequest(ListAlertsInput, {}), { all: false, limit: 1000 });
    fails(() => parseRequest(ListAlertsInput, { all: 'yes', limit: 0 }), 'all: Invalid input: expected boolean, received string');
    assert.deepEqual(parseRequest(GetStatusInput, {}), { failedWithinMs: 86_400_000 });
    assert.deepEqual(parseRequest(GetStatusInput, { failedWithinMs: 3_600_000 }), { failedWithinMs: 3_600_000 });
    fails(() => parseRequest(GetStatusInput, { failedWithinMs: -1 }), 'failed_within_ms: must not be negative');
  });

  it('takes a storage address, a site or both for a catalog import', () => {
    assert.deepEqual(parseRequest(ImportCatalogInput, { storageAddress: 'st-b:7101', site: '' }), { storageAddress: 'st-b:7101', site: undefined });
    assert.deepEqual(parseRequest(ImportCatalogInput, { storageAddress: '', site: 'b' }), { storageAddress: undefined, site: 'b' });
    fails(() => parseRequest(ImportCatalogInput, { storageAddress: '', site: '' }), 'storage_address: give a storage address or a site (or both)');
    fails(() => parseRequest(ImportCatalogInput, { storageAddress: 'http://x:1', site: '' }), 'storage_address: must be host:port');
    fails(() => parseRequest(ImportCatalogInput, { storageAddress: '', site: 'B' }), 'site: must match ^[a-z0-9-]+$');
  });
});
