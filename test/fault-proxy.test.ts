import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  combine,
  everyNth,
  type FaultProxy,
  firstN,
  isCompleteMultipartUpload,
  isCreateMultipartUpload,
  isPutObject,
  isUploadPart,
  onceFor,
  type ProxiedRequest,
  startFaultProxy,
} from './helpers/fault-proxy.ts';
import { objectExists, rejectsWith, suiteCleanup } from './helpers/s3.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const bucket = 'fault-proxy';

type SdkError = Error & { code?: string; $metadata?: { httpStatusCode?: number } };

async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  assert.fail('expected the request to fail');
}

/** Polls until the condition holds; the bound only keeps a broken proxy from hanging the run. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    if (condition()) return;
    await sleep(5);
  }
  assert.fail('condition never held');
}

function rawRequest(
  url: string,
  init: { method?: string; path: string; body?: Buffer },
): Promise<{ res: IncomingMessage; body: Buffer; error?: Error }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${init.path}`, { method: init.method ?? 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.once('error', (error) => resolve({ res, body: Buffer.concat(chunks), error }));
    });
    req.once('error', reject);
    req.end(init.body);
  });
}

describe('fault proxy in front of the local S3 server', () => {
  const cleanup = suiteCleanup();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(cleanup);
    await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  async function proxied(
    overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
  ): Promise<{ proxy: FaultProxy; s3: S3Client }> {
    const proxy = await startFaultProxy(server.url);
    cleanup.after(() => proxy.close());
    return { proxy, s3: server.makeClient({ endpoint: proxy.url, ...overrides }) };
  }

  async function getBytes(s3: S3Client, key: string): Promise<Buffer> {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  }

  test('without faults, objects go through byte for byte and the Host the client signed is kept', async () => {
    const { proxy, s3 } = await proxied();
    // Big enough for the SDK to send `Expect: 100-continue`.
    const body = randomBytes(3 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.bin', Body: body }));
    assert.deepEqual(await getBytes(s3, 'plain.bin'), body);
    assert.deepEqual(await getBytes(server.client, 'plain.bin'), body);
    assert.deepEqual(
      proxy.log.map((e) => [e.request.method, e.status, e.request.headers.host]),
      [
        ['PUT', 200, new URL(proxy.url).host],
        ['GET', 200, new URL(proxy.url).host],
      ],
    );
    assert.equal(proxy.stats.requests, 2);
    assert.equal(proxy.stats.faults, 0);
    assert.equal(proxy.stats.byRoute(isPutObject).bodyBytes, body.length);
    assert.equal(proxy.stats.requestBodyBytes, body.length);
  });

  test('counts the body bytes of each upload part', async () => {
    const { proxy, s3 } = await proxied();
    const key = 'parts.bin';
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const uploadId = created.UploadId!;
    const sizes = [100 * KiB, 37_001, 250 * KiB];
    for (const [i, size] of sizes.entries()) {
      await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: i + 1,
          Body: randomBytes(size),
        }),
      );
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.deepEqual(proxy.stats.byRoute(isUploadPart), {
      requests: 3,
      bodyBytes: total,
      receivedBytes: total,
    });
    assert.deepEqual(proxy.stats.byRoute(isCreateMultipartUpload).requests, 1);
    assert.equal(proxy.stats.byRoute(isPutObject).requests, 0);
    const listed = await server.client.send(
      new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
    assert.deepEqual(
      listed.Parts?.map((p) => p.Size),
      sizes,
    );
    await server.client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
  });

  test('reset-request: the client sees a network error and the server stores nothing', async () => {
    const { proxy, s3 } = await proxied();
    proxy.setRule(onceFor(isPutObject, { kind: 'reset-request', afterBytes: 10_000 }));
    const body = randomBytes(256 * KiB);
    const error = await failure(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'reset.bin', Body: body })),
    );
    assert.equal(error.$metadata?.httpStatusCode, undefined, `${error.name}: ${error.message}`);
    assert.ok(['ECONNRESET', 'EPIPE'].includes(error.code ?? ''), `${error.code}: ${error.message}`);
    assert.equal(proxy.log[0]?.bodyBytes, 10_000);
    assert.equal(proxy.stats.faults, 1);
    assert.equal(await objectExists(server.client, bucket, 'reset.bin'), false);
    // Only once: the retry goes through.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'reset.bin', Body: body }));
    assert.deepEqual(await getBytes(server.client, 'reset.bin'), body);
    assert.equal(proxy.stats.requestBodyBytes, 10_000 + body.length);
  });

  test('reset-request past the end of the body: the server stores it, the client loses the response', async () => {
    const { proxy, s3 } = await proxied();
    proxy.setRule(onceFor(isPutObject, { kind: 'reset-request', afterBytes: 1 * MiB }));
    const body = randomBytes(64 * KiB);
    const error = await failure(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lost.bin', Body: body })),
    );
    assert.equal(error.$metadata?.httpStatusCode, undefined, `${error.name}: ${error.message}`);
    // The proxy logs the status the server sent to nobody.
    await until(() => proxy.log[0]?.status !== undefined);
    assert.equal(proxy.log[0]?.status, 200);
    assert.deepEqual(await getBytes(server.client, 'lost.bin'), body);
  });

  test('status: the SDK sees an S3 error (503 SlowDown) and nothing reaches the server', async () => {
    const { proxy, s3 } = await proxied();
    proxy.setRule(firstN(2, isPutObject, { kind: 'status', status: 503, code: 'SlowDown' }));
    const body = randomBytes(200 * KiB);
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow.bin', Body: body })),
      'SlowDown',
      503,
    );
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow.bin', Body: body })),
      'SlowDown',
      503,
    );
    assert.equal(await objectExists(server.client, bucket, 'slow.bin'), false);
    assert.deepEqual(proxy.stats.byRoute(isPutObject), {
      requests: 2,
      bodyBytes: 0,
      receivedBytes: 2 * body.length,
    });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow.bin', Body: body }));
    assert.deepEqual(await getBytes(server.client, 'slow.bin'), body);
  });

  test('status: XML error body, Retry-After, and the connection stays usable', async () => {
    const { proxy } = await proxied();
    proxy.setRule(
      onceFor(() => true, {
        kind: 'status',
        status: 429,
        code: 'TooManyRequests',
        message: 'a <b> & c',
        retryAfterSeconds: 3,
      }),
    );
    const { res, body } = await rawRequest(proxy.url, {
      method: 'PUT',
      path: '/b/k?x=1',
      body: randomBytes(5000),
    });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '3');
    assert.equal(res.headers['content-type'], 'application/xml');
    const xml = body.toString();
    assert.match(xml, /<Code>TooManyRequests<\/Code>/);
    assert.match(xml, /<Message>a &#60;b&#62; &#38; c<\/Message>/);
    assert.match(xml, /<Resource>\/b\/k<\/Resource>/);
    assert.equal(proxy.log[0]?.receivedBytes, 5000);
    assert.equal(proxy.log[0]?.status, 429);
    const next = await rawRequest(proxy.url, { path: '/' });
    assert.equal(next.res.statusCode, 403, 'unsigned requests reach the server');
  });

  test('stall: the request times out at the client', async () => {
    const { proxy, s3 } = await proxied({
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    proxy.setRule(onceFor(isPutObject, { kind: 'stall' }));
    const body = randomBytes(64 * KiB);
    const error = await failure(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'stall.bin', Body: body })),
    );
    assert.equal(error.name, 'TimeoutError', error.message);
    assert.equal(proxy.log[0]?.bodyBytes, 0);
    assert.equal(proxy.log[0]?.receivedBytes, body.length, 'the stalled request body was read');
    assert.equal(await objectExists(server.client, bucket, 'stall.bin'), false);
  });

  test('close() returns with a stalled request in flight, and that request fails', async () => {
    const proxy = await startFaultProxy(server.url, { rule: () => ({ kind: 'stall' }) });
    const s3 = server.makeClient({ endpoint: proxy.url });
    const pending = failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'any' })));
    await until(() => proxy.log.length === 1);
    await proxy.close();
    const error = await pending;
    assert.equal(error.$metadata?.httpStatusCode, undefined, `${error.name}: ${error.message}`);
    await proxy.close(); // idempotent
  });

  test('truncate-response: the head promises the full length, the body stops short', async () => {
    const { proxy, s3 } = await proxied();
    const body = randomBytes(64 * KiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'trunc.bin', Body: body }));
    proxy.setRule(firstN(2, (r) => r.method === 'GET', { kind: 'truncate-response', bytes: 1000 }));
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'trunc.bin' })));
    const raw = await rawRequest(proxy.url, { path: url.pathname + url.search });
    assert.equal(raw.res.statusCode, 200);
    assert.equal(raw.res.headers['content-length'], String(body.length));
    assert.deepEqual(raw.body, body.subarray(0, 1000));
    assert.ok(raw.error, 'the response ends with an error');
    await failure(getBytes(s3, 'trunc.bin'));
    assert.deepEqual(await getBytes(s3, 'trunc.bin'), body);
  });

  test('delay-response: the response is held (a short client timeout fires), then delivered', async () => {
    const { proxy, s3 } = await proxied();
    const body = randomBytes(32 * KiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'delay.bin', Body: body }));
    const impatient = server.makeClient({
      endpoint: proxy.url,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    proxy.setRule(onceFor((r) => r.method === 'GET', { kind: 'delay-response', ms: 60_000 }));
    const error = await failure(getBytes(impatient, 'delay.bin'));
    assert.equal(error.name, 'TimeoutError', error.message);
    assert.equal(proxy.log.at(-1)?.status, 200, 'the server had answered');
    proxy.setRule(onceFor((r) => r.method === 'GET', { kind: 'delay-response', ms: 20 }));
    assert.deepEqual(await getBytes(s3, 'delay.bin'), body);
    assert.equal(proxy.stats.faults, 2);
  });

  test('slow-request: the body reaches the server a little at a time, intact', async () => {
    const { proxy, s3 } = await proxied();
    const body = randomBytes(64 * KiB);
    proxy.setRule(onceFor(isPutObject, { kind: 'slow-request', bytesPerSecond: 64 * KiB }));
    const put = s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow-req.bin', Body: body }));
    // Slices of 1/20 s: whenever the first bytes have gone out, most are still held back.
    await until(() => (proxy.log[0]?.bodyBytes ?? 0) > 0);
    const early = proxy.log[0]!.bodyBytes;
    assert.ok(early < body.length / 2, `${early} of ${body.length} bytes already forwarded`);
    await put;
    assert.equal(proxy.log[0]?.bodyBytes, body.length);
    assert.deepEqual(await getBytes(server.client, 'slow-req.bin'), body);
  });

  test('strip-header: the response lacks the header (ETag hidden as by CORS)', async () => {
    const { proxy, s3 } = await proxied();
    proxy.setRule(onceFor(isPutObject, { kind: 'strip-header', name: 'ETag' }));
    const body = randomBytes(1000);
    const hidden = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag.bin', Body: body }));
    assert.equal(hidden.ETag, undefined);
    const shown = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag.bin', Body: body }));
    assert.match(shown.ETag ?? '', /^"[0-9a-f]{32}"$/);
  });
});

test('an unreachable upstream is a 502', async (t) => {
  const closed = createNetServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise((resolve) => closed.close(resolve));
  const proxy = await startFaultProxy(`http://127.0.0.1:${port}`);
  t.after(() => proxy.close());
  const { res } = await rawRequest(proxy.url, { method: 'PUT', path: '/b/k', body: Buffer.from('x') });
  assert.equal(res.statusCode, 502);
  assert.equal(proxy.log[0]?.status, 502);
});

describe('rules and filters', () => {
  const req = (method: string, url: string, headers: ProxiedRequest['headers'] = {}): ProxiedRequest => ({
    index: 0,
    method,
    url,
    headers,
  });
  const part = req('PUT', '/b/k?partNumber=2&uploadId=u&x-id=UploadPart');
  const put = req('PUT', '/b/dir/k?x-id=PutObject');
  const get = req('GET', '/b/k');
  const fault = { kind: 'stall' } as const;

  test('filters classify S3 operations', () => {
    assert.equal(isUploadPart(part), true);
    assert.equal(
      isUploadPart(req('PUT', '/b/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': '/b/x' })),
      false,
    );
    assert.equal(isUploadPart(put), false);
    assert.equal(isPutObject(put), true);
    assert.equal(isPutObject(req('PUT', '/b/k')), true);
    assert.equal(isPutObject(part), false);
    assert.equal(isPutObject(req('PUT', '/b')), false, 'CreateBucket');
    assert.equal(isPutObject(req('PUT', '/b/k?tagging')), false);
    assert.equal(isPutObject(req('PUT', '/b/k', { 'x-amz-copy-source': '/b/x' })), false);
    assert.equal(isCreateMultipartUpload(req('POST', '/b/k?uploads')), true);
    assert.equal(isCompleteMultipartUpload(req('POST', '/b/k?uploadId=u')), true);
    assert.equal(isCompleteMultipartUpload(req('POST', '/b/k?uploads')), false);
  });

  test('everyNth, firstN, onceFor count only the requests that pass the filter', () => {
    const nth = everyNth(2, fault, isUploadPart);
    assert.deepEqual(
      [part, get, part, part, get, part].map((r) => nth(r)?.kind),
      [undefined, undefined, 'stall', undefined, undefined, 'stall'],
    );
    const first = firstN(2, isPutObject, fault);
    assert.deepEqual(
      [get, put, part, put, put].map((r) => first(r)?.kind),
      [undefined, 'stall', undefined, 'stall', undefined],
    );
    const once = onceFor(isUploadPart, fault);
    assert.deepEqual(
      [put, part, part].map((r) => once(r)?.kind),
      [undefined, 'stall', undefined],
    );
    assert.throws(() => everyNth(0, fault), { name: 'TypeError', message: /^n:/ });
    assert.throws(() => firstN(1.5, isPutObject, fault), TypeError);
  });

  test('combine: the first rule with a fault wins', () => {
    const rule = combine(onceFor(isPutObject, { kind: 'delay-response', ms: 1 }), () => fault);
    assert.deepEqual(
      [put, put, get].map((r) => rule(r)?.kind),
      ['delay-response', 'stall', 'stall'],
    );
  });
});
