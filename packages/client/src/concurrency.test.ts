import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConcurrencyController, type ConcurrencyOptions } from './concurrency.ts';

const PART = 8 * 1024 * 1024;

/** A controller on a hand-moved clock that records every change. */
function controller(options: Partial<ConcurrencyOptions> = {}) {
  let now = 0;
  const changes: { concurrency: number; reason: string }[] = [];
  const c = new ConcurrencyController({
    initial: 2,
    max: 8,
    adaptive: true,
    now: () => now,
    onChange: (concurrency, reason) => changes.push({ concurrency, reason }),
    ...options,
  });
  /** One epoch: as many parts as requests in flight, finished over `ms`, at `rate` bytes/s. */
  const epoch = (bytesPerSecond: number) => {
    const parts = c.current;
    const ms = ((parts * PART) / bytesPerSecond) * 1000;
    for (let i = 0; i < parts; i++) {
      now += ms / parts;
      c.partDone(PART);
    }
  };
  return {
    c,
    changes,
    epoch,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ConcurrencyController', () => {
  test('starts at the initial value', () => {
    assert.equal(controller({ initial: 3 }).c.current, 3);
  });

  test('grows by one per epoch while throughput keeps growing', () => {
    const { c, changes, epoch } = controller();
    epoch(10e6);
    assert.equal(c.current, 3, 'the first measured epoch grows');
    epoch(15e6);
    assert.equal(c.current, 4);
    epoch(20e6);
    assert.equal(c.current, 5);
    assert.deepEqual(
      changes.map((x) => x.concurrency),
      [3, 4, 5],
    );
    assert.ok(changes.every((x) => /growing/.test(x.reason)));
  });

  test('does not count an epoch before as many parts as requests in flight have finished', () => {
    const { c, advance } = controller({ initial: 4 });
    for (let i = 0; i < 3; i++) {
      advance(100);
      c.partDone(PART);
    }
    assert.equal(c.current, 4);
    advance(100);
    c.partDone(PART);
    assert.equal(c.current, 5);
  });

  test('steps back when one more request made it no faster, then waits before growing again', () => {
    const { c, changes, epoch } = controller();
    epoch(10e6); // → 3
    epoch(20e6); // → 4
    epoch(20e6); // not faster: → 3
    assert.equal(c.current, 3);
    assert.match(changes.at(-1)!.reason, /did not help/);
    epoch(40e6); // cooling down
    epoch(80e6);
    epoch(160e6);
    assert.equal(c.current, 3, 'no growth during the cool-down');
    epoch(320e6);
    assert.equal(c.current, 4, 'growth resumes after it');
  });

  test('never grows above max', () => {
    const { c, epoch } = controller({ initial: 2, max: 4 });
    let rate = 1e6;
    for (let i = 0; i < 10; i++) {
      rate *= 2;
      epoch(rate);
    }
    assert.equal(c.current, 4);
  });

  test('halves on backOff (SlowDown, 429, stall) and never goes below 1', () => {
    const { c, changes } = controller({ initial: 8, max: 16 });
    c.backOff('S3 answered SlowDown');
    assert.equal(c.current, 4);
    assert.deepEqual(changes.at(-1), { concurrency: 4, reason: 'S3 answered SlowDown' });
    c.backOff('S3 answered Http429');
    assert.equal(c.current, 2);
    c.backOff('a request stalled');
    assert.equal(c.current, 1);
    c.backOff('a request stalled');
    assert.equal(c.current, 1);
    assert.equal(changes.length, 3, 'no change reported when it stays at 1');
  });

  test('after a back-off it waits some epochs before growing again', () => {
    const { c, epoch } = controller({ initial: 8, max: 16 });
    c.backOff('SlowDown');
    assert.equal(c.current, 4);
    epoch(10e6);
    epoch(20e6);
    epoch(40e6);
    assert.equal(c.current, 4, 'cool-down');
    epoch(80e6);
    assert.equal(c.current, 5);
  });

  test('set() by the application works, clamps at 1, raises max, and adaptation goes on from it', () => {
    const { c, changes, epoch } = controller({ initial: 2, max: 8 });
    c.set(6);
    assert.equal(c.current, 6);
    assert.deepEqual(changes.at(-1), { concurrency: 6, reason: 'set by the application' });
    c.set(0);
    assert.equal(c.current, 1);
    c.set(12);
    assert.equal(c.current, 12, 'an explicit value above max is honoured');
    c.backOff('SlowDown');
    assert.equal(c.current, 6);
    epoch(1e6);
    epoch(2e6);
    epoch(4e6);
    epoch(8e6);
    assert.equal(c.current, 7);
  });

  test('non-adaptive: partDone and backOff change nothing, set() still works', () => {
    const { c, changes, epoch } = controller({ adaptive: false, initial: 4 });
    epoch(1e6);
    epoch(2e6);
    c.backOff('SlowDown');
    assert.equal(c.current, 4);
    assert.equal(changes.length, 0);
    c.set(7);
    assert.equal(c.current, 7);
  });

  test('after a transient SlowDown it probes upward again even when throughput holds steady', () => {
    const { c, epoch } = controller({ initial: 8, max: 16 });
    c.backOff('SlowDown');
    assert.equal(c.current, 4);
    for (let i = 0; i < 20; i++) epoch(40e6);
    assert.ok(c.current > 4, `still at ${c.current} after 20 steady epochs`);
  });

  test('an initial value above max is kept, not clamped', () => {
    const { c } = controller({ initial: 10, max: 4 });
    assert.equal(c.current, 10);
  });
});
