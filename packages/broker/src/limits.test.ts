import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeContentType } from '@hoist/protocol';
import { GiB, MiB, TiB } from '@hoist/protocol/internal/limits';
import { BrokerProblem } from './errors.ts';
import { checkCreateUpload, contentTypeAllowed, createRateLimiter } from './limits.ts';
import type { BrokerLimits } from './types.ts';

const NOW = 1_750_000_000_000;
const HOUR = 3600_000;
const user = { id: 'alice' };
const limits: BrokerLimits = {
  maxObjectSize: 10 * GiB,
  allowedContentTypes: ['video/*', 'application/pdf'],
  maxConcurrentUploadsPerUser: 2,
  maxBytesPerUserPerDay: Infinity,
  maxCredentialMintsPerMinute: 60,
};

/** A registry holding (time, bytes) of uploads, answering like the real ones. */
function fakeRegistry(uploads: { at: number; size: number }[] = [], active = 0) {
  return {
    calls: 0,
    async countActive() {
      return active;
    },
    async bytesSince(_user: string, since: number) {
      this.calls++;
      return uploads.filter((u) => u.at >= since).reduce((sum, u) => sum + u.size, 0);
    },
  };
}

function problem(type: string, check?: (p: BrokerProblem) => void) {
  return (error: unknown) => {
    assert.ok(error instanceof BrokerProblem);
    assert.equal(error.type, type);
    check?.(error);
    return true;
  };
}

test('contentTypeAllowed: exact, type/* and */* forms, case and parameters ignored', () => {
  assert.equal(contentTypeAllowed('video/mp4', ['video/*']), true);
  assert.equal(contentTypeAllowed('Video/MP4; codecs="avc1"', ['video/*']), true);
  assert.equal(contentTypeAllowed('text/plain; charset=utf-8', ['text/plain']), true);
  assert.equal(contentTypeAllowed('text/plain', ['TEXT/Plain; charset=utf-8']), true);
  assert.equal(contentTypeAllowed('application/pdf', ['video/*', 'application/pdf']), true);
  assert.equal(contentTypeAllowed('application/zip', ['*/*']), true);
  assert.equal(contentTypeAllowed('audio/mpeg', ['video/*']), false);
  assert.equal(contentTypeAllowed('videos/mp4', ['video/*']), false);
  assert.equal(contentTypeAllowed('video', ['*/*']), false);
  assert.equal(contentTypeAllowed('video/*', ['video/*']), false);
  assert.equal(contentTypeAllowed('', ['*/*']), false);
  assert.equal(contentTypeAllowed('video/mp4 x', ['*/*']), false);
  assert.equal(normalizeContentType(' Image/PNG ;q=1'), 'image/png');
});

test('checkCreateUpload: too-large over the limit and over S3 maximum', async () => {
  const deps = { limits, registry: fakeRegistry(), now: NOW };
  await checkCreateUpload({ size: 10 * GiB, contentType: 'video/mp4' }, user, deps);
  await assert.rejects(
    checkCreateUpload({ size: 10 * GiB + 1, contentType: 'video/mp4' }, user, deps),
    problem('too-large', (p) => assert.equal(p.status, 413)),
  );
  const huge = { ...deps, limits: { ...limits, maxObjectSize: Number.MAX_SAFE_INTEGER } };
  await assert.rejects(
    checkCreateUpload({ size: 50_000 * GiB + 1, contentType: 'video/mp4' }, user, huge),
    problem('too-large'),
  );
  await assert.rejects(
    checkCreateUpload({ size: -1, contentType: 'video/mp4' }, user, deps),
    problem('invalid-request'),
  );
});

test('checkCreateUpload: unsupported-type for types outside the list', async () => {
  const deps = { limits, registry: fakeRegistry(), now: NOW };
  await assert.rejects(
    checkCreateUpload({ size: 1, contentType: 'application/x-msdownload' }, user, deps),
    problem('unsupported-type', (p) => assert.equal(p.status, 415)),
  );
  await checkCreateUpload({ size: 1, contentType: 'VIDEO/webm' }, user, deps);
});

test('checkCreateUpload: concurrent uploads quota', async () => {
  await checkCreateUpload({ size: 1, contentType: 'video/mp4' }, user, {
    limits,
    registry: fakeRegistry([], 1),
    now: NOW,
  });
  await assert.rejects(
    checkCreateUpload({ size: 1, contentType: 'video/mp4' }, user, {
      limits,
      registry: fakeRegistry([], 2),
      now: NOW,
    }),
    problem('quota-exceeded', (p) => {
      assert.equal(p.status, 429);
      assert.equal(p.retryAfter, 30);
    }),
  );
});

test('checkCreateUpload: daily bytes quota with Retry-After when enough leaves the window', async () => {
  const daily = { ...limits, maxBytesPerUserPerDay: 10 * GiB };
  // 6 GiB uploaded 20 h ago, 3 GiB 2 h ago: 9 GiB used.
  const registry = fakeRegistry([
    { at: NOW - 20 * HOUR, size: 6 * GiB },
    { at: NOW - 2 * HOUR, size: 3 * GiB },
  ]);
  const deps = { limits: daily, registry, now: NOW };
  await checkCreateUpload({ size: 1 * GiB, contentType: 'video/mp4' }, user, deps);
  await assert.rejects(
    checkCreateUpload({ size: 2 * GiB, contentType: 'video/mp4' }, user, deps),
    problem('quota-exceeded', (p) => {
      // The 6 GiB leave the window in 4 h.
      assert.ok(p.retryAfter! >= 4 * 3600 && p.retryAfter! <= 4 * 3600 + 30, String(p.retryAfter));
    }),
  );
  assert.ok(registry.calls <= 14, String(registry.calls)); // 1 + 1 + 12 probes
  // Larger than the whole quota: never fits, no point retrying.
  await assert.rejects(
    checkCreateUpload({ size: 11 * GiB, contentType: 'video/mp4' }, user, deps),
    problem('too-large'),
  );
});

test('checkCreateUpload: the default limits accept 5 TiB of any type', async () => {
  const open = { ...limits, maxObjectSize: 5 * TiB, allowedContentTypes: ['*/*'] };
  await checkCreateUpload({ size: 5 * TiB, contentType: 'application/octet-stream' }, user, {
    limits: open,
    registry: fakeRegistry(),
    now: NOW,
  });
  await assert.rejects(
    checkCreateUpload({ size: 5 * TiB + MiB, contentType: 'application/octet-stream' }, user, {
      limits: open,
      registry: fakeRegistry(),
      now: NOW,
    }),
    problem('too-large'),
  );
});

test('rate limiter: bursts up to perMinute, then rate-limited with Retry-After, refills with time', () => {
  let now = NOW;
  const limiter = createRateLimiter({ perMinute: 3, clock: () => now });
  limiter.take('alice');
  limiter.take('alice');
  limiter.take('alice');
  assert.throws(
    () => limiter.take('alice'),
    problem('rate-limited', (p) => {
      assert.equal(p.status, 429);
      assert.equal(p.retryAfter, 20);
    }),
  );
  limiter.take('bob'); // other users are not affected
  now += 19_000;
  assert.throws(
    () => limiter.take('alice'),
    problem('rate-limited', (p) => assert.equal(p.retryAfter, 1)),
  );
  now += 1_000;
  limiter.take('alice');
  assert.throws(() => limiter.take('alice'), problem('rate-limited'));
});

test('rate limiter: idle users are forgotten and memory is capped', () => {
  let now = NOW;
  const limiter = createRateLimiter({ perMinute: 2, clock: () => now, maxUsers: 100 });
  for (let i = 0; i < 50; i++) limiter.take(`user-${i}`);
  assert.equal(limiter.size, 50);
  now += 60_000;
  limiter.take('fresh');
  assert.equal(limiter.size, 1);
  for (let i = 0; i < 500; i++) limiter.take(`burst-${i}`);
  assert.ok(limiter.size <= 100);
  assert.throws(() => createRateLimiter({ perMinute: 0 }), TypeError);
});

test('rate limiter: a clock going backwards grants nothing', () => {
  let now = NOW;
  const limiter = createRateLimiter({ perMinute: 1, clock: () => now });
  limiter.take('alice');
  now -= 3_600_000;
  assert.throws(() => limiter.take('alice'), problem('rate-limited'));
});
