/**
 * The Hono app's edges, without S3: request ids, CORS, problem+json for every failure,
 * unknown errors answered without their details, and the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { healthResponse, problem } from '@hoist/protocol/schemas';
import { type BrokerDeps, createBroker } from './app.ts';
import { parseBrokerConfig } from './config.ts';
import { createLogger } from './log.ts';
import type { Registry } from './types.ts';

const TOKEN = 'alice-token-0123456789';

function broker(overrides: Record<string, unknown> = {}, deps: BrokerDeps = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const app = createBroker(
    parseBrokerConfig({
      s3: {
        bucket: 'uploads',
        // Nothing listens here: these tests never reach S3.
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) },
      },
      sts: { roleArn: 'arn:aws:iam::111122223333:role/upload' },
      auth: { tokens: { alice: TOKEN } },
      registry: { url: 'sqlite::memory:' },
      cors: { origins: ['https://app.example.com'] },
      ...overrides,
    }),
    { logger: createLogger({ destination }), ...deps },
  );
  return { app, lines };
}

test('request ids: a valid incoming id is kept, others replaced; problems name it', async (t) => {
  const { app } = broker();
  t.after(() => app.close());
  const kept = await app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(kept.headers.get('x-request-id'), 'abc-123');
  const replaced = await app.request('/nowhere', { headers: { 'x-request-id': 'bad id\u0001' } });
  const id = replaced.headers.get('x-request-id')!;
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(replaced.status, 404);
  assert.equal(replaced.headers.get('content-type'), 'application/problem+json');
  assert.deepEqual(await replaced.json(), {
    type: 'https://hoist.dev/problems/not-found',
    title: 'No such upload',
    status: 404,
    detail: 'No such route',
    instance: id,
  });
});

test("an app's own authenticator needs no tokens or JWT in the config; without one the config is refused", async (t) => {
  const { app } = broker(
    { auth: {} },
    {
      authenticator: {
        async authenticate(headers) {
          return headers.get('x-app-session') === 'carol-session' ? { id: 'carol' } : undefined;
        },
      },
    },
  );
  t.after(() => app.close());
  const mine = await app.request('/uploads', { headers: { 'x-app-session': 'carol-session' } });
  assert.equal(mine.status, 200, await mine.clone().text());
  assert.deepEqual(await mine.json(), { uploads: [], nextCursor: null });
  assert.equal((await app.request('/uploads', { headers: { 'x-app-session': 'nope' } })).status, 401);
  assert.equal(
    (await app.request('/uploads', { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    401,
  );

  assert.throws(() => broker({ auth: {} }), {
    name: 'BrokerConfigError',
    message: /auth: Required: static tokens or JWT/,
  });
});

test('CORS: configured origins only, preflight without auth, headers on errors too', async (t) => {
  const { app } = broker();
  t.after(() => app.close());
  const preflight = await app.request('/uploads', {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.match(preflight.headers.get('access-control-allow-headers')!, /authorization/);
  const error = await app.request('/uploads', { headers: { origin: 'https://app.example.com' } });
  assert.equal(error.status, 401);
  assert.equal(error.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.match(error.headers.get('access-control-expose-headers')!, /x-request-id/);
  const other = await app.request('/healthz', { headers: { origin: 'https://evil.example.com' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('unknown errors are logged and answered as internal, without details', async (t) => {
  const failing = {
    get: async () => {
      throw new Error('database password is hunter2');
    },
    countActive: async () => {
      throw new Error('connection refused');
    },
    close: async () => {},
  } as unknown as Registry;
  const { app, lines } = broker({}, { registry: failing });
  t.after(() => app.close());
  const res = await app.request('/uploads/abc', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 500);
  const body = (await res.json()) as { type: string; detail: string; instance: string };
  assert.equal(body.type, 'https://hoist.dev/problems/internal');
  assert.doesNotMatch(JSON.stringify(body), /hunter2/);
  assert.ok(lines.some((l) => l.includes('unhandled error') && l.includes(body.instance)));
  const health = await app.request('/healthz');
  assert.equal(health.status, 503);
});

test('bad input is a 400 naming the fields; big bodies are refused', async (t) => {
  const { app } = broker();
  t.after(() => app.close());
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const res = await app.request('/uploads', {
    method: 'POST',
    headers,
    body: JSON.stringify({ filename: 'a\u0000b', size: 1.5, contentType: 'video', checksumAlgorithm: 'MD5' }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { errors: { path: string }[] };
  assert.deepEqual(body.errors.map((e) => e.path).sort(), [
    'checksumAlgorithm',
    'contentType',
    'filename',
    'size',
  ]);
  const big = await app.request('/uploads/abc/complete', {
    method: 'POST',
    headers,
    body: JSON.stringify({ parts: [], pad: 'x'.repeat(2 * 1024 * 1024) }),
  });
  assert.equal(big.status, 400);
  const unordered = await app.request('/uploads/abc/complete', {
    method: 'POST',
    headers,
    body: JSON.stringify({
      parts: [
        { partNumber: 2, etag: '"a"' },
        { partNumber: 1, etag: '"b"' },
      ],
    }),
  });
  assert.equal(unordered.status, 400);
});

test('the OpenAPI document describes every route of the app', async (t) => {
  const { app } = broker();
  t.after(() => app.close());
  const doc = (await (await app.request('/openapi.json')).json()) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };
  assert.equal(doc.openapi, '3.1.0');
  const routes = app.routes.filter((r) => r.method !== 'ALL');
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`);
  }
  const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((k) => k !== 'parameters')
      .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  );
  assert.deepEqual(documented.sort(), routes.map((r) => `${r.method} ${r.path}`).sort());
});

test("the app's answers are the shapes the document (and the contract) describe", async (t) => {
  const { app } = broker();
  t.after(() => app.close());
  healthResponse.parse(await (await app.request('/healthz')).json());
  const bad = await app.request('/uploads', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ filename: '', size: -1, contentType: 'video' }),
  });
  assert.equal(bad.status, 400);
  const body = problem.parse(await bad.json());
  assert.deepEqual(body.errors?.map((e) => e.path).sort(), ['contentType', 'filename', 'size']);
});

test('an app on createBroker whose store cannot keep sts mode safe gets a 500 naming the log, before any S3 call', async (t) => {
  const { app, lines } = broker({
    store: {
      flexibleChecksums: true,
      ifNoneMatchOnPut: true,
      ifNoneMatchOnComplete: true,
      conditionalWriteKeys: false,
      federationToken: true,
    },
  });
  t.after(() => app.close());
  await assert.rejects(app.capabilities(), {
    name: 'StoreCapabilityError',
    code: 'overwrite-not-preventable',
  });
  const res = await app.request('/uploads', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ filename: 'a.bin', size: 1, contentType: 'application/octet-stream' }),
  });
  assert.equal(res.status, 500);
  assert.match(((await res.json()) as { detail: string }).detail, /cannot run on its storage/);
  assert.ok(lines.some((line) => line.includes('s3:if-none-match')));
});
