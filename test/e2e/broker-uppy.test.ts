/**
 * The broker's Companion-compatible routes for Uppy, over real HTTP in front of the real local
 * S3 + STS server: the requests `@uppy/aws-s3` sends in companionEndpoint mode (no size, no
 * custom header, the token in a cookie), the parts PUT to the URLs it gets, and the stored
 * bytes checked. The broker runs in sts mode: Uppy gets URLs whatever the mode.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { UploadError } from '@hoist/client/internal/errors';
import { hoistAwsS3Options, hoistSignRequest } from '@hoist/client/internal/uppy';
import {
  BROKER_KEYS,
  BUCKET,
  brokerConfig,
  bytes,
  MiB,
  openMultipartKeys,
  PREFIX,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  type TestBroker,
  TOKENS,
} from '../helpers/broker.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import type { TestServer } from '../helpers/server.ts';

const APP = 'http://app.example.test';
const COOKIE = 'hoist_session';
const LIMIT = 20 * MiB;

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely
type Json = any;
type User = keyof typeof TOKENS;
interface Call {
  /** Signed in by cookie (the default), by bearer token, or not at all. */
  as?: User | null;
  by?: 'cookie' | 'bearer';
  /** The page's origin; null sends none. */
  origin?: string | null;
  headers?: Record<string, string>;
  method?: string;
  body?: unknown;
}

describe('the broker behind @uppy/aws-s3 (Companion routes)', () => {
  const hook = suiteCleanup();
  let server: TestServer;
  let broker: TestBroker;

  before(async () => {
    server = await startBrokerBackend(hook);
    broker = await startTestBroker(
      hook,
      brokerConfig(server, 'sts', {
        limits: { maxObjectSize: LIMIT, maxConcurrentUploadsPerUser: 100, maxCredentialMintsPerMinute: 1000 },
        cors: { origins: [APP] },
        uppy: { enabled: true, path: '/companion', cookieName: COOKIE },
      }),
    );
  });

  async function call(
    path: string,
    options: Call = {},
  ): Promise<{ status: number; headers: Headers; body: Json }> {
    const user = options.as === undefined ? 'alice' : options.as;
    const headers: Record<string, string> = { ...options.headers };
    if (user && options.by === 'bearer') headers.authorization = `Bearer ${TOKENS[user]}`;
    else if (user) headers.cookie = `${COOKIE}=${encodeURIComponent(TOKENS[user])}`;
    const origin = options.origin === undefined ? APP : options.origin;
    if (origin !== null) headers.origin = origin;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${broker.url}/companion${path}`, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function create(user: User = 'alice', filename = 'clip.mp4') {
    const res = await call('/s3/multipart', {
      as: user,
      method: 'POST',
      body: { filename, type: 'video/mp4', metadata: { name: filename, type: 'video/mp4' } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { key: string; uploadId: string };
  }

  const q = (key: string) => `?${new URLSearchParams({ key })}`;

  async function putPart(
    upload: { key: string; uploadId: string },
    n: number,
    data: Buffer,
    user: User = 'alice',
  ) {
    const signed = await call(`/s3/multipart/${encodeURIComponent(upload.uploadId)}/${n}${q(upload.key)}`, {
      as: user,
    });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    assert.ok(signed.body.expires > 0);
    const res = await fetch(signed.body.url, { method: 'PUT', body: bytes(data) });
    assert.equal(res.status, 200, await res.text());
    return { PartNumber: n, ETag: res.headers.get('etag')! };
  }

  test('a multipart upload with no declared size: key under the user, bytes in S3, verified and registered', async () => {
    const data = randomBytes(12 * MiB);
    const upload = await create();
    assert.match(
      upload.key,
      new RegExp(`^${PREFIX}/alice/[a-z0-9]+/clip\\.mp4$`),
      'the broker chose the key',
    );
    const parts = [
      await putPart(upload, 1, data.subarray(0, 5 * MiB)),
      await putPart(upload, 2, data.subarray(5 * MiB, 10 * MiB)),
      await putPart(upload, 3, data.subarray(10 * MiB)),
    ];
    const listed = await call(`/s3/multipart/${upload.uploadId}${q(upload.key)}`);
    assert.deepEqual(
      listed.body.map((p: { PartNumber: number; Size: number }) => [p.PartNumber, p.Size]),
      [
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, 2 * MiB],
      ],
    );
    const done = await call(`/s3/multipart/${upload.uploadId}/complete${q(upload.key)}`, {
      method: 'POST',
      body: { parts },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.key, upload.key);
    assert.ok(done.body.location.endsWith(`/${BUCKET}/${upload.key}`));
    assert.ok((await storedBytes(server.client, upload.key)).equals(data));

    const list = await broker.api('alice', 'GET', '/uploads');
    const entry = list.body.uploads.find((u: { key: string }) => u.key === upload.key);
    assert.equal(entry.status, 'completed');
    assert.equal(entry.size, data.length, 'sized from its parts at completion');
    assert.equal(entry.contentType, 'video/mp4');
  });

  test('another user cannot sign, list, complete or abort the upload', async () => {
    const upload = await create('alice');
    const part = await putPart(upload, 1, randomBytes(1024));
    const path = `/s3/multipart/${upload.uploadId}`;
    const attempts = [
      await call(`${path}/2${q(upload.key)}`, { as: 'bob' }),
      await call(`${path}${q(upload.key)}`, { as: 'bob' }),
      await call(`${path}/complete${q(upload.key)}`, { as: 'bob', method: 'POST', body: { parts: [part] } }),
      await call(`${path}${q(upload.key)}`, { as: 'bob', method: 'DELETE' }),
      // Nor can alice reach it under another key.
      await call(`${path}/2${q(`${PREFIX}/alice/other/clip.mp4`)}`),
    ];
    for (const res of attempts) {
      assert.equal(res.status, 404);
      assert.equal(res.body.type, 'https://hoist.dev/problems/not-found');
    }
    assert.ok((await openMultipartKeys(server.client)).includes(upload.key), 'still open');
    const aborted = await call(`${path}${q(upload.key)}`, { method: 'DELETE' });
    assert.equal(aborted.status, 200);
    assert.ok(!(await openMultipartKeys(server.client)).includes(upload.key), 'aborted in S3');
  });

  test('a cookie counts only from an allowed origin; a bearer token needs none', async () => {
    const cross = await call('/s3/multipart', {
      origin: 'https://evil.example',
      method: 'POST',
      body: { filename: 'a.bin', type: 'application/octet-stream' },
    });
    assert.equal(cross.status, 403);
    assert.match(cross.body.detail, /Cross-site request refused/);
    const noOrigin = await call('/s3/multipart', {
      origin: null,
      method: 'POST',
      body: { filename: 'a.bin', type: 'application/octet-stream' },
    });
    assert.equal(noOrigin.status, 403, 'no Origin and no Sec-Fetch-Site: not from a page we know');
    const sameOrigin = await call('/s3/multipart', {
      origin: null,
      headers: { 'sec-fetch-site': 'same-origin' },
      method: 'POST',
      body: { filename: 'a.bin', type: 'application/octet-stream' },
    });
    assert.equal(sameOrigin.status, 200);
    const bearer = await call('/s3/multipart', {
      by: 'bearer',
      origin: null,
      method: 'POST',
      body: { filename: 'b.bin', type: 'application/octet-stream' },
    });
    assert.equal(bearer.status, 200);
    assert.equal((await call('/s3/multipart', { as: null, method: 'POST', body: {} })).status, 401);
    const badCookie = await fetch(`${broker.url}/companion/s3/multipart`, {
      method: 'POST',
      headers: { cookie: `${COOKIE}=not-a-token`, origin: APP, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'c.bin' }),
    });
    assert.equal(badCookie.status, 401);
  });

  test('POST /session turns a bearer token into an HttpOnly, SameSite=Strict cookie', async () => {
    const res = await call('/session', { by: 'bearer', method: 'POST' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { user: 'alice' });
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(
      cookie,
      new RegExp(`^${COOKIE}=${encodeURIComponent(TOKENS.alice)}; Path=/; HttpOnly; SameSite=Strict$`),
    );
    // The cookie cannot mint itself a new session: only a bearer token can.
    assert.equal((await call('/session', { method: 'POST' })).status, 401);
    const out = await call('/session', { as: null, method: 'DELETE' });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  });

  test('over the limit: a part number past it is refused, and a completion over it keeps nothing', async () => {
    const upload = await create('alice', 'big.bin');
    // Parts 1..4 of at least 5 MiB already make 20 MiB: part 5 can only belong to a larger file.
    const refused = await call(`/s3/multipart/${upload.uploadId}/5${q(upload.key)}`);
    assert.equal(refused.status, 413);
    assert.equal(refused.body.detail, 'This file is larger than your 20 MiB limit');
    // What Uppy shows: "Companion request failed: <statusText>".
    const status = await fetch(`${broker.url}/companion/s3/multipart/${upload.uploadId}/5${q(upload.key)}`, {
      headers: { cookie: `${COOKIE}=${TOKENS.alice}`, origin: APP },
    });
    assert.equal(status.statusText, 'This file is larger than your 20 MiB limit');

    // Larger parts slip past the part-number bound; completion catches them.
    const parts = [];
    for (const n of [1, 2, 3]) parts.push(await putPart(upload, n, randomBytes(8 * MiB)));
    const done = await call(`/s3/multipart/${upload.uploadId}/complete${q(upload.key)}`, {
      method: 'POST',
      body: { parts },
    });
    assert.equal(done.status, 413);
    assert.equal(done.body.detail, 'This file is larger than your 20 MiB limit');
    assert.equal(await objectExists(server.client, BUCKET, upload.key), false, 'no object kept');
    assert.ok(!(await openMultipartKeys(server.client)).includes(upload.key), 'multipart upload aborted');
    const list = await broker.api('alice', 'GET', '/uploads');
    const entry = list.body.uploads.find((u: { key: string }) => u.key === upload.key);
    assert.equal(entry.status, 'rejected');
  });

  test('the small-file path answers a POST form as Uppy reads it, and bad input is a readable 400', async () => {
    const params = await call(`/s3/params?${new URLSearchParams({ filename: 'a.txt', type: 'text/plain' })}`);
    assert.equal(params.status, 200, JSON.stringify(params.body));
    assert.equal(params.body.method, 'POST');
    assert.equal(params.body.url, `${server.url}/${BUCKET}`);
    assert.match(params.body.fields.key, new RegExp(`^${PREFIX}/alice/[a-z0-9]+/a\\.txt$`));
    assert.equal(params.body.fields['Content-Type'], 'text/plain');
    assert.equal(params.body.fields.success_action_status, '201');
    assert.ok(params.body.fields.policy && params.body.fields['x-amz-signature']);
    const badSize = await call(`/s3/params?${new URLSearchParams({ filename: 'a.txt', size: '-1' })}`);
    assert.equal(badSize.status, 400);
    const noKey = await call('/s3/multipart/some-id/1');
    assert.equal(noKey.status, 400);
    assert.match(noKey.body.detail, /"key"/);
    const badName = await call('/s3/multipart', {
      method: 'POST',
      body: { filename: '', type: 'text/plain' },
    });
    assert.equal(badName.status, 400);
  });

  test("hoistAwsS3Options: Uppy's signRequest steps go through the broker, and S3's answers come back", async () => {
    const options = hoistAwsS3Options({ endpoint: `${broker.url}/companion`, token: () => TOKENS.bob });
    // Up to the broker's single-request size (8 MiB unless told) one POST form; over it, or unknown, parts.
    assert.equal(options.shouldUseMultipart({ size: 8 * MiB }), false);
    assert.equal(options.shouldUseMultipart({ size: 8 * MiB + 1 }), true);
    assert.equal(options.shouldUseMultipart({}), true);
    const ref = options.generateObjectKey({ name: 'report «final».pdf', type: 'application/pdf' });
    // As @uppy/aws-s3's S3mini does: sign, then send the request to the URL it got.
    const send = async (
      request: Parameters<typeof options.signRequest>[0],
      body?: Uint8Array<ArrayBuffer>,
    ) => {
      const signed = await options.signRequest(request);
      const res = await fetch(signed.url, { method: request.method, ...(body ? { body } : {}) });
      assert.equal(res.status, 200);
      return { signed, res, text: await res.clone().text() };
    };
    const created = await send({ method: 'POST', key: ref });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1] ?? '';
    const key = created.signed.key ?? '';
    assert.match(key, new RegExp(`^${PREFIX}/bob/[a-z0-9]+/report_final\\.pdf$`));
    const data = randomBytes(6 * MiB);
    const p1 = await send({ method: 'PUT', key, uploadId, partNumber: 1 }, bytes(data.subarray(0, 5 * MiB)));
    await send({ method: 'PUT', key, uploadId, partNumber: 2 }, bytes(data.subarray(5 * MiB)));
    assert.ok(p1.res.headers.get('etag'));
    const listed = await send({ method: 'GET', key, uploadId });
    assert.equal((listed.text.match(/<Part>/g) ?? []).length, 2);
    const done = await send({ method: 'POST', key, uploadId });
    assert.match(done.text, new RegExp(`<Key>${key.replace(/\./g, '\\.')}</Key>`));
    assert.ok((await storedBytes(server.client, key)).equals(data));
    const head = await broker.api('bob', 'GET', '/uploads');
    const entry = head.body.uploads.find((u: { key: string }) => u.key === key);
    assert.equal(entry.status, 'completed');
    assert.equal(entry.contentType, 'application/pdf');
    assert.equal(entry.filename, 'report «final».pdf');

    // The broker's refusal reaches Uppy as the error it throws, with a stable code.
    const big = await send({ method: 'POST', key: options.generateObjectKey({ name: 'big.bin' }) });
    const bigId = /<UploadId>([^<]+)<\/UploadId>/.exec(big.text)?.[1] ?? '';
    await assert.rejects(
      options.signRequest({ method: 'PUT', key: big.signed.key ?? '', uploadId: bigId, partNumber: 5 }),
      (error: unknown) =>
        error instanceof UploadError &&
        error.code === 'too-large' &&
        error.message === 'This file is larger than your 20 MiB limit',
    );
    await send({ method: 'DELETE', key: big.signed.key ?? '', uploadId: bigId });
    assert.ok(!(await openMultipartKeys(server.client)).includes(big.signed.key ?? ''));
    // Another user's upload does not exist for this signer.
    const alice = hoistSignRequest({ endpoint: `${broker.url}/companion`, token: TOKENS.alice });
    await assert.rejects(alice({ method: 'PUT', key, uploadId, partNumber: 3 }), { code: 'upload-gone' });
    await assert.rejects(alice({ method: 'GET', key: 'x' }), { code: 'invalid-options' });
    // A PutObject is answered with a POST form for the broker's key, whatever key Uppy named.
    const form = await alice({ method: 'PUT', key: 'x', contentType: 'text/plain' });
    assert.match(form.fields?.key ?? '', new RegExp(`^${PREFIX}/alice/[a-z0-9]+/x$`));
    assert.throws(() => hoistSignRequest({ endpoint: '' }), { code: 'invalid-options' });
  });

  test('a completion lists the parts in S3 once (its sizes size the upload; the same list is checked)', async () => {
    const operations: string[] = [];
    const s3 = server.makeClient({ credentials: { ...BROKER_KEYS } });
    s3.middlewareStack.add(
      (next, context) => (args) => {
        operations.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'countOperations' },
    );
    const counted = await startTestBroker(
      hook,
      brokerConfig(server, 'sts', {
        limits: { maxObjectSize: LIMIT, maxConcurrentUploadsPerUser: 100, maxCredentialMintsPerMinute: 1000 },
        uppy: { enabled: true, path: '/companion', cookieName: COOKIE },
      }),
      { s3 },
    );
    const at = (path: string, init: RequestInit = {}) =>
      fetch(`${counted.url}/companion${path}`, {
        ...init,
        headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
      });
    const upload = (await (
      await at('/s3/multipart', {
        method: 'POST',
        body: JSON.stringify({ filename: 'once.bin', type: 'application/octet-stream' }),
      })
    ).json()) as { key: string; uploadId: string };
    const data = randomBytes(6 * MiB);
    const parts = [];
    for (const [n, chunk] of [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)].entries()) {
      const signed = (await (
        await at(`/s3/multipart/${upload.uploadId}/${n + 1}${q(upload.key)}`)
      ).json()) as {
        url: string;
      };
      const res = await fetch(signed.url, { method: 'PUT', body: bytes(chunk) });
      assert.equal(res.status, 200);
      parts.push({ PartNumber: n + 1, ETag: res.headers.get('etag')! });
    }
    operations.length = 0;
    const done = await at(`/s3/multipart/${upload.uploadId}/complete${q(upload.key)}`, {
      method: 'POST',
      body: JSON.stringify({ parts }),
    });
    assert.equal(done.status, 200, await done.clone().text());
    assert.deepEqual(
      operations.filter((name) => name === 'ListPartsCommand'),
      ['ListPartsCommand'],
      `operations: ${operations.join(', ')}`,
    );
    assert.ok(operations.includes('CompleteMultipartUploadCommand'));
    assert.ok((await storedBytes(server.client, upload.key)).equals(data));
  });
});
