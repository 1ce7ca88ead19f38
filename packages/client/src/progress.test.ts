import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProgressTracker } from './progress.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ProgressTracker', () => {
  test('starts empty: nothing confirmed, no speed, no ETA', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(1000, clock.now);
    assert.deepEqual(progress.snapshot(), {
      totalBytes: 1000,
      confirmedBytes: 0,
      inFlightBytes: 0,
      fraction: 0,
      bytesPerSecond: 0,
      etaSeconds: null,
    });
  });

  test('the fraction never goes backwards when a failed request drops its in-flight bytes', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(1000, clock.now);
    progress.inFlight(1, 300);
    progress.inFlight(2, 200);
    const before = progress.snapshot();
    assert.equal(before.fraction, 0.5);
    assert.equal(before.inFlightBytes, 500);

    progress.dropped(1);
    const after = progress.snapshot();
    assert.equal(after.inFlightBytes, 200, 'in-flight bytes may drop');
    assert.equal(after.confirmedBytes, 0);
    assert.equal(after.fraction, 0.5, 'the shown fraction holds its high-water mark');

    // The part is resent from zero: still no step back, and the fraction moves on once past the mark.
    progress.inFlight(1, 0);
    assert.equal(progress.snapshot().fraction, 0.5);
    progress.inFlight(1, 300);
    progress.inFlight(2, 300);
    assert.equal(progress.snapshot().fraction, 0.6);
  });

  test('confirmedBytes and fraction only grow through a sequence of sends, failures and confirmations', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(10_000, clock.now);
    const steps: ((p: ProgressTracker) => void)[] = [
      (p) => p.inFlight(1, 1000),
      (p) => p.inFlight(2, 2500),
      (p) => p.dropped(2),
      (p) => p.confirmed(1, 2500),
      (p) => p.inFlight(2, 100),
      (p) => p.inFlight(3, 2500),
      (p) => p.dropped(3),
      (p) => p.dropped(2),
      (p) => p.confirmed(3, 2500),
      (p) => p.confirmed(2, 2500),
      (p) => p.inFlight(4, 2500),
      (p) => p.confirmed(4, 2500),
    ];
    let last = progress.snapshot();
    for (const step of steps) {
      clock.advance(100);
      step(progress);
      const now = progress.snapshot();
      assert.ok(now.confirmedBytes >= last.confirmedBytes, 'confirmedBytes never decreases');
      assert.ok(now.fraction >= last.fraction, 'fraction never decreases');
      assert.ok(now.fraction <= 1);
      last = now;
    }
    assert.equal(last.confirmedBytes, 10_000);
    assert.equal(last.fraction, 1);
    assert.equal(last.inFlightBytes, 0);
  });

  test('a confirmed part stops counting as in flight; confirmed bytes never exceed the total', () => {
    const progress = new ProgressTracker(100, manualClock().now);
    progress.inFlight(1, 60);
    progress.confirmed(1, 60);
    assert.equal(progress.snapshot().inFlightBytes, 0);
    assert.equal(progress.confirmedBytes, 60);
    progress.confirmed(2, 60);
    assert.equal(progress.confirmedBytes, 100);
    assert.equal(progress.snapshot().fraction, 1);
  });

  test('an empty file is at 0 until done, then 1 with an ETA of 0', () => {
    const progress = new ProgressTracker(0, manualClock().now);
    assert.equal(progress.snapshot().fraction, 0);
    const done = progress.snapshot(true);
    assert.equal(done.fraction, 1);
    assert.equal(done.etaSeconds, 0);
  });

  test('speed is measured from bytes handed to the network; ETA follows from it', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(10_000, clock.now);
    progress.inFlight(1, 500);
    assert.equal(progress.snapshot().bytesPerSecond, 0, 'too early to measure');
    assert.equal(progress.snapshot().etaSeconds, null);

    clock.advance(1000);
    progress.inFlight(1, 1000); // 1000 bytes in the first second
    const measured = progress.snapshot();
    assert.equal(measured.bytesPerSecond, 1000);
    assert.equal(measured.etaSeconds, 9, '9000 bytes left at 1000 B/s');
  });

  test('speed is smoothed: one fast sample moves it part of the way, steady samples converge', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(1e12, clock.now);
    let sent = 0;
    const second = (bytes: number) => {
      clock.advance(1000);
      sent += bytes;
      progress.inFlight(1, sent);
      return progress.snapshot().bytesPerSecond;
    };
    assert.equal(second(1000), 1000);
    const spike = second(11_000);
    assert.ok(spike > 1000 && spike < 11_000, `a spike to 11000 B/s shows as ${spike}`);
    let rate = spike;
    for (let i = 0; i < 60; i++) rate = second(1000);
    assert.ok(Math.abs(rate - 1000) <= 5, `steady 1000 B/s converges, got ${rate}`);
  });

  test('a resent part counts again in the speed (it is real work) but not in the fraction', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(1000, clock.now);
    progress.inFlight(1, 400);
    progress.dropped(1);
    clock.advance(1000);
    progress.inFlight(1, 400);
    const snap = progress.snapshot();
    assert.equal(snap.bytesPerSecond, 800);
    assert.equal(snap.fraction, 0.4);
  });

  test('restartClock: time spent paused is not counted as slowness', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(1e9, clock.now);
    clock.advance(1000);
    progress.inFlight(1, 1000);
    assert.equal(progress.snapshot().bytesPerSecond, 1000);

    clock.advance(3_600_000); // an hour paused
    progress.restartClock();
    clock.advance(1000);
    progress.inFlight(2, 1000);
    assert.equal(progress.snapshot().bytesPerSecond, 1000);
  });

  test('done: fraction 1 and ETA 0 whatever was measured', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(1000, clock.now);
    progress.inFlight(1, 10);
    const done = progress.snapshot(true);
    assert.equal(done.fraction, 1);
    assert.equal(done.etaSeconds, 0);
    assert.equal(progress.snapshot().fraction, 1, 'and it never goes back below 1');
  });
});

describe('ProgressTracker while nothing moves', () => {
  test('a stall shows as falling speed: bytesPerSecond does not stay at the last rate forever', () => {
    const clock = manualClock();
    const progress = new ProgressTracker(1e9, clock.now);
    clock.advance(1000);
    progress.inFlight(1, 1_000_000);
    assert.equal(progress.snapshot().bytesPerSecond, 1_000_000);
    clock.advance(60_000); // a minute without a single byte
    const stalled = progress.snapshot();
    assert.ok(stalled.bytesPerSecond < 1_000_000, `still shows ${stalled.bytesPerSecond} B/s`);
  });
});
