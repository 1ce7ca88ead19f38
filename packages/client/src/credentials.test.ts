import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { TemporaryCredentials } from '@hoist/protocol/internal/api';
import { CredentialManager } from './credentials.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const MINUTE = 60_000;

function creds(n: number, expiresAt: number): TemporaryCredentials {
  return {
    accessKeyId: `ASIA${n}`,
    secretAccessKey: `secret-${n}`,
    sessionToken: `token-${n}`,
    expiration: new Date(expiresAt).toISOString(),
  };
}

/**
 * A manager on a hand-moved clock whose broker refresh is held open until the test releases it,
 * counting calls. Each refresh issues credentials valid for `lifetime` from the clock's time.
 */
function setup(options: { lifetime?: number; marginMs?: number } = {}) {
  const lifetime = options.lifetime ?? 60 * MINUTE;
  let now = T0;
  let issued = 0;
  const refreshed: TemporaryCredentials[] = [];
  const pending: { resolve: (c: TemporaryCredentials) => void; reject: (e: Error) => void }[] = [];
  const manager = new CredentialManager({
    initial: creds(0, T0 + lifetime),
    marginMs: options.marginMs ?? 5 * MINUTE,
    now: () => now,
    refresh: () => {
      issued++;
      return new Promise<TemporaryCredentials>((resolve, reject) => pending.push({ resolve, reject }));
    },
    onRefresh: (c) => refreshed.push(c),
  });
  return {
    manager,
    refreshed,
    calls: () => issued,
    advance: (ms: number) => {
      now += ms;
    },
    /** Answers the oldest open refresh with credentials numbered `n`. */
    answer: async (n: number) => {
      const next = pending.shift();
      assert.ok(next, 'a refresh is open');
      next.resolve(creds(n, now + lifetime));
      await tick();
    },
    fail: async (error: Error) => {
      const next = pending.shift();
      assert.ok(next, 'a refresh is open');
      next.reject(error);
      await tick();
    },
  };
}

describe('CredentialManager', () => {
  test('hands out the initial credentials while they are good for more than the margin', async () => {
    const s = setup();
    assert.equal((await s.manager.get()).accessKeyId, 'ASIA0');
    s.advance(54 * MINUTE);
    assert.equal((await s.manager.get()).accessKeyId, 'ASIA0', '6 minutes left, margin 5');
    assert.equal(s.calls(), 0);
  });

  test('refreshes once the margin before expiry is reached', async () => {
    const s = setup();
    s.advance(55 * MINUTE);
    const got = s.manager.get();
    assert.equal(s.calls(), 1);
    await s.answer(1);
    assert.equal((await got).accessKeyId, 'ASIA1');
    assert.deepEqual(
      s.refreshed.map((c) => c.accessKeyId),
      ['ASIA1'],
    );
    // The new credentials are good for another hour: no refresh for a while.
    s.advance(30 * MINUTE);
    assert.equal((await s.manager.get()).accessKeyId, 'ASIA1');
    assert.equal(s.calls(), 1);
  });

  test('the margin is capped at half the lifetime of short-lived credentials', async () => {
    const s = setup({ lifetime: 10 * MINUTE, marginMs: 60 * MINUTE });
    s.advance(5 * MINUTE - 1);
    assert.equal((await s.manager.get()).accessKeyId, 'ASIA0', 'not refreshed before half-life');
    assert.equal(s.calls(), 0);
    s.advance(1);
    const got = s.manager.get();
    assert.equal(s.calls(), 1, 'refreshed at half-life, not at once');
    await s.answer(1);
    assert.equal((await got).accessKeyId, 'ASIA1');
  });

  test('credentials already expired at construction are refreshed on the first get()', async () => {
    let calls = 0;
    const manager = new CredentialManager({
      initial: creds(0, T0 - 1000),
      marginMs: 0,
      now: () => T0,
      refresh: async () => {
        calls++;
        return creds(1, T0 + 60 * MINUTE);
      },
    });
    assert.equal((await manager.get()).accessKeyId, 'ASIA1');
    assert.equal(calls, 1);
  });

  test('20 concurrent get() callers share one refresh', async () => {
    const s = setup();
    s.advance(59 * MINUTE);
    const all = Array.from({ length: 20 }, () => s.manager.get());
    assert.equal(s.calls(), 1);
    await s.answer(1);
    const results = await Promise.all(all);
    assert.ok(results.every((c) => c.accessKeyId === 'ASIA1'));
    assert.equal(s.calls(), 1);
    assert.equal(s.refreshed.length, 1);
  });

  test('20 concurrent replace() callers with the same expired credentials share one refresh', async () => {
    const s = setup();
    const used = await s.manager.get();
    const all = Array.from({ length: 20 }, () => s.manager.replace(used));
    assert.equal(s.calls(), 1);
    await s.answer(1);
    const results = await Promise.all(all);
    assert.ok(results.every((c) => c.accessKeyId === 'ASIA1'));
    assert.equal(s.calls(), 1);
  });

  test('get() and replace() callers mixed share one refresh', async () => {
    const s = setup();
    const used = await s.manager.get();
    s.advance(58 * MINUTE);
    const all = Array.from({ length: 20 }, (_, i) => (i % 2 ? s.manager.get() : s.manager.replace(used)));
    await s.answer(1);
    assert.ok((await Promise.all(all)).every((c) => c.accessKeyId === 'ASIA1'));
    assert.equal(s.calls(), 1);
  });

  test('replace(stale) after another caller already refreshed does not refresh again', async () => {
    const s = setup();
    const stale = await s.manager.get();
    const first = s.manager.replace(stale);
    await s.answer(1);
    assert.equal((await first).accessKeyId, 'ASIA1');
    // A request that was sent with the old credentials comes back ExpiredToken afterwards.
    const second = await s.manager.replace(stale);
    assert.equal(second.accessKeyId, 'ASIA1');
    assert.equal(s.calls(), 1);
  });

  test('a failed refresh rejects every waiting caller, and the next call tries again', async () => {
    const s = setup();
    s.advance(56 * MINUTE);
    const settling = Promise.allSettled(Array.from({ length: 5 }, () => s.manager.get()));
    await s.fail(new Error('broker down'));
    const settled = await settling;
    assert.ok(settled.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'broker down'));
    assert.equal(s.calls(), 1);

    const retry = s.manager.get();
    assert.equal(s.calls(), 2, 'not stuck on the failed promise');
    await s.answer(2);
    assert.equal((await retry).accessKeyId, 'ASIA2');
  });

  test('replace(stale) when the current credentials are themselves due for refresh refreshes them', async () => {
    const s = setup({ lifetime: 10 * MINUTE, marginMs: 2 * MINUTE });
    const stale = await s.manager.get();
    const first = s.manager.replace(stale);
    await s.answer(1);
    await first;
    s.advance(9 * MINUTE); // the fresh ones now have 1 minute left, inside the margin
    const got = s.manager.replace(stale);
    assert.equal(s.calls(), 2, 'a refresh was started');
    await s.answer(2);
    assert.equal((await got).accessKeyId, 'ASIA2');
  });
});
