/** Wire-level cases: trailers, declared lengths, routing refusals — what a careless or hostile client sends. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { codeOf, sendBytes, sendRaw, signRaw } from '../helpers/raw.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const bucket = 'wire';

describe('wire', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();
  before(async () => {
    server = await startTestServer(cleanup);
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  const exists = (key: string) => objectExists(s3, bucket, key);

  test('a streamed SDK body goes as aws-chunked with a checksum trailer and is verified', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const pieces = [];
    for (let offset = 0; offset < data.length; offset += 64 * 1024)
      pieces.push(data.subarray(offset, offset + 64 * 1024));
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'streamed',
        Body: Readable.from(pieces),
        ContentLength: data.length,
        ChecksumAlgorithm: 'CRC32C',
      }),
    );
    assert.ok(put.ChecksumCRC32C);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'streamed', ChecksumMode: 'ENABLED' }),
    );
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    assert.equal(got.ChecksumCRC32C, put.ChecksumCRC32C);
  });

  async function trailerPut(
    key: string,
    data: Buffer,
    trailerValue: (crc: string) => string,
  ): Promise<string> {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${trailerValue(crc.toString('base64'))}\r\n\r\n`),
    ]);
    const signed = await signRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/${key}`,
      credentials: TEST_CREDENTIALS,
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'content-length': String(body.length),
      },
    });
    const lines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`);
    return sendBytes(
      server.url,
      `PUT ${signed.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`,
      body,
    );
  }

  test('an unsigned-payload trailer checksum is checked: right value stored, wrong value BadDigest', async () => {
    const data = randomBytes(10_000);
    const ok = await trailerPut('trailer-ok', data, (crc) => crc);
    assert.match(ok, /^HTTP\/1\.1 200/);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'trailer-ok' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    const bad = await trailerPut('trailer-bad', data, () => 'AAAAAA==');
    assert.match(bad, /^HTTP\/1\.1 400/);
    assert.equal(codeOf(bad), 'BadDigest');
    assert.equal(await exists('trailer-bad'), false);
  });

  test('a declared length over 5 GiB is EntityTooLarge at once, before any byte is read', async () => {
    const signed = await signRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/huge`,
      credentials: TEST_CREDENTIALS,
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': String(5 * 1024 ** 3 + 1) },
    });
    const lines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`);
    const response = await sendBytes(
      server.url,
      `PUT ${signed.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`,
      randomBytes(1000),
    );
    assert.match(response, /^HTTP\/1\.1 400/);
    assert.equal(codeOf(response), 'EntityTooLarge');
    assert.equal(await exists('huge'), false);
  });

  test('a body shorter than its declared length is IncompleteBody and nothing is stored', async () => {
    const data = randomBytes(5000);
    const signed = await signRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/short`,
      credentials: TEST_CREDENTIALS,
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length + 100),
        'content-length': String(data.length + 12),
      },
    });
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const lines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}`);
    const response = await sendBytes(
      server.url,
      `PUT ${signed.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`,
      body,
    );
    assert.match(response, /^HTTP\/1\.1 400/);
    assert.equal(codeOf(response), 'IncompleteBody');
    assert.equal(await exists('short'), false);
  });

  test('unsupported sub-resources are NotImplemented and wrong methods MethodNotAllowed', async () => {
    const website = await sendRaw({
      url: server.url,
      path: `/${bucket}`,
      query: { website: '' },
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(website.status, 501);
    assert.equal(codeOf(website.body), 'NotImplemented');
    const post = await sendRaw({
      url: server.url,
      method: 'POST',
      path: `/${bucket}/k`,
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(post.status, 405);
    assert.equal(codeOf(post.body), 'MethodNotAllowed');
  });

  test('a signed payload is checked against its hash; the right one is stored', async () => {
    const data = Buffer.from('signed payload body');
    const response = await sendRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/signed`,
      body: data,
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.etag, `"${createHash('md5').update(data).digest('hex')}"`);
  });
  test('features this server lacks are refused, never silently dropped; nothing is written', async () => {
    const put = (Key: string, extra: Record<string, unknown>) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x', ...extra }));
    const refusedWith = async (promise: Promise<unknown>, code: string) => {
      await assert.rejects(promise, (error: Error) => {
        assert.equal(error.name, code);
        return true;
      });
    };
    await refusedWith(put('acl', { ACL: 'public-read' }), 'AccessControlListNotSupported');
    await refusedWith(put('kms', { ServerSideEncryption: 'aws:kms' }), 'NotImplemented');
    await refusedWith(put('glacier', { StorageClass: 'GLACIER' }), 'InvalidStorageClass');
    await refusedWith(put('tagged', { Tagging: 'a=b' }), 'NotImplemented');
    await refusedWith(
      put('locked', {
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
      }),
      'InvalidRequest',
    );
    for (const key of ['acl', 'kms', 'glacier', 'tagged', 'locked'])
      assert.equal(await exists(key), false, key);
    // What changes nothing is accepted: a private ACL, SSE-S3, the STANDARD class.
    await put('harmless', { ACL: 'private', ServerSideEncryption: 'AES256', StorageClass: 'STANDARD' });
    assert.equal(await exists('harmless'), true);
  });

  test('Signature Version 2 is refused as in SigV4-only regions', async () => {
    const response = await fetch(
      `${server.url}/${bucket}/harmless?AWSAccessKeyId=AKIAEXAMPLE&Expires=9999999999&Signature=abc%3D`,
    );
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.equal(codeOf(text), 'InvalidRequest');
    assert.match(text, /Please use AWS4-HMAC-SHA256/);
  });
});
