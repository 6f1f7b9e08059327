import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressRate } from './progress-rate.js';

const MIB = 1024 * 1024;

describe('ProgressRate', () => {
  it('knows no rate from one update, then the rate between updates and the ETA at it', () => {
    const rate = new ProgressRate();
    rate.add(0, 'read', 0, 100 * MIB);
    assert.deepEqual(rate.estimate(0), { bytesPerSecond: undefined, etaMs: undefined });
    rate.add(1000, 'read', 10 * MIB, 100 * MIB);
    const e = rate.estimate(1000);
    assert.equal(e.bytesPerSecond, 10 * MIB);
    assert.equal(e.etaMs, 9000);
  });

  it('follows a change of speed within the window, not the average since the start', () => {
    const rate = new ProgressRate(5000);
    // 20 s at 1 MiB/s, then 10 s at 10 MiB/s.
    let done = 0;
    for (let t = 0; t <= 20_000; t += 1000) {
      rate.add(t, 'read', done, 1000 * MIB);
      done += MIB;
    }
    done -= MIB;
    for (let t = 21_000; t <= 30_000; t += 1000) {
      done += 10 * MIB;
      rate.add(t, 'read', done, 1000 * MIB);
    }
    const e = rate.estimate(30_000);
    assert.equal(e.bytesPerSecond, 10 * MIB, 'the last 5 s only');
    const sinceStart = (done * 1000) / 30_000;
    assert.ok(sinceStart < 5 * MIB, 'the average since the start would be far lower');
    assert.equal(e.etaMs, ((1000 * MIB - done) * 1000) / (10 * MIB));
  });

  it('starts a new series on a new phase or when the bytes go backwards', () => {
    const rate = new ProgressRate();
    rate.add(0, 'read', 0, 10 * MIB);
    rate.add(1000, 'read', 5 * MIB, 10 * MIB);
    rate.add(2000, 'commit', 0, 4 * MIB);
    assert.equal(rate.estimate(2000).bytesPerSecond, undefined, 'a new phase has no rate yet');
    rate.add(3000, 'commit', 2 * MIB, 4 * MIB);
    assert.equal(rate.estimate(3000).bytesPerSecond, 2 * MIB);
    rate.add(4000, 'commit', MIB, 4 * MIB);
    assert.equal(rate.estimate(4000).bytesPerSecond, undefined, 'a retried attempt starts again');
  });

  it('lets the rate fall while nothing moves for longer than a few updates, and says 0 s left when done', () => {
    const rate = new ProgressRate(10_000, 3000);
    rate.add(0, 'read', 0, 100 * MIB);
    rate.add(1000, 'read', 10 * MIB, 100 * MIB);
    assert.equal(rate.estimate(2500).bytesPerSecond, 10 * MIB, 'between regular updates: unchanged');
    assert.equal(rate.estimate(10_000).bytesPerSecond, MIB, 'stalled: 10 MiB over 10 s');
    rate.add(11_000, 'read', 100 * MIB, 100 * MIB);
    assert.equal(rate.estimate(11_000).etaMs, 0);
  });

  it('ignores a repeated update with the same bytes', () => {
    const rate = new ProgressRate();
    rate.add(0, 'read', 0, 10 * MIB);
    rate.add(1000, 'read', MIB, 10 * MIB);
    rate.add(1500, 'read', MIB, 10 * MIB);
    assert.equal(rate.estimate(1500).bytesPerSecond, MIB);
  });
});
