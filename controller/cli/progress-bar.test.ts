import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../shared/errors.js';
import { barLine, type BarState } from './progress-bar.js';
import { resolveProgressView } from './progress-mode.js';

const MIB = 1024 * 1024;
const running: BarState = {
  what: 'backup vm1',
  state: 'running',
  phase: 'read',
  doneBytes: 266 * MIB,
  totalBytes: 512 * MIB,
  bytesPerSecond: 88.1 * MIB,
  etaMs: 2800,
};

describe('barLine', () => {
  it('shows what, the phase, a bar, bytes done of total, the rate and the ETA within the width', () => {
    const line = barLine(running, 80);
    assert.match(line, /^backup vm1 read \[█+░+\] {2}51% 266\.0 MiB\/512\.0 MiB {2}88\.1 MiB\/s {2}ETA 3s$/);
    assert.ok(line.length <= 80, line);
    assert.equal(barLine(running, 40), 'backup vm1 read  51% 266.0 MiB/512.0 MiB  88.1 MiB/s  ETA 3s', 'no room: no bar');
  });

  it('says so while the rate is unknown, and shows the final state instead of the ETA', () => {
    assert.match(barLine({ ...running, bytesPerSecond: undefined, etaMs: undefined }, 100), /-- B\/s {2}ETA --$/);
    assert.match(barLine({ ...running, state: 'succeeded', doneBytes: 512 * MIB, etaMs: 0 }, 100), /\[█+\] 100% 512\.0 MiB\/512\.0 MiB {2}88\.1 MiB\/s {2}succeeded$/);
  });

  it('shows the state alone for a job that reports no bytes', () => {
    assert.equal(barLine({ ...running, phase: '', totalBytes: 0, doneBytes: 0, state: 'queued' }, 80), 'backup vm1 queued');
    assert.equal(barLine({ ...running, what: 'prune', phase: '', totalBytes: 0, doneBytes: 0, state: 'failed' }, 80), 'prune failed');
    assert.match(barLine({ ...running, state: 'cancelled' }, 100), / {2}cancelled$/);
  });
});

describe('resolveProgressView', () => {
  const env = {};
  it('auto: a bar when stderr is a terminal, plain lines otherwise; --json: nothing', () => {
    assert.equal(resolveProgressView({ env, json: false, stderrIsTty: true }), 'bar');
    assert.equal(resolveProgressView({ env, json: false, stderrIsTty: false }), 'plain');
    assert.equal(resolveProgressView({ env, json: true, stderrIsTty: true }), 'none');
    assert.equal(resolveProgressView({ flag: 'bar', env, json: true, stderrIsTty: true }), 'none');
  });

  it('--progress wins over BULWARK_PROGRESS, which wins over auto; a bad value names the variable', () => {
    assert.equal(resolveProgressView({ env: { BULWARK_PROGRESS: 'bar' }, json: false, stderrIsTty: false }), 'bar');
    assert.equal(resolveProgressView({ flag: 'none', env: { BULWARK_PROGRESS: 'bar' }, json: false, stderrIsTty: true }), 'none');
    assert.equal(resolveProgressView({ env: { BULWARK_PROGRESS: '' }, json: false, stderrIsTty: true }), 'bar');
    assert.throws(() => resolveProgressView({ env: { BULWARK_PROGRESS: 'fancy' }, json: false, stderrIsTty: true }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /BULWARK_PROGRESS: must be one of auto, bar, plain, none/);
      return true;
    });
  });
});
