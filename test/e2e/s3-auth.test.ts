/** SigV4 authentication at the wire: what AWS S3 refuses, the local server refuses with the same code. */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { codeOf, sendBytes, sendRaw, signRaw } from '../helpers/raw.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const bucket = 'auth';

describe('authentication', () => {
  let server: TestServer;
  let s3: S3Client;
  let now = Date.now();
  const cleanup = suiteCleanup();
  before(async () => {
    server = await startTestServer(cleanup, { clock: () => now });
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  const exists = (key: string) => objectExists(s3, bucket, key);

  test('anonymous requests are AccessDenied', async () => {
    const response = await fetch(`${server.url}/${bucket}/k`, { method: 'PUT', body: 'x' });
    assert.equal(response.status, 403);
    const text = await response.text();
    assert.equal(codeOf(text), 'AccessDenied');
    assert.match(text, /<RequestId>[0-9A-F]{16}<\/RequestId>/);
    assert.equal(await exists('k'), false);
  });

  test('a wrong secret is SignatureDoesNotMatch and the body never reveals the expected signature', async () => {
    const wrong = {
      accessKeyId: TEST_CREDENTIALS.accessKeyId,
      secretAccessKey: 'not-the-secret-at-all-0000000000000000',
    };
    const response = await sendRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/wrong`,
      body: 'data',
      credentials: wrong,
    });
    assert.equal(response.status, 403);
    assert.equal(codeOf(response.body), 'SignatureDoesNotMatch');
    // What the server computed from the right secret must not leak.
    const right = await signRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/wrong`,
      body: 'data',
      credentials: TEST_CREDENTIALS,
    });
    const rightSignature = /Signature=([0-9a-f]{64})/.exec(right.headers.authorization ?? '')?.[1];
    assert.ok(rightSignature);
    assert.ok(!response.body.includes(TEST_CREDENTIALS.secretAccessKey));
    assert.equal(await exists('wrong'), false);
  });

  test('an unknown access key is InvalidAccessKeyId', async () => {
    const response = await sendRaw({
      url: server.url,
      path: `/${bucket}`,
      credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'whatever-whatever-whatever' },
    });
    assert.equal(response.status, 403);
    assert.equal(codeOf(response.body), 'InvalidAccessKeyId');
  });

  test('a request signed more than 15 minutes away from the server clock is RequestTimeTooSkewed', async () => {
    for (const offset of [-16 * 60_000, 16 * 60_000]) {
      const response = await sendRaw({
        url: server.url,
        path: `/${bucket}`,
        credentials: TEST_CREDENTIALS,
        signingDate: new Date(now + offset),
      });
      assert.equal(response.status, 403);
      assert.equal(codeOf(response.body), 'RequestTimeTooSkewed');
    }
    const within = await sendRaw({
      url: server.url,
      path: `/${bucket}`,
      credentials: TEST_CREDENTIALS,
      signingDate: new Date(now - 14 * 60_000),
    });
    assert.equal(within.status, 200);
  });

  test('an x-amz-* header that is present but not signed is refused', async () => {
    const response = await sendRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/unsigned`,
      body: 'x',
      credentials: TEST_CREDENTIALS,
      unsignedHeaders: { 'x-amz-meta-sneaky': 'yes' },
    });
    assert.equal(response.status, 403);
    assert.equal(codeOf(response.body), 'AccessDenied');
    assert.equal(await exists('unsigned'), false);
  });

  test('a body that does not match the signed x-amz-content-sha256 is XAmzContentSHA256Mismatch; nothing stored', async () => {
    const response = await sendRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/mismatch`,
      body: 'actual body',
      payloadHash: createHash('sha256').update('claimed body').digest('hex'),
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(response.status, 400);
    assert.equal(codeOf(response.body), 'XAmzContentSHA256Mismatch');
    assert.equal(await exists('mismatch'), false);
  });

  test('duplicate Host or Authorization headers are refused', async () => {
    const { path, headers } = await signRaw({
      url: server.url,
      path: `/${bucket}`,
      credentials: TEST_CREDENTIALS,
    });
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    const duplicateHost = await sendBytes(
      server.url,
      `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    );
    assert.match(duplicateHost, /^HTTP\/1\.1 400/);
    assert.equal(codeOf(duplicateHost), 'InvalidRequest');
    const duplicateAuth = await sendBytes(
      server.url,
      `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nAuthorization: ${headers.authorization}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(duplicateAuth, /^HTTP\/1\.1 400/);
  });

  test('oversized request headers get an S3 error, not a hang', async () => {
    const response = await sendBytes(
      server.url,
      `GET /${bucket} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 400/);
    assert.equal(codeOf(response), 'RequestHeaderSectionTooLarge');
  });

  test('presigned URLs: valid, expired (server clock moved), and over seven days', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'presigned' }));
    const signed = await signRaw({
      url: server.url,
      path: `/${bucket}/p`,
      credentials: TEST_CREDENTIALS,
      presign: { expiresIn: 60 },
      signingDate: new Date(now),
    });
    const ok = await fetch(`${server.url}${signed.path}`);
    assert.equal(await ok.text(), 'presigned');
    const saved = now;
    now += 61_000;
    try {
      const expired = await fetch(`${server.url}${signed.path}`);
      assert.equal(expired.status, 403);
      const text = await expired.text();
      assert.equal(codeOf(text), 'AccessDenied');
      assert.match(text, /Request has expired/);
    } finally {
      now = saved;
    }
    const tooLong = await signRaw({
      url: server.url,
      path: `/${bucket}/p`,
      credentials: TEST_CREDENTIALS,
      presign: { expiresIn: 604_800 },
    });
    const longPath = tooLong.path.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801');
    const refused = await fetch(`${server.url}${longPath}`);
    assert.equal(refused.status, 400);
    assert.equal(codeOf(await refused.text()), 'AuthorizationQueryParametersError');
  });

  test('virtual-host-style addressing reaches the same bucket', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'vhost.txt', Body: 'virtual' }));
    const host = `${bucket}.localhost:${server.port}`;
    const { path, headers } = await signRaw({
      url: `http://${host}`,
      path: '/vhost.txt',
      credentials: TEST_CREDENTIALS,
    });
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    const response = await sendBytes(
      server.url,
      `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 200/);
    assert.ok(response.endsWith('virtual'));
  });

  describe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', () => {
    function signingKey(date: string): Buffer {
      const kDate = createHmac('sha256', `AWS4${TEST_CREDENTIALS.secretAccessKey}`).update(date).digest();
      const kRegion = createHmac('sha256', kDate).update('us-east-1').digest();
      const kService = createHmac('sha256', kRegion).update('s3').digest();
      return createHmac('sha256', kService).update('aws4_request').digest();
    }

    async function chunkedPut(key: string, data: Buffer, chunkSize: number, tamper?: (body: Buffer) => void) {
      const encodedLength = (() => {
        let total = 0;
        for (let offset = 0; offset < data.length; offset += chunkSize) {
          const size = Math.min(chunkSize, data.length - offset);
          total += size.toString(16).length + 17 + 64 + 2 + size + 2;
        }
        return total + 1 + 17 + 64 + 4;
      })();
      const signed = await signRaw({
        url: server.url,
        method: 'PUT',
        path: `/${bucket}/${key}`,
        credentials: TEST_CREDENTIALS,
        payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        headers: {
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(data.length),
          'content-length': String(encodedLength),
        },
      });
      const authorization = signed.headers.authorization ?? '';
      let previous = /Signature=([0-9a-f]{64})/.exec(authorization)?.[1] ?? '';
      const datetime = signed.headers['x-amz-date'] ?? '';
      const scope = `${datetime.slice(0, 8)}/us-east-1/s3/aws4_request`;
      const key32 = signingKey(datetime.slice(0, 8));
      const emptyHash = createHash('sha256').update('').digest('hex');
      const pieces: Buffer[] = [];
      const sign = (chunk: Buffer) => {
        const stringToSign = [
          'AWS4-HMAC-SHA256-PAYLOAD',
          datetime,
          scope,
          previous,
          emptyHash,
          createHash('sha256').update(chunk).digest('hex'),
        ].join('\n');
        previous = createHmac('sha256', key32).update(stringToSign).digest('hex');
        pieces.push(
          Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`),
          chunk,
          Buffer.from('\r\n'),
        );
      };
      for (let offset = 0; offset < data.length; offset += chunkSize)
        sign(data.subarray(offset, offset + chunkSize));
      sign(Buffer.alloc(0));
      const body = Buffer.concat(pieces);
      assert.equal(body.length, encodedLength);
      tamper?.(body);
      const lines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`);
      return sendBytes(
        server.url,
        `PUT ${signed.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`,
        body,
      );
    }

    test('every chunk signature is verified and the object stored', async () => {
      const data = randomBytes(200_000);
      const response = await chunkedPut('chunked', data, 64 * 1024);
      assert.match(response, /^HTTP\/1\.1 200/);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'chunked' }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    });

    test('a tampered data byte fails the chunk signature and nothing is stored', async () => {
      const data = randomBytes(200_000);
      const response = await chunkedPut('chunked-bad', data, 64 * 1024, (body) => {
        const at = 100_000;
        body[at] = (body[at] ?? 0) ^ 0xff;
      });
      assert.match(response, /^HTTP\/1\.1 403/);
      assert.equal(codeOf(response), 'SignatureDoesNotMatch');
      assert.equal(await exists('chunked-bad'), false);
    });
  });

  test('malformed XML bodies are MalformedXML; DTDs and entities are refused', async () => {
    const { UploadId } = await s3.send(
      new (await import('@aws-sdk/client-s3')).CreateMultipartUploadCommand({ Bucket: bucket, Key: 'xml' }),
    );
    for (const body of [
      'not xml at all',
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>',
      '<Wrong/>',
    ]) {
      const response = await sendRaw({
        url: server.url,
        method: 'POST',
        path: `/${bucket}/xml`,
        query: { uploadId: UploadId ?? '' },
        body,
        credentials: TEST_CREDENTIALS,
      });
      assert.equal(response.status, 400, body);
      assert.equal(codeOf(response.body), 'MalformedXML', body);
      assert.ok(!response.body.includes('root:'), 'no file contents leak');
    }
  });
});
