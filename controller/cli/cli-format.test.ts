/** The CLI's parsers and formatters for repairs, alerts, replication and status. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseByteRate, parseConcurrency, parseSince } from './option-parsers.js';
import { affectedTexts, formatDuration, objectText } from './output.js';

const now = Date.UTC(2026, 0, 10, 12, 0, 0);

describe('CLI parsers and formatters', () => {
  it('--since takes a duration back from now, a date or an ISO time', () => {
    assert.equal(parseSince('24h', now), '2026-01-09T12:00:00.000Z');
    assert.equal(parseSince('7d', now), '2026-01-03T12:00:00.000Z');
    assert.equal(parseSince('2026-01-02', now), '2026-01-02T00:00:00.000Z');
    assert.equal(parseSince('2026-01-02T03:00:00+01:00', now), '2026-01-02T02:00:00.000Z');
    assert.throws(() => parseSince('yesterday', now), InvalidArgumentError);
  });

  it('--rate takes bytes per second with binary units, at least 1 KiB; --concurrency 1 to 32', () => {
    assert.equal(parseByteRate('1048576'), 1 << 20);
    assert.equal(parseByteRate('10MiB'), 10 << 20);
    assert.equal(parseByteRate('512KiB/s'), 512 << 10);
    assert.equal(parseByteRate('1.5m'), 1.5 * (1 << 20));
    assert.throws(() => parseByteRate('100'), /at least 1024/);
    assert.throws(() => parseByteRate('10 MB/s'), /like 1048576, 512KiB/);
    assert.equal(parseConcurrency('4'), 4);
    assert.throws(() => parseConcurrency('33'), /at most 32/);
  });

  it('formats durations with their two largest units', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(450), '450ms');
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(192_000), '3m 12s');
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000 + 5000), '2d 3h');
  });

  it('names damaged objects and groups affected ranges per VM disk', () => {
    assert.equal(objectText({ object: 'chunk', digest: 'ab'.repeat(32), backupId: '', disk: '' }), `chunk ${'ab'.repeat(8)}…`);
    assert.equal(objectText({ object: 'index', digest: '', backupId: 'B1', disk: 'disk0' }), 'index B1/disk0');
    const r = (backupId: string, disk: string, offsetBytes: number) => ({ backupId, vm: 'vm1', disk, offsetBytes, lengthBytes: 1024 });
    assert.deepEqual(affectedTexts([r('B1', 'disk0', 0), r('B2', 'disk0', 0), r('B2', 'disk0', 4096), r('B1', 'disk1', 2048)]), [
      'vm1/disk0 bytes 0-1023, 4096-5119 (2 backups)',
      'vm1/disk1 bytes 2048-3071 (1 backup)',
    ]);
    const many = [0, 1, 2, 3, 4].map((i) => r('B1', 'disk0', i * 1024));
    assert.deepEqual(affectedTexts(many), ['vm1/disk0 bytes 0-1023, 1024-2047, 2048-3071 +2 more (1 backup)']);
  });
});
