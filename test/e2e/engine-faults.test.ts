/**
 * The engine through a fault-injecting proxy between it and S3: connection resets, 500/503
 * SlowDown, slow and stalled requests, lost responses, hidden ETags and refusals. Every
 * recoverable fault ends with the right bytes stored; the unrecoverable ones fail at once
 * with an error that says what is wrong.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UploadError } from '@hoist/client/internal/errors';
import { createNodeUpload, type NodeUploadOptions } from '@hoist/client/node';
import type { UploadMode } from '@hoist/protocol/internal/api';
import {
  brokerConfig,
  MiB,
  openMultipartKeys,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  TOKENS,
} from '../helpers/broker.ts';
import {
  combine,
  everyNth,
  type Fault,
  firstN,
  isPutObject,
  isUploadPart,
  type ProxiedRequest,
  type Rule,
  startFaultProxy,
} from '../helpers/fault-proxy.ts';
import { type Hook, tmpDir } from '../helpers/server.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const FAST_RETRY = { maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 50 };

/** Server, proxy in front of it, and a broker that hands the proxy out as the S3 endpoint. */
async function faultyStack(t: Hook, mode: UploadMode = 'sts') {
  const server = await startBrokerBackend(t);
  const proxy = await startFaultProxy(server.url);
  t.after(() => proxy.close());
  const config = brokerConfig(server, mode);
  config.s3.publicEndpoint = proxy.url;
  const broker = await startTestBroker(t, config);
  const dir = await tmpDir(t);
  return { server, proxy, broker, dir };
}

async function fileOf(dir: string, size: number) {
  const data = randomBytes(size);
  const path = join(dir, `f-${size}.bin`);
  await writeFile(path, data);
  return { path, data };
}

/** Uploads a random file of `size` through the proxy with `rule` set; checks the stored bytes. */
async function uploadThrough(
  t: Hook,
  options: { mode?: UploadMode; rule: Rule; size: number; upload?: Partial<NodeUploadOptions> },
) {
  const stack = await faultyStack(t, options.mode);
  stack.proxy.setRule(options.rule);
  const file = await fileOf(stack.dir, options.size);
  const upload = await createNodeUpload(file.path, {
    brokerUrl: stack.broker.url,
    token: TOKENS.alice,
    retry: FAST_RETRY,
    ...options.upload,
  });
  const retries: string[] = [];
  upload.on('retry', ({ error }) => retries.push(error.code));
  const view = await upload.start();
  assert.equal(sha256(await storedBytes(stack.server.client, view.key)), sha256(file.data));
  return { ...stack, view, retries };
}

/** name, rule, and whether the engine must have retried (slowness alone is not a failure). */
const faultsThatHeal: [string, Rule, boolean][] = [
  [
    'connection resets mid-part',
    everyNth(3, { kind: 'reset-request', afterBytes: 1 * MiB }, isUploadPart),
    true,
  ],
  [
    'responses lost after the part arrived',
    firstN(2, isUploadPart, { kind: 'reset-request', afterBytes: 64 * MiB }),
    true,
  ],
  [
    '503 SlowDown with Retry-After',
    everyNth(2, { kind: 'status', status: 503, code: 'SlowDown', retryAfterSeconds: 0 }, isUploadPart),
    true,
  ],
  [
    '500 InternalError',
    firstN(3, isUploadPart, { kind: 'status', status: 500, code: 'InternalError' }),
    true,
  ],
  [
    '400 RequestTimeout',
    firstN(2, isUploadPart, { kind: 'status', status: 400, code: 'RequestTimeout' }),
    true,
  ],
  ['stalled requests', firstN(2, isUploadPart, { kind: 'stall' }), true],
  ['slow responses', everyNth(2, { kind: 'delay-response', ms: 300 }, isUploadPart), false],
  ['slow request bodies', firstN(1, isUploadPart, { kind: 'slow-request', bytesPerSecond: 4 * MiB }), false],
  [
    'all of it at once',
    combine(
      everyNth(5, { kind: 'reset-request', afterBytes: 2 * MiB }, isUploadPart),
      everyNth(4, { kind: 'status', status: 503, code: 'SlowDown' }, isUploadPart),
      firstN(1, isUploadPart, { kind: 'stall' }),
    ),
    true,
  ],
];

describe('engine through faults that heal', () => {
  for (const [name, rule, mustRetry] of faultsThatHeal) {
    test(`${name}: the upload completes with the right bytes`, async (t) => {
      const { proxy, retries } = await uploadThrough(t, {
        rule,
        size: 21 * MiB + 123,
        upload: { concurrency: 3, stallTimeoutMs: 800 },
      });
      assert.ok(proxy.stats.faults > 0, 'the proxy injected faults');
      if (mustRetry) assert.ok(retries.length > 0, 'the engine retried');
    });
  }

  test('presign mode: faults on part URLs heal too', async (t) => {
    const { proxy } = await uploadThrough(t, {
      mode: 'presign',
      rule: combine(
        firstN(1, isUploadPart, { kind: 'status', status: 503, code: 'SlowDown' }),
        everyNth(3, { kind: 'reset-request', afterBytes: MiB }, isUploadPart),
      ),
      size: 16 * MiB,
    });
    assert.ok(proxy.stats.faults > 0, 'the proxy injected faults');
  });

  test('a single-request PUT whose answer was lost completes (If-None-Match retry)', async (t) => {
    const { proxy } = await uploadThrough(t, {
      rule: firstN(1, isPutObject, { kind: 'reset-request', afterBytes: 64 * MiB }),
      size: 3 * MiB,
      upload: { singleRequest: 'put' },
    });
    assert.equal(proxy.stats.faults, 1);
  });

  test('a POST form whose answer was lost is sent again and completes (same bytes, same key)', async (t) => {
    const isForm = (r: ProxiedRequest) => r.method === 'POST' && !r.url.includes('?');
    const { proxy, retries } = await uploadThrough(t, {
      rule: firstN(1, isForm, { kind: 'reset-request', afterBytes: 64 * MiB }),
      size: 3 * MiB,
    });
    assert.equal(proxy.stats.faults, 1);
    assert.equal(proxy.stats.byRoute(isForm).requests, 2);
    assert.deepEqual(retries, ['network']);
  });

  test('only the failed parts are sent again', async (t) => {
    const { proxy } = await uploadThrough(t, {
      rule: firstN(2, isUploadPart, { kind: 'status', status: 500, code: 'InternalError' }),
      size: 20 * MiB,
    });
    const parts = proxy.stats.byRoute(isUploadPart);
    // Four parts of 5 MiB, two of them sent twice.
    assert.equal(parts.requests, 6);
    assert.equal(parts.receivedBytes, 30 * MiB);
  });
});

describe('engine: faults that must not be retried', () => {
  const permanent: [string, Fault, string][] = [
    ['AccessDenied', { kind: 'status', status: 403, code: 'AccessDenied' }, 'access-denied'],
    ['a hidden ETag (bucket CORS)', { kind: 'strip-header', name: 'etag' }, 'etag-not-exposed'],
  ];
  for (const [name, fault, code] of permanent) {
    test(`${name} fails at once with '${code}', keeping the upload resumable`, async (t) => {
      const { server, proxy, broker, dir } = await faultyStack(t);
      proxy.setRule((request) => (isUploadPart(request) ? fault : undefined));
      const file = await fileOf(dir, 12 * MiB);
      const upload = await createNodeUpload(file.path, {
        brokerUrl: broker.url,
        token: TOKENS.alice,
        retry: FAST_RETRY,
        concurrency: 1,
        adaptiveConcurrency: false,
      });
      let retries = 0;
      upload.on('retry', () => retries++);
      await assert.rejects(upload.start(), (error: unknown) => {
        assert.ok(error instanceof UploadError);
        assert.equal(error.code, code);
        if (code === 'etag-not-exposed') assert.match(error.message, /CORS.*ETag/);
        return true;
      });
      assert.equal(retries, 0);
      assert.equal(upload.state, 'failed');
      // Failing is not aborting: the multipart upload is still there to resume.
      assert.equal((await openMultipartKeys(server.client)).length, 1);
    });
  }

  test('retries give up after maxAttempts with the last error', async (t) => {
    const { proxy, broker, dir } = await faultyStack(t);
    proxy.setRule((request) =>
      isUploadPart(request) ? { kind: 'status', status: 503, code: 'SlowDown' } : undefined,
    );
    const file = await fileOf(dir, 6 * MiB);
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
    await assert.rejects(upload.start(), (error: unknown) => {
      assert.ok(error instanceof UploadError);
      assert.equal(error.upstreamCode, 'SlowDown');
      assert.equal(error.retryable, true);
      return true;
    });
    // Two parts, each tried three times at most.
    assert.ok(proxy.stats.byRoute(isUploadPart).requests <= 6);
  });

  test('adaptive concurrency backs off on SlowDown', async (t) => {
    const { proxy, broker, dir } = await faultyStack(t);
    proxy.setRule(firstN(3, isUploadPart, { kind: 'status', status: 503, code: 'SlowDown' }));
    const file = await fileOf(dir, 30 * MiB);
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      concurrency: 8,
      retry: FAST_RETRY,
    });
    const changes: number[] = [];
    upload.on('concurrency', ({ concurrency }) => changes.push(concurrency));
    await upload.start();
    assert.ok(changes.length > 0 && (changes[0] ?? 8) < 8, `concurrency changes: ${changes.join(', ')}`);
  });
});
