import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { startHttp } from '../../../../test/helpers/http-server.ts';
import type { S3Settings } from '../aws.ts';
import { describeStoreError, storeAnswer } from '../store-errors.ts';
import { StoreTimeoutError } from '../store-timeouts.ts';
import { directCalls, objectAddressing } from './calls.ts';
import { createSignedHttp, errorOf, StoreCallError, targetAt } from './signed-http.ts';

/** Where the direct calls send an object's request: origin and path. */
function objectTarget(s3: S3Settings, key: string, query: string) {
  const { origin, path } = objectAddressing(s3)(key, query);
  return { origin, path };
}

const at = (url: string) => targetAt(new URL(url), url, '/');

const S3 = { region: 'us-east-1', bucket: 'uploads' };
const KEYS = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x'.repeat(40) };
const identity = () => Promise.resolve(KEYS);
const TIMEOUTS = { connectTimeoutMs: 2_000, requestTimeoutMs: 300 };

test('objects are addressed as the SDK addresses them', () => {
  const aws = objectTarget(S3, 'users/alice/a b.txt', 'uploads');
  assert.deepEqual(aws, {
    origin: 'https://uploads.s3.us-east-1.amazonaws.com',
    path: '/users/alice/a%20b.txt?uploads',
  });
  assert.equal(
    objectTarget({ ...S3, region: 'cn-north-1' }, 'k', 'uploads').origin,
    'https://uploads.s3.cn-north-1.amazonaws.com.cn',
  );
  // Path style: asked for, an IP-address endpoint, or a dotted bucket under TLS.
  assert.deepEqual(
    objectTarget({ ...S3, endpoint: 'http://127.0.0.1:9000', forcePathStyle: false }, 'k', 'uploads'),
    {
      origin: 'http://127.0.0.1:9000',
      path: '/uploads/k?uploads',
    },
  );
  assert.equal(
    objectTarget({ ...S3, endpoint: 'https://store.example', forcePathStyle: true }, 'k', 'q').path,
    '/uploads/k?q',
  );
  assert.equal(
    objectTarget({ ...S3, bucket: 'a.b.c' }, 'k', 'q').origin,
    'https://s3.us-east-1.amazonaws.com',
  );
  assert.equal(
    objectTarget({ ...S3, endpoint: 'http://store.example:8080/base/' }, 'k', 'q').path,
    '/base/k?q',
  );
  // Keys are sent as written: no dot-segment folding, every byte outside the unreserved set encoded once.
  assert.equal(
    objectTarget({ ...S3, endpoint: 'http://127.0.0.1:1' }, 'a/../b//é%/c', 'uploads').path,
    '/uploads/a/../b//%C3%A9%25/c?uploads',
  );
});

test("store errors are read from S3's and the Query protocol's XML alike", () => {
  const s3 = errorOf(
    403,
    '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>No &amp; no</Message></Error>',
  );
  assert.equal(s3.name, 'AccessDenied');
  assert.equal(s3.message, 'No & no');
  assert.equal(s3.$metadata.httpStatusCode, 403);
  const query = errorOf(
    400,
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>MalformedPolicyDocument</Code><Message>bad</Message></Error><RequestId>r</RequestId></ErrorResponse>',
  );
  assert.equal(query.name, 'MalformedPolicyDocument');
  assert.equal(query.message, 'bad');
  // Not XML (a proxy's HTML page): the status names it.
  const html = errorOf(502, '<html><body>Bad Gateway</body></html>');
  assert.equal(html.name, 'Unknown');
  assert.equal(describeStoreError(html).code, 'HTTP502');
  assert.equal(describeStoreError(html).status, 502);
  assert.equal(describeStoreError(s3).code, 'AccessDenied');
});

/** A scripted HTTP server on loopback: each request gets the next answer; 'stall' never answers. */
async function scripted(
  t: { after(fn: () => unknown): void },
  answers: (number | 'stall' | { status: number; body: string; headers?: Record<string, string> })[],
): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const { url } = await startHttp(t, (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    req.resume();
    const answer = answers[Math.min(requests.length - 1, answers.length - 1)];
    if (answer === 'stall' || answer === undefined) return;
    const { status, body, headers } =
      typeof answer === 'number' ? { status: answer, body: '', headers: {} } : answer;
    res.writeHead(status, { 'content-type': 'application/xml', ...headers }).end(body);
  });
  return { url, requests };
}

const OK_CREATE = {
  status: 200,
  body: '<InitiateMultipartUploadResult><Bucket>uploads</Bucket><Key>k</Key><UploadId>u-1</UploadId></InitiateMultipartUploadResult>',
};

test('transient answers are retried (3 attempts), refusals are not, and every attempt is signed', async (t) => {
  const store = await scripted(t, [503, 500, OK_CREATE]);
  const calls = directCalls({
    s3: { ...S3, endpoint: store.url, forcePathStyle: true },
    identity,
    timeouts: TIMEOUTS,
  });
  t.after(() => calls.close());
  const id = await calls.createMultipartUpload({
    key: 'users/alice/k',
    contentType: 'video/mp4',
    contentDisposition: 'attachment; filename="k"',
    metadata: { 'hoist-user': 'alice' },
    checksum: { algorithm: 'CRC32C', type: 'COMPOSITE' },
  });
  assert.equal(id, 'u-1');
  assert.equal(store.requests.length, 3);
  for (const req of store.requests) {
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/uploads/users/alice/k?uploads');
    assert.match(
      String(req.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=.*x-amz-meta-hoist-user/,
    );
    assert.equal(req.headers['x-amz-checksum-algorithm'], 'CRC32C');
    assert.equal(req.headers['x-amz-checksum-type'], 'COMPOSITE');
    assert.equal(req.headers['content-type'], 'video/mp4');
  }

  const refused = await scripted(t, [
    { status: 403, body: '<Error><Code>AccessDenied</Code><Message>no</Message></Error>' },
  ]);
  const http = createSignedHttp({ region: 'us-east-1', identity, timeouts: TIMEOUTS, random: () => 0 });
  t.after(() => http.close());
  await assert.rejects(
    http.send({ method: 'POST', target: at(refused.url), service: 'sts', headers: {} }),
    (error: unknown) => error instanceof StoreCallError && error.name === 'AccessDenied',
  );
  assert.equal(refused.requests.length, 1, 'a refusal is asked once');
});

test('a store that never answers fails once with StoreTimeoutError, not three times', async (t) => {
  const store = await scripted(t, ['stall']);
  const http = createSignedHttp({ region: 'us-east-1', identity, timeouts: TIMEOUTS });
  t.after(() => http.close());
  await assert.rejects(
    http.send({ method: 'POST', target: at(store.url), service: 'sts', headers: {} }),
    StoreTimeoutError,
  );
  assert.equal(store.requests.length, 1);
});

test('a 200 that is not the expected document is an error, not an upload without an id', async (t) => {
  const store = await scripted(t, [{ status: 200, body: '<html>captive portal</html>' }]);
  const calls = directCalls({ s3: { ...S3, endpoint: store.url }, identity, timeouts: TIMEOUTS });
  t.after(() => calls.close());
  await assert.rejects(
    calls.createMultipartUpload({
      key: 'k',
      contentType: 'a/b',
      contentDisposition: 'attachment',
      metadata: {},
    }),
    (error: unknown) => {
      // What the client's 502 says: the store answered, with something unreadable.
      assert.equal(
        storeAnswer(describeStoreError(error)),
        'the store answered 200 MalformedAnswer: the answer is not a readable InitiateMultipartUploadResult',
      );
      return true;
    },
  );
  const sts = await scripted(t, [
    { status: 200, body: '<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>' },
  ]);
  const minting = directCalls({ s3: S3, stsEndpoint: sts.url, identity, timeouts: TIMEOUTS });
  t.after(() => minting.close());
  await assert.rejects(
    minting.mint({
      mode: 'sts',
      policy: '{}',
      userId: 'alice',
      id: 'u1',
      durationSeconds: 900,
      roleArn: 'arn:aws:iam::1:role/r',
    }),
    /no complete credentials/,
  );
  assert.equal(sts.requests.length, 1);
});

test('a store whose clock is minutes off: the signing clock follows its Date header, and the call is asked again', async (t) => {
  const ahead = Date.now() + 20 * 60_000;
  const date = new Date(ahead).toUTCString();
  const store = await scripted(t, [
    { status: 403, body: '<Error><Code>RequestTimeTooSkewed</Code></Error>', headers: { date } },
    { ...OK_CREATE, headers: { date } },
    { ...OK_CREATE, headers: { date } },
  ]);
  const calls = directCalls({ s3: { ...S3, endpoint: store.url }, identity, timeouts: TIMEOUTS });
  t.after(() => calls.close());
  const input = { key: 'k', contentType: 'a/b', contentDisposition: 'attachment', metadata: {} };
  assert.equal(await calls.createMultipartUpload(input), 'u-1');
  await calls.createMultipartUpload(input);
  const signedAt = store.requests.map((req) => {
    const d = String(req.headers['x-amz-date']);
    return Date.parse(
      `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
    );
  });
  assert.equal(signedAt.length, 3);
  assert.ok(Math.abs(signedAt[0]! - Date.now()) < 60_000, 'first signed by the local clock');
  for (const at of signedAt.slice(1)) assert.ok(Math.abs(at - ahead) < 60_000, "then by the store's clock");
});
