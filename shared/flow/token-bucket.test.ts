import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock, systemClock } from '../clock.js';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  const manual = () => {
    const clock = new ManualClock();
    const slept: number[] = [];
    const fakeSleep = (ms: number) => {
      slept.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    };
    return { clock, slept, fakeSleep };
  };

  it('lets a burst through at once, then paces at the rate', async () => {
    const { clock, fakeSleep } = manual();
    const bucket = new TokenBucket({ rateBytesPerSecond: 1000, burstBytes: 500 }, clock, fakeSleep);
    const start = clock.nowMs();
    await bucket.take(500);
    assert.equal(clock.nowMs() - start, 0, 'the burst needs no wait');
    for (let i = 0; i < 10; i++) await bucket.take(100);
    assert.equal(clock.nowMs() - start, 1000, '1,000 more bytes at 1,000 B/s take one second');
  });

  it('never lets more through than burst + rate × elapsed, whatever the take sizes', async () => {
    const { clock, fakeSleep } = manual();
    const bucket = new TokenBucket({ rateBytesPerSecond: 10_000, burstBytes: 4096 }, clock, fakeSleep);
    const start = clock.nowMs();
    let passed = 0;
    for (const size of [1, 4096, 100_000, 7, 65_536, 3000, 1_048_576, 12]) {
      await bucket.take(size);
      passed += size;
      const elapsed = (clock.nowMs() - start) / 1000;
      assert.ok(passed <= 4096 + 10_000 * elapsed + 1, `${passed} bytes after ${elapsed} s`);
    }
  });

  it('serves concurrent takes in order', async () => {
    const { clock, fakeSleep } = manual();
    const bucket = new TokenBucket({ rateBytesPerSecond: 100, burstBytes: 100 }, clock, fakeSleep);
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => bucket.take(100).then(() => order.push(n))));
    assert.deepEqual(order, [1, 2, 3, 4]);
    assert.equal(clock.nowMs() - new ManualClock().nowMs(), 3000);
  });

  it('refuses a rate that is not positive, naming it', () => {
    const { clock, fakeSleep } = manual();
    assert.throws(() => new TokenBucket({ rateBytesPerSecond: 0 }, clock, fakeSleep), /rateBytesPerSecond must be a positive number/);
  });

  it('on the real clock, a limited transfer is never faster than the limit allows', async () => {
    const bucket = new TokenBucket({ rateBytesPerSecond: 200_000, burstBytes: 20_000 }, systemClock, (ms) => sleep(ms));
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await bucket.take(10_000);
    const seconds = (performance.now() - t0) / 1000;
    // 200,000 bytes at 200 kB/s with a 20 kB burst need at least 0.9 s.
    assert.ok(seconds >= 0.9 - 0.005, `${seconds} s`);
  });
});
