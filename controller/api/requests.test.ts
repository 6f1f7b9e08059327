import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../shared/errors.js';
import { ListJobsInput, StartBackupInput, StartRestoreInput, StartSyncInput, parseRequest } from './requests.js';

const fails = (fn: () => unknown, message: string) =>
  assert.throws(fn, (err: unknown) => err instanceof ValidationError && err.message === message);

describe('controller request validation', () => {
  it('names the proto field and the rule', () => {
    fails(() => parseRequest(StartBackupInput, { vm: 'vm1', mode: 'fast' }), 'mode: must be one of auto, full, incremental');
    fails(() => parseRequest(StartRestoreInput, { backupId: 'B1', targetDir: 'rel/dir', site: '', worker: '' }), 'target_dir: must be an absolute path');
    fails(() => parseRequest(StartSyncInput, { fromSite: 'Site A', toSite: '' }), 'from_site: must match ^[a-z0-9-]+$');
    fails(() => parseRequest(ListJobsInput, { limit: 5, state: 'done' }), 'state: must be one of queued, running, succeeded, failed');
  });

  it('treats empty proto strings as absent and fills defaults', () => {
    assert.deepEqual(parseRequest(StartBackupInput, { vm: 'vm1', mode: '' }), { vm: 'vm1', mode: 'auto' });
    assert.deepEqual(parseRequest(StartRestoreInput, { backupId: 'B1', targetDir: '/x/../y', site: '', worker: '' }), {
      backupId: 'B1',
      targetDir: '/y',
      site: undefined,
      worker: undefined,
    });
    assert.deepEqual(parseRequest(ListJobsInput, { limit: 0, state: '' }), { limit: 50, state: undefined });
  });
});
