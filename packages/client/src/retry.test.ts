import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { backoffDelay, DEFAULT_RETRY, retryPolicy, sleep } from './retry.ts';
import type { RetryOptions } from './types.ts';

const policy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000 };

/** A deterministic stand-in for Math.random over [0, 1). */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('retryPolicy', () => {
  test('defaults', () => {
    assert.deepEqual(retryPolicy(undefined), { maxAttempts: 8, baseDelayMs: 300, maxDelayMs: 20_000 });
    assert.deepEqual(retryPolicy({}), DEFAULT_RETRY);
  });

  test('overrides what is given, ignores undefined fields', () => {
    assert.deepEqual(retryPolicy({ maxAttempts: 3, baseDelayMs: undefined } as unknown as RetryOptions), {
      maxAttempts: 3,
      baseDelayMs: 300,
      maxDelayMs: 20_000,
    });
  });

  test('does not let callers mutate the defaults', () => {
    const p = retryPolicy({});
    p.maxAttempts = 1;
    assert.equal(DEFAULT_RETRY.maxAttempts, 8);
  });
});

describe('backoffDelay', () => {
  test('the upper bound doubles per attempt from the base, capped at maxDelayMs', () => {
    const top = () => 1;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(policy, attempt, top)),
      [100, 200, 400, 800, 1600, 3200, 5000, 5000],
    );
  });

  test('full jitter: the lower bound is 0', () => {
    assert.equal(
      backoffDelay(policy, 5, () => 0),
      0,
    );
  });

  test('random delays stay within [0, min(max, base·2^(attempt-1))] and spread over it', () => {
    const random = seeded(42);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delays = Array.from({ length: 200 }, () => backoffDelay(policy, attempt, random));
      for (const d of delays) {
        assert.ok(Number.isInteger(d) && d >= 0 && d <= cap, `attempt ${attempt}: ${d} not in [0, ${cap}]`);
      }
      assert.ok(Math.min(...delays) < cap / 4, 'jitter reaches low values');
      assert.ok(Math.max(...delays) > (cap * 3) / 4, 'and high ones');
    }
  });

  test('a Retry-After floor is honoured, even above maxDelayMs', () => {
    assert.equal(
      backoffDelay(policy, 1, () => 0, 2000),
      2000,
    );
    assert.equal(
      backoffDelay(policy, 8, () => 0.5, 30_000),
      30_000,
    );
    assert.equal(
      backoffDelay(policy, 8, () => 1, 1000),
      5000,
      'a floor below the jittered delay changes nothing',
    );
  });

  test('attempt numbers below 1 are treated as the first attempt; huge ones stay capped', () => {
    assert.equal(
      backoffDelay(policy, 0, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(policy, 100, () => 1),
      5000,
    );
    assert.equal(
      backoffDelay(policy, 2000, () => 1),
      5000,
    );
  });

  test('uses Math.random by default and stays within bounds', () => {
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(policy, 3);
      assert.ok(d >= 0 && d <= 400);
    }
  });
});

describe('sleep', () => {
  test('resolves, and leaves no listener on the signal', async () => {
    const controller = new AbortController();
    await sleep(1, controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('resolves without a signal', async () => {
    await sleep(0);
  });

  test('rejects at once with the reason when the signal already fired', async () => {
    const reason = new Error('already');
    await assert.rejects(sleep(60_000, AbortSignal.abort(reason)), (e) => e === reason);
  });

  test('aborting while sleeping rejects with the signal reason, long before the delay', async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const sleeping = sleep(3_600_000, controller.signal);
    controller.abort(reason);
    await assert.rejects(sleeping, (e) => e === reason);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('the default abort reason is an AbortError', async () => {
    const controller = new AbortController();
    const sleeping = sleep(3_600_000, controller.signal);
    controller.abort();
    await assert.rejects(sleeping, { name: 'AbortError' });
  });
});
