import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import { PROBLEM_BASE } from '@hoist/protocol/internal/problems';
import {
  brokerConfig,
  startBrokerBackend,
  startTestBroker,
  type TestBroker,
  TOKENS,
} from '../../../test/helpers/broker.ts';
import { suiteCleanup } from '../../../test/helpers/s3.ts';
import type { Hook } from '../../../test/helpers/server.ts';
import { BrokerClient, type BrokerClientOptions } from './broker-client.ts';
import { UploadError } from './errors.ts';
import { parseRetryAfter } from './problem.ts';
import type { TokenProvider } from './types.ts';

const MiB = 1024 * 1024;
const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

interface RetryCall {
  operation: string;
  attempt: number;
  delayMs: number;
  error: UploadError;
}

function client(
  baseUrl: string,
  token: TokenProvider | undefined,
  options: Partial<BrokerClientOptions> = {},
) {
  const retries: RetryCall[] = [];
  const broker = new BrokerClient({
    baseUrl,
    token,
    retry: FAST_RETRY,
    timeoutMs: 10_000,
    onRetry: (operation, attempt, delayMs, error) => retries.push({ operation, attempt, delayMs, error }),
    ...options,
  });
  return { broker, retries };
}

/** Asserts that `promise` rejects with an UploadError of `code`; returns it. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<UploadError> {
  let caught: unknown;
  await assert.rejects(promise, (error) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof UploadError, `an UploadError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe('BrokerClient against a real broker', () => {
  const t = suiteCleanup();
  let broker: TestBroker;

  before(async () => {
    const server = await startBrokerBackend(t);
    broker = await startTestBroker(
      t,
      brokerConfig(server, 'sts', {
        limits: {
          maxObjectSize: '64MiB',
          allowedContentTypes: ['video/*', 'application/octet-stream'],
          maxConcurrentUploadsPerUser: 100,
          maxCredentialMintsPerMinute: 1000,
        },
      }),
    );
  });

  const alice = () => client(broker.url, TOKENS.alice);
  const request = { filename: 'clip one.mp4', size: 12 * MiB, contentType: 'video/mp4' };

  test('create, get, list, credentials and abort', async () => {
    const { broker: api, retries } = alice();
    const created = await api.create(request);
    assert.equal(created.mode, 'sts');
    assert.ok(created.uploadId);
    assert.equal(created.partSize, 5 * MiB);
    assert.equal(created.partCount, 3);
    assert.ok(created.credentials?.sessionToken);
    assert.match(created.key, new RegExp(`/alice/${created.id}/`));

    const view = await api.get(created.id);
    assert.equal(view.id, created.id);
    assert.equal(view.status, 'created');
    assert.equal(view.size, 12 * MiB);
    assert.deepEqual(view.parts, []);

    const listed = await api.list();
    assert.ok(listed.uploads.some((u) => u.id === created.id));

    const fresh = await api.credentials(created.id);
    assert.ok(fresh.credentials.accessKeyId);
    assert.ok(Number.isFinite(Date.parse(fresh.credentials.expiration)));

    const aborted = (await api.abort(created.id)) as { status: string };
    assert.equal(aborted.status, 'aborted');
    assert.equal((await api.get(created.id)).status, 'aborted');
    assert.equal(retries.length, 0);
  });

  test('list pages through a cursor', async () => {
    const { broker: api } = alice();
    for (let i = 0; i < 3; i++) await api.create({ ...request, filename: `page ${i}.mp4` });
    const first = await api.list();
    assert.ok(first.uploads.length >= 3);
    if (first.nextCursor) {
      const next = await api.list(first.nextCursor);
      const ids = new Set(first.uploads.map((u) => u.id));
      assert.ok(
        next.uploads.every((u) => !ids.has(u.id)),
        'a page repeats nothing',
      );
    }
  });

  test('a wrong token → unauthorized, not retried', async () => {
    const { broker: api, retries } = client(broker.url, 'not-a-valid-token');
    const error = await rejectsWith(api.create(request), 'unauthorized');
    assert.equal(error.status, 401);
    assert.equal(error.upstreamCode, 'unauthorized');
    assert.equal(retries.length, 0);
  });

  test('no token → unauthorized', async () => {
    const { broker: api } = client(broker.url, undefined);
    await rejectsWith(api.list(), 'unauthorized');
  });

  test('a token function is asked again once after a 401, and the fresh token is used', async () => {
    const tokens = ['expired-token', TOKENS.alice];
    let calls = 0;
    const { broker: api, retries } = client(broker.url, () => tokens[calls++] ?? 'unused');
    const created = await api.create(request);
    assert.ok(created.id);
    assert.equal(calls, 2);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.delayMs, 0);
    assert.equal(retries[0]!.error.code, 'unauthorized');
  });

  test('a token function that keeps failing: exactly one retry, then unauthorized', async () => {
    let calls = 0;
    const { broker: api, retries } = client(broker.url, async () => {
      calls++;
      return 'still-wrong';
    });
    await rejectsWith(api.get('anything'), 'unauthorized');
    assert.equal(calls, 2);
    assert.equal(retries.length, 1);
  });

  test('over the size limit → too-large', async () => {
    const { broker: api, retries } = alice();
    const error = await rejectsWith(api.create({ ...request, size: 65 * MiB }), 'too-large');
    assert.equal(error.status, 413);
    assert.equal(error.retryable, false);
    assert.equal(retries.length, 0);
  });

  test('a type the broker does not accept → unsupported-type', async () => {
    const { broker: api } = alice();
    const error = await rejectsWith(
      api.create({ ...request, filename: 'notes.txt', contentType: 'text/plain' }),
      'unsupported-type',
    );
    assert.equal(error.status, 415);
  });

  test("another user's upload → upload-gone for get, credentials and abort", async () => {
    const created = await alice().broker.create(request);
    const { broker: bob } = client(broker.url, TOKENS.bob);
    await rejectsWith(bob.get(created.id), 'upload-gone');
    await rejectsWith(bob.credentials(created.id), 'upload-gone');
    await rejectsWith(bob.abort(created.id), 'upload-gone');
    assert.equal((await alice().broker.get(created.id)).status, 'created', "alice's upload is untouched");
  });

  test('an unknown id → upload-gone', async () => {
    const { broker: api } = alice();
    await rejectsWith(api.get('01J00000000000000000000000'), 'upload-gone');
  });

  test('an invalid request (400) is not retried and names the field', async () => {
    const { broker: api, retries } = alice();
    const error = await rejectsWith(api.create({ ...request, filename: '' }), 'broker-error');
    assert.equal(error.status, 400);
    assert.equal(error.upstreamCode, 'invalid-request');
    assert.match(error.message, /filename/);
    assert.equal(retries.length, 0);
  });

  test('a preferred partSize is passed on to the broker', async () => {
    const { broker: api } = alice();
    const created = await api.create({ ...request, size: 20 * MiB, partSize: 8 * MiB });
    assert.equal(created.partSize, 8 * MiB);
    assert.equal(created.partCount, 3);
  });
});

// ---- retries, against a small scripted HTTP server (the broker's HTTP contract) ----------------

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

interface Scripted {
  url: string;
  requests: {
    method: string;
    url: string;
    authorization: string | undefined;
    idempotencyKey: string | undefined;
    body: string;
  }[];
}

/** A node:http server answering request n with `handler(req, res, n)`; closed after the test. */
async function scripted(t: Hook, handler: Handler): Promise<Scripted> {
  const requests: Scripted['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push({
      method: req.method!,
      url: req.url!,
      authorization: req.headers.authorization,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      body,
    });
    handler(req, res, requests.length);
  });
  server.keepAliveTimeout = 1;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  server.unref();
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/hoist`, requests };
}

function problem(
  res: ServerResponse,
  status: number,
  type: string,
  extra: Record<string, unknown> = {},
  headers = {},
) {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify({ type: `${PROBLEM_BASE}${type}`, title: type, status, ...extra }));
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const VIEW = { id: 'u1', status: 'created' };

describe('BrokerClient retries', () => {
  test('503 twice, then 200: two retries with backoff, then the answer', async (t) => {
    const server = await scripted(t, (_req, res, n) =>
      n <= 2 ? problem(res, 503, 'internal', { detail: 'try later' }) : json(res, 200, VIEW),
    );
    const { broker: api, retries } = client(server.url, 'tok');
    assert.deepEqual(await api.get('u1'), VIEW);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(
      retries.map((r) => [r.operation, r.attempt, r.error.code, r.error.status]),
      [
        ['get upload', 1, 'broker-error', 503],
        ['get upload', 2, 'broker-error', 503],
      ],
    );
    for (const r of retries) assert.ok(r.delayMs >= 0 && r.delayMs <= FAST_RETRY.maxDelayMs);
    assert.ok(
      server.requests.every((r) => r.authorization === 'Bearer tok' && r.url === '/api/hoist/uploads/u1'),
    );
  });

  test('a request body is sent again, whole, on each attempt', async (t) => {
    const server = await scripted(t, (_req, res, n) =>
      n === 1 ? problem(res, 502, 'upstream-error') : json(res, 201, { id: 'u2' }),
    );
    const { broker: api } = client(server.url, 'tok');
    await api.create({ filename: 'a.mp4', size: 1, contentType: 'video/mp4' });
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0]!.body, server.requests[1]!.body);
    assert.deepEqual(JSON.parse(server.requests[1]!.body), {
      filename: 'a.mp4',
      size: 1,
      contentType: 'video/mp4',
    });
  });

  test('a create sends its Idempotency-Key, the same on every attempt; none without one', async (t) => {
    const server = await scripted(t, (_req, res, n) =>
      n <= 2 ? problem(res, 503, 'internal') : json(res, 201, { id: 'u3' }),
    );
    const { broker: api } = client(server.url, 'tok');
    const request = { filename: 'a.mp4', size: 1, contentType: 'video/mp4' };
    assert.deepEqual(await api.create(request, undefined, 'key-1'), { id: 'u3' });
    await api.create(request);
    await api.get('u3');
    assert.deepEqual(
      server.requests.map((r) => r.idempotencyKey),
      ['key-1', 'key-1', 'key-1', undefined, undefined],
    );
  });

  test('5xx every time: maxAttempts requests, then the last error', async (t) => {
    const server = await scripted(t, (_req, res) => problem(res, 500, 'internal'));
    const { broker: api, retries } = client(server.url, 'tok');
    const error = await rejectsWith(api.get('u1'), 'broker-error');
    assert.equal(error.status, 500);
    assert.equal(error.retryable, true);
    assert.equal(server.requests.length, FAST_RETRY.maxAttempts);
    assert.deepEqual(
      retries.map((r) => r.attempt),
      [1, 2, 3],
    );
  });

  test('429 rate-limited with Retry-After: retried no sooner than the server asked', async (t) => {
    const server = await scripted(t, (_req, res, n) =>
      n === 1
        ? problem(res, 429, 'rate-limited', { retryAfter: 1 }, { 'retry-after': '1' })
        : json(res, 200, VIEW),
    );
    const { broker: api, retries } = client(server.url, 'tok');
    assert.deepEqual(await api.get('u1'), VIEW);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.error.code, 'quota-exceeded');
    assert.equal(retries[0]!.error.retryAfterSeconds, 1);
    assert.ok(retries[0]!.delayMs >= 1000, `delay ${retries[0]!.delayMs} honours Retry-After`);
  });

  test('Retry-After in the problem body is honoured when the header is missing', async (t) => {
    const server = await scripted(t, (_req, res, n) =>
      n === 1 ? problem(res, 429, 'rate-limited', { retryAfter: 0 }) : json(res, 200, VIEW),
    );
    const { broker: api, retries } = client(server.url, 'tok');
    await api.get('u1');
    assert.equal(retries[0]!.error.retryAfterSeconds, 0);
  });

  test('Retry-After as an HTTP-date is read as the seconds until then', () => {
    const now = Date.parse('Sun, 22 Nov 2026 20:00:00 GMT');
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 20:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 19:59:00 GMT', now), 0);
    assert.equal(parseRetryAfter('120', now), 120);
    assert.equal(parseRetryAfter(7, now), 7);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  test('429 quota-exceeded (a daily quota) is not retried', async (t) => {
    const server = await scripted(t, (_req, res) =>
      problem(res, 429, 'quota-exceeded', { retryAfter: 3600 }, { 'retry-after': '3600' }),
    );
    const { broker: api, retries } = client(server.url, 'tok');
    const error = await rejectsWith(
      api.create({ filename: 'a', size: 1, contentType: 'video/mp4' }),
      'quota-exceeded',
    );
    assert.equal(error.retryAfterSeconds, 3600);
    assert.equal(server.requests.length, 1);
    assert.equal(retries.length, 0);
  });

  test('400 invalid-request is not retried', async (t) => {
    const server = await scripted(t, (_req, res) =>
      problem(res, 400, 'invalid-request', { errors: [{ path: 'size', message: 'must be a number' }] }),
    );
    const { broker: api, retries } = client(server.url, 'tok');
    const error = await rejectsWith(
      api.create({ filename: 'a', size: 1, contentType: 'video/mp4' }),
      'broker-error',
    );
    assert.match(error.message, /size: must be a number/);
    assert.equal(server.requests.length, 1);
    assert.equal(retries.length, 0);
  });

  test('a non-JSON 502 from a proxy is retried; its status survives', async (t) => {
    const server = await scripted(t, (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad Gateway</body></html>');
    });
    const { broker: api } = client(server.url, 'tok');
    const error = await rejectsWith(api.get('u1'), 'broker-error');
    assert.equal(error.status, 502);
    assert.equal(server.requests.length, FAST_RETRY.maxAttempts);
  });

  test('a 502 the store refused for good (retryable: false) fails at once, with its detail', async (t) => {
    const detail = 'GetFederationToken failed: the store answered 405 MethodNotAllowed';
    const server = await scripted(t, (_req, res) =>
      problem(res, 502, 'upstream-error', { detail, retryable: false }),
    );
    const { broker: api, retries } = client(server.url, 'tok');
    const error = await rejectsWith(
      api.create({ filename: 'a', size: 1, contentType: 'video/mp4' }),
      'broker-error',
    );
    assert.match(error.message, /405 MethodNotAllowed/);
    assert.equal(error.retryable, false);
    assert.equal(server.requests.length, 1);
    assert.equal(retries.length, 0);
  });

  test('a 200 that is not JSON → broker-error, not retried', async (t) => {
    const server = await scripted(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login page</html>');
    });
    const { broker: api } = client(server.url, 'tok');
    await rejectsWith(api.get('u1'), 'broker-error');
    assert.equal(server.requests.length, 1);
  });

  test('connection refused → network after maxAttempts', async () => {
    // A port that was just listening and is now closed.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const { broker: api, retries } = client(`http://127.0.0.1:${port}`, 'tok');
    const error = await rejectsWith(api.list(), 'network');
    assert.equal(error.retryable, true);
    assert.ok(error.cause, 'the network failure is kept as the cause');
    assert.equal(retries.length, FAST_RETRY.maxAttempts - 1);
    assert.ok(retries.every((r) => r.error.code === 'network'));
  });

  test('a broker that never answers → stalled after maxAttempts timeouts', async (t) => {
    const server = await scripted(t, () => undefined);
    const { broker: api, retries } = client(server.url, 'tok', {
      timeoutMs: 50,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await rejectsWith(api.get('u1'), 'stalled');
    assert.equal(server.requests.length, 2);
    assert.equal(retries.length, 1);
  });

  test("aborting the caller's signal during a backoff stops at once with its reason", async (t) => {
    const server = await scripted(t, (_req, res) => problem(res, 503, 'internal'));
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const { broker: api } = client(server.url, 'tok', {
      retry: { maxAttempts: 8, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
      random: () => 1,
      onRetry: () => controller.abort(reason),
    });
    await assert.rejects(api.get('u1', controller.signal), (e) => e === reason);
    assert.equal(server.requests.length, 1);
  });

  test('an already aborted signal sends nothing', async (t) => {
    const server = await scripted(t, (_req, res) => json(res, 200, VIEW));
    const { broker: api } = client(server.url, 'tok');
    const reason = new Error('gone');
    await assert.rejects(api.get('u1', AbortSignal.abort(reason)), (e) => e === reason);
    assert.equal(server.requests.length, 0);
  });

  test('a token function that throws is reported as an auth failure, not as an unreachable broker', async (t) => {
    const server = await scripted(t, (_req, res) => json(res, 200, VIEW));
    const failure = new Error('sign-in expired');
    const { broker: api } = client(server.url, () => {
      throw failure;
    });
    const error = await rejectsWith(api.get('u1'), 'unauthorized');
    assert.equal(error.cause, failure);
    assert.equal(server.requests.length, 0);
  });

  test('ids are path-encoded and a trailing slash on the base URL is dropped', async (t) => {
    const server = await scripted(t, (_req, res) => json(res, 200, VIEW));
    const { broker: api } = client(`${server.url}/`, 'tok');
    await api.get('a/b c?d');
    await api.list('cur sor&x');
    await api.credentials('x');
    await api.abort('y');
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.url}`),
      [
        'GET /api/hoist/uploads/a%2Fb%20c%3Fd',
        'GET /api/hoist/uploads?cursor=cur%20sor%26x',
        'POST /api/hoist/uploads/x/credentials',
        'DELETE /api/hoist/uploads/y',
      ],
    );
  });

  test('an empty 2xx body reads as {}', async (t) => {
    const server = await scripted(t, (_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const { broker: api } = client(server.url, 'tok');
    assert.deepEqual(await api.abort('u1'), {});
  });
});
