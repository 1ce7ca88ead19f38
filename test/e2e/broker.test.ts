/**
 * The broker end to end: a real broker over HTTP in front of the real local S3 + STS
 * server, parts sent by the official SDK with the issued credentials (or by fetch with the
 * presigned URLs), and the stored bytes checked — in each of the three modes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { verifyWebhookSignature } from '@hoist/broker/internal/webhook';
import type { CreateUploadResponse, PartUrlsResponse, UploadMode } from '@hoist/protocol/internal/api';
import {
  type ApiResponse,
  BUCKET,
  brokerConfig,
  bytes,
  clientFor,
  crc32cBase64,
  createUpload,
  E2E_LIMITS,
  openMultipartKeys as listOpenMultipartKeys,
  MiB,
  PREFIX,
  putWithCredentials,
  sha256,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  type TestBroker,
  TOKENS,
  uploadParts,
  uploadSingle,
} from '../helpers/broker.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import type { TestServer } from '../helpers/server.ts';

const MODES: UploadMode[] = ['sts', 'federation', 'presign'];

async function denied(promise: Promise<unknown>, status = 403, name?: string): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.$metadata?.httpStatusCode, status, `${error.name}: ${error.message}`);
    if (name !== undefined) assert.equal(error.name, name);
    return true;
  });
}

describe('broker end to end', () => {
  const t = suiteCleanup();
  let server: TestServer;
  let root: S3Client;
  const brokers = {} as Record<UploadMode, TestBroker>;

  before(async () => {
    server = await startBrokerBackend(t);
    root = server.client;
    for (const mode of MODES) {
      brokers[mode] = await startTestBroker(t, brokerConfig(server, mode, { limits: E2E_LIMITS }));
    }
  });

  const stored = (key: string) => storedBytes(root, key);

  const exists = (key: string) => objectExists(root, BUCKET, key);

  const openMultipartKeys = () => listOpenMultipartKeys(root);

  const create = (mode: UploadMode, body: Record<string, unknown>, user: 'alice' | 'bob' = 'alice') =>
    createUpload(brokers[mode].api, body, user);

  /** Sends every part the way the engine would in this mode; returns what `complete` needs. */
  const sendParts = (mode: UploadMode, created: CreateUploadResponse, data: Buffer) =>
    uploadParts(brokers[mode].api, created, data);

  for (const mode of MODES) {
    test(`${mode}: a 12 MiB multipart upload through the API, stored byte for byte`, async () => {
      const data = randomBytes(12 * MiB);
      const created = await create(mode, {
        filename: 'Ünïcode film ✓.MP4',
        size: data.length,
        contentType: 'video/mp4',
      });
      assert.equal(created.mode, mode);
      assert.ok(created.uploadId);
      assert.equal(created.partCount, 3);
      assert.match(created.key, new RegExp(`^${PREFIX}/alice/${created.id}/Unicode_film.mp4$`));
      assert.equal(created.credentials === undefined, mode === 'presign');
      assert.equal(created.checksumAlgorithm, 'CRC32C');
      assert.equal(created.checksumType, 'FULL_OBJECT');
      const parts = await sendParts(mode, created, data);

      const open = await brokers[mode].api('alice', 'GET', `/uploads/${created.id}`);
      assert.equal(open.status, 200);
      assert.deepEqual(
        open.body.parts.map((p: { size: number }) => p.size),
        [5 * MiB, 5 * MiB, 2 * MiB],
      );

      // The whole file's CRC, which S3 checks against the parts' CRCs as it completes.
      const done = await brokers[mode].api('alice', 'POST', `/uploads/${created.id}/complete`, {
        parts,
        checksum: crc32cBase64(data),
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.status, 'completed');
      assert.equal(done.body.checksum, crc32cBase64(data));
      assert.equal(sha256(await stored(created.key)), sha256(data));
      const head = await root.send(new HeadObjectCommand({ Bucket: BUCKET, Key: created.key }));
      assert.equal(head.ContentType, 'video/mp4');
      assert.match(head.ContentDisposition!, /filename\*=UTF-8''%C3%9Cn%C3%AFcode%20film%20%E2%9C%93.MP4/);
      assert.equal(head.Metadata?.['hoist-user'], 'alice');

      if (created.credentials) {
        // The credentials outlive the upload, but can never replace the verified object.
        const s3 = clientFor(created);
        t.after(() => s3.destroy());
        const put = (extra: { IfNoneMatch?: string }) =>
          s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: created.key, Body: 'replaced', ...extra }));
        await denied(put({}), 403, 'AccessDenied');
        await denied(put({ IfNoneMatch: '*' }), 412, 'PreconditionFailed');
        assert.equal(sha256(await stored(created.key)), sha256(data));
      }

      // Completing again answers the same; the download URL serves the bytes.
      const again = await brokers[mode].api('alice', 'POST', `/uploads/${created.id}/complete`, { parts });
      assert.equal(again.status, 200);
      const link = await brokers[mode].api('alice', 'GET', `/uploads/${created.id}/download`);
      assert.equal(link.status, 200);
      const got = await fetch(link.body.url);
      assert.equal(got.status, 200);
      assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(data));
      assert.match(got.headers.get('content-disposition')!, /^attachment; filename="Unicode film _.MP4"/);
    });

    test(`${mode}: a single-request upload, verified at completion`, async () => {
      const data = randomBytes(300 * 1024);
      const created = await create(mode, {
        filename: 'notes.txt',
        size: data.length,
        contentType: 'text/plain',
        ...(mode === 'presign' ? { checksum: crc32cBase64(data) } : {}),
      });
      assert.equal(created.uploadId, null);
      assert.equal(created.partCount, 1);
      assert.equal(created.putRequest === undefined, mode !== 'presign');
      assert.equal(created.checksumType, 'FULL_OBJECT');
      if (mode === 'presign') {
        assert.equal(created.putHeaders, undefined);
        assert.equal(created.putRequest!.headers['if-none-match'], '*');
      } else {
        assert.deepEqual(created.putHeaders, {
          'content-type': 'text/plain',
          'content-disposition': `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`,
          'x-amz-meta-hoist-filename': 'notes.txt',
          'x-amz-meta-hoist-user': 'alice',
          'x-amz-meta-hoist-upload': created.id,
          'if-none-match': '*',
        });
      }
      assert.equal((await openMultipartKeys()).includes(created.key), false);
      // Completing before anything was sent is a conflict, not a rejection.
      const early = await brokers[mode].api('alice', 'POST', `/uploads/${created.id}/complete`, {
        parts: [],
      });
      assert.equal(early.status, 409);
      // Exactly putHeaders (or the presigned request's headers) and the checksum header.
      await uploadSingle(created, data, 'text/plain');
      const done = await brokers[mode].api('alice', 'POST', `/uploads/${created.id}/complete`, { parts: [] });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.status, 'completed');
      assert.equal(done.body.checksum, crc32cBase64(data));
      assert.equal(sha256(await stored(created.key)), sha256(data));
      // What the broker decided, whichever way the PUT was authorized.
      const head = await root.send(new HeadObjectCommand({ Bucket: BUCKET, Key: created.key }));
      assert.equal(head.Metadata?.['hoist-user'], 'alice');
      assert.equal(head.ContentDisposition, `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`);

      // A second PutObject with the same grant never replaces the object.
      const other = randomBytes(data.length);
      if (mode === 'presign') {
        const put = created.putRequest!;
        const again = await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes(other) });
        assert.equal(again.status, 412, await again.text());
      } else {
        const headers = { ...created.putHeaders!, 'x-amz-checksum-crc32c': crc32cBase64(other) };
        const again = await putWithCredentials(created, other, headers);
        assert.equal(again.status, 412, again.body);
        assert.match(again.body, /<Code>PreconditionFailed<\/Code>/);
        const { 'if-none-match': _, ...unconditional } = headers;
        const overwrite = await putWithCredentials(created, other, unconditional);
        assert.equal(overwrite.status, 403, overwrite.body);
        assert.match(overwrite.body, /<Code>AccessDenied<\/Code>/);
      }
      assert.equal(sha256(await stored(created.key)), sha256(data));
    });
  }

  for (const mode of ['sts', 'federation'] as const) {
    test(`${mode}: issued credentials reach only their own key`, async () => {
      const bobs = await create(
        mode,
        { filename: 'bob.bin', size: 6 * MiB, contentType: 'application/octet-stream' },
        'bob',
      );
      const alices = await create(mode, {
        filename: 'alice.bin',
        size: 6 * MiB,
        contentType: 'application/octet-stream',
      });
      const s3 = clientFor(alices);
      t.after(() => s3.destroy());
      const sibling = alices.key.replace(/alice\.bin$/, 'other.bin');
      // With If-None-Match, which the policy requires of every creation: only the key is wrong.
      const putNew = (Key: string) =>
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x', IfNoneMatch: '*' }));
      await denied(putNew(sibling));
      await denied(putNew(`${alices.key}x`));
      await denied(s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: sibling })));
      await denied(putNew(bobs.key));
      // And without it not even the own key.
      await denied(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: alices.key, Body: 'x' })));
      assert.equal(await exists(alices.key), false);
      await denied(
        s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: bobs.key,
            UploadId: bobs.uploadId!,
            PartNumber: 1,
            Body: 'x',
          }),
        ),
      );
      await denied(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: alices.key })));
      await denied(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: alices.key })));
      await denied(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/` })));
      await denied(s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET })));
      assert.equal(await exists(sibling), false);
      assert.equal(await exists(bobs.key), false);

      // A refresh gives new credentials for the same key only.
      const fresh = await brokers[mode].api('alice', 'POST', `/uploads/${alices.id}/credentials`);
      assert.equal(fresh.status, 200);
      assert.notEqual(fresh.body.credentials.accessKeyId, alices.credentials!.accessKeyId);
      const s3b = clientFor(alices, fresh.body.credentials);
      t.after(() => s3b.destroy());
      await denied(
        s3b.send(new PutObjectCommand({ Bucket: BUCKET, Key: bobs.key, Body: 'x', IfNoneMatch: '*' })),
      );
      await s3b.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: alices.key,
          UploadId: alices.uploadId!,
          PartNumber: 1,
          Body: randomBytes(1024),
          ChecksumAlgorithm: 'CRC32C',
        }),
      );
      // Bob cannot refresh, read or complete Alice's upload: it does not exist for him.
      for (const [method, path] of [
        ['POST', `/uploads/${alices.id}/credentials`],
        ['GET', `/uploads/${alices.id}`],
        ['POST', `/uploads/${alices.id}/complete`],
        ['DELETE', `/uploads/${alices.id}`],
        ['GET', `/uploads/${alices.id}/download`],
      ] as const) {
        const res = await brokers[mode].api(
          'bob',
          method,
          path,
          method === 'POST' ? { parts: [] } : undefined,
        );
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.type, 'https://hoist.dev/problems/not-found');
      }
      for (const upload of [alices, bobs]) {
        const user = upload === alices ? 'alice' : 'bob';
        assert.equal(
          (await brokers[mode].api(user, 'DELETE', `/uploads/${upload.id}`)).body.status,
          'aborted',
        );
        assert.equal((await openMultipartKeys()).includes(upload.key), false);
      }
    });
  }

  test('presign: the signed headers fix length, type and checksum', async () => {
    const data = randomBytes(4096);
    const created = await create('presign', {
      filename: 'photo.png',
      size: data.length,
      contentType: 'image/png',
      checksum: crc32cBase64(data),
    });
    const put = created.putRequest!;
    assert.equal(put.headers['content-type'], 'image/png');
    const refused = async (headers: Record<string, string>, body: Buffer) => {
      const res = await fetch(put.url, { method: 'PUT', headers, body: bytes(body) });
      assert.equal(res.status, 403, await res.text());
    };
    await refused({ ...put.headers, 'content-type': 'text/html' }, data);
    const { 'content-length': _, ...noLength } = put.headers;
    await refused(noLength, Buffer.concat([data, Buffer.from('more')]));
    const { 'x-amz-checksum-crc32c': __, ...noChecksum } = put.headers;
    await refused(noChecksum, data);
    const { 'if-none-match': ____, ...noCondition } = put.headers;
    await refused(noCondition, data);
    assert.equal(await exists(created.key), false);

    // Part URLs too: a part of another length is refused.
    const big = await create('presign', {
      filename: 'big.bin',
      size: 11 * MiB,
      contentType: 'application/octet-stream',
    });
    const urls = await brokers.presign.api<PartUrlsResponse>('alice', 'POST', `/uploads/${big.id}/parts`, {
      partNumbers: [3],
    });
    assert.equal(urls.status, 200);
    assert.equal(urls.body.parts[0]!.headers['content-length'], String(1 * MiB));
    const { 'content-length': ___, ...rest } = urls.body.parts[0]!.headers;
    const res = await fetch(urls.body.parts[0]!.url, {
      method: 'PUT',
      headers: rest,
      body: bytes(randomBytes(2 * MiB)),
    });
    assert.equal(res.status, 403);
    const past = await brokers.presign.api('alice', 'POST', `/uploads/${big.id}/parts`, { partNumbers: [4] });
    assert.equal(past.status, 400);
    // Credentials are not a thing in presign mode; part URLs are not a thing in sts mode.
    assert.equal((await brokers.presign.api('alice', 'POST', `/uploads/${big.id}/credentials`)).status, 409);
    const sts = await create('sts', {
      filename: 'x.bin',
      size: 11 * MiB,
      contentType: 'application/octet-stream',
    });
    assert.equal(
      (await brokers.sts.api('alice', 'POST', `/uploads/${sts.id}/parts`, { partNumbers: [1] })).status,
      409,
    );
  });

  test('presign on a store that ignores If-None-Match on PutObject: small files go multipart, with no PUT URL to reuse', async (tc) => {
    const broker = await startTestBroker(
      tc,
      brokerConfig(server, 'presign', { limits: E2E_LIMITS, store: { ifNoneMatchOnPut: false } }),
    );
    const data = randomBytes(1000);
    const created = await createUpload(broker.api, {
      filename: 'small.txt',
      size: data.length,
      contentType: 'text/plain',
    });
    assert.equal(created.putRequest, undefined, 'no PUT URL that could replace the verified object');
    assert.ok(created.uploadId);
    assert.equal(created.partCount, 1);
    const parts = await uploadParts(broker.api, created, data);
    const done = await broker.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(sha256(await stored(created.key)), sha256(data));
    // An empty file can only be replaced by an empty file: it keeps its single PUT.
    const empty = await createUpload(broker.api, {
      filename: 'empty.txt',
      size: 0,
      contentType: 'text/plain',
    });
    assert.ok(empty.putRequest);
    assert.equal(empty.uploadId, null);
  });

  test('FULL_OBJECT: a whole-file checksum that does not match rejects the upload', async () => {
    const data = randomBytes(11 * MiB);
    const created = await create('sts', {
      filename: 'crc.bin',
      size: data.length,
      contentType: 'application/octet-stream',
    });
    assert.equal(created.checksumType, 'FULL_OBJECT');
    const parts = await sendParts('sts', created, data);
    const notBase64 = await brokers.sts.api('alice', 'POST', `/uploads/${created.id}/complete`, {
      parts,
      checksum: 'AAAAAAAA',
    });
    assert.equal(notBase64.status, 400);
    assert.deepEqual(
      notBase64.body.errors.map((e: { path: string }) => e.path),
      ['checksum'],
    );
    const wrong = crc32cBase64(Buffer.concat([data.subarray(1), Buffer.from([data[0]! ^ 1])]));
    const res = await brokers.sts.api('alice', 'POST', `/uploads/${created.id}/complete`, {
      parts,
      checksum: wrong,
    });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.type, 'https://hoist.dev/problems/upload-rejected');
    assert.match(res.body.detail, /checksum of the whole file does not match/);
    assert.equal(await exists(created.key), false);
    assert.equal((await openMultipartKeys()).includes(created.key), false);
    const view = await brokers.sts.api('alice', 'GET', `/uploads/${created.id}`);
    assert.equal(view.body.status, 'rejected');
    assert.match(view.body.reason, /checksum/);

    // SHA multipart uploads are COMPOSITE, single requests carry no parts: neither takes one.
    const sha = await create('sts', {
      filename: 'sha.bin',
      size: 6 * MiB,
      contentType: 'application/octet-stream',
      checksumAlgorithm: 'SHA256',
    });
    assert.equal(sha.checksumType, 'COMPOSITE');
    const single = await create('sts', { filename: 's.txt', size: 10, contentType: 'text/plain' });
    assert.equal(single.checksumType, 'FULL_OBJECT');
    for (const [upload, checksum] of [
      [sha, Buffer.alloc(32).toString('base64')],
      [single, crc32cBase64(Buffer.alloc(10))],
    ] as const) {
      const refused = await brokers.sts.api('alice', 'POST', `/uploads/${upload.id}/complete`, {
        parts: [{ partNumber: 1, etag: '"0"' }],
        checksum,
      });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.deepEqual(
        refused.body.errors.map((e: { path: string }) => e.path),
        ['checksum'],
      );
      await brokers.sts.api('alice', 'DELETE', `/uploads/${upload.id}`);
    }
  });

  test('oversize declared: 413 and nothing created', async () => {
    const before = await openMultipartKeys();
    const res = await brokers.sts.api('alice', 'POST', '/uploads', {
      filename: 'huge.bin',
      size: 65 * MiB,
      contentType: 'application/octet-stream',
    });
    assert.equal(res.status, 413);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(res.body.type, 'https://hoist.dev/problems/too-large');
    assert.equal(res.body.instance, res.headers.get('x-request-id'));
    assert.deepEqual(await openMultipartKeys(), before);
    const listed = await brokers.sts.api('alice', 'GET', '/uploads?limit=100');
    assert.equal(
      listed.body.uploads.some((u: { filename: string }) => u.filename === 'huge.bin'),
      false,
    );
  });

  test('wrong type uploaded (single request, sts): rejected at completion, object gone', async () => {
    const data = randomBytes(2048);
    const created = await create('sts', {
      filename: 'clip.mp4',
      size: data.length,
      contentType: 'video/mp4',
    });
    await uploadSingle(created, data, 'text/html');
    assert.equal(await exists(created.key), true);
    const res = await brokers.sts.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts: [] });
    assert.equal(res.status, 422);
    assert.equal(res.body.type, 'https://hoist.dev/problems/upload-rejected');
    assert.match(res.body.detail, /type is text\/html/);
    assert.equal(await exists(created.key), false);
    const view = await brokers.sts.api('alice', 'GET', `/uploads/${created.id}`);
    assert.equal(view.body.status, 'rejected');
    assert.match(view.body.reason, /text\/html/);
    assert.equal((await brokers.sts.api('alice', 'GET', `/uploads/${created.id}/download`)).status, 409);
  });

  test('wrong size uploaded: rejected at completion, multipart upload and object gone', async () => {
    // Multipart: declared 12 MiB, only 10 MiB sent.
    const data = randomBytes(12 * MiB);
    const created = await create('federation', {
      filename: 'short.bin',
      size: data.length,
      contentType: 'application/octet-stream',
    });
    const parts = await sendParts('federation', created, data.subarray(0, 10 * MiB));
    const res = await brokers.federation.api('alice', 'POST', `/uploads/${created.id}/complete`, {
      parts: parts.slice(0, 2),
    });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.detail, /not the declared/);
    assert.equal((await openMultipartKeys()).includes(created.key), false);
    assert.equal(await exists(created.key), false);

    // Single request: declared 1000 bytes, 1001 sent with the credentials.
    const single = await create('sts', { filename: 'n.txt', size: 1000, contentType: 'text/plain' });
    await uploadSingle(single, randomBytes(1001), 'text/plain');
    const r2 = await brokers.sts.api('alice', 'POST', `/uploads/${single.id}/complete`, { parts: [] });
    assert.equal(r2.status, 422);
    assert.equal(await exists(single.key), false);
  });

  test('an object written around the broker is never completed over, and is rejected', async () => {
    const data = randomBytes(11 * MiB);
    const created = await create('sts', {
      filename: 'v.bin',
      size: data.length,
      contentType: 'application/octet-stream',
    });
    const parts = await sendParts('sts', created, data);
    // The credentials allow creating the key (If-None-Match): a client can write it directly.
    const s3 = clientFor(created);
    t.after(() => s3.destroy());
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: created.key,
        Body: 'sneaky',
        ContentType: 'application/octet-stream',
        IfNoneMatch: '*',
      }),
    );
    const res = await brokers.sts.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.detail, /did not complete/);
    assert.equal(await exists(created.key), false);
    assert.equal((await openMultipartKeys()).includes(created.key), false);
  });

  test('a multipart upload the client completed itself is verified, not lost', async () => {
    const data = randomBytes(11 * MiB);
    const created = await create('federation', {
      filename: 'self.bin',
      size: data.length,
      contentType: 'application/octet-stream',
    });
    const parts = await sendParts('federation', created, data);
    const s3 = clientFor(created);
    t.after(() => s3.destroy());
    const completeItself = (extra: { IfNoneMatch?: string }) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: created.key,
          UploadId: created.uploadId!,
          MultipartUpload: {
            Parts: parts.map((p) => ({
              PartNumber: p.partNumber,
              ETag: p.etag,
              ChecksumCRC32C: p.checksum!,
            })),
          },
          ...extra,
        }),
      );
    // Completing creates the object: the session policy wants If-None-Match there too.
    await denied(completeItself({}), 403, 'AccessDenied');
    await completeItself({ IfNoneMatch: '*' });
    const res = await brokers.federation.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'completed');
    assert.equal(sha256(await stored(created.key)), sha256(data));

    // Changed behind the broker's back (not with the upload's credentials, which cannot):
    // no download link for an object that is not the one verified.
    await root.send(new PutObjectCommand({ Bucket: BUCKET, Key: created.key, Body: 'replaced' }));
    const link = await brokers.federation.api('alice', 'GET', `/uploads/${created.id}/download`);
    assert.equal(link.status, 409);
  });

  test('rate limit and quotas: 429 with Retry-After, before anything is created', async () => {
    const limited = await startTestBroker(
      t,
      brokerConfig(server, 'sts', {
        limits: {
          maxConcurrentUploadsPerUser: 2,
          maxCredentialMintsPerMinute: 3,
          allowedContentTypes: ['video/*'],
        },
      }),
    );
    const body = { filename: 'a.mp4', size: 10, contentType: 'video/mp4' };
    const first = await limited.api('bob', 'POST', '/uploads', body);
    assert.equal(first.status, 201);
    const type = await limited.api('bob', 'POST', '/uploads', { ...body, contentType: 'text/html' });
    assert.equal(type.status, 415);
    assert.equal((await limited.api('bob', 'POST', `/uploads/${first.body.id}/credentials`)).status, 200);
    const second = await limited.api('bob', 'POST', '/uploads', body);
    assert.equal(second.status, 201);
    const quota = await limited.api('bob', 'POST', '/uploads', body);
    assert.equal(quota.status, 429);
    assert.equal(quota.body.type, 'https://hoist.dev/problems/quota-exceeded');
    assert.equal((await limited.api('bob', 'DELETE', `/uploads/${second.body.id}`)).status, 200);
    const rate = await limited.api('bob', 'POST', '/uploads', body);
    assert.equal(rate.status, 429);
    assert.equal(rate.body.type, 'https://hoist.dev/problems/rate-limited');
    assert.ok(Number(rate.headers.get('retry-after')) >= 1);
    const listed = await limited.api('bob', 'GET', '/uploads');
    assert.equal(listed.body.uploads.length, 2);
  });

  test('Idempotency-Key: a retried create gets the same upload back, with fresh credentials', async () => {
    /** POST /uploads with an Idempotency-Key (the shared api helper sends no extra headers). */
    const post = async (broker: TestBroker, user: 'alice' | 'bob', key: string, body: object) => {
      const res = await fetch(`${broker.url}/uploads`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKENS[user]}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        replayed: res.headers.get('idempotent-replayed'),
        body: (await res.json()) as ApiResponse['body'],
      };
    };
    const sts = brokers.sts;
    const body = { filename: 'retried.mp4', size: 12 * MiB, contentType: 'video/mp4' };
    const openBefore = (await openMultipartKeys()).length;

    const first = await post(sts, 'alice', 'key-1', body);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.replayed, null);
    const again = await post(sts, 'alice', 'key-1', body);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.replayed, 'true');
    const { credentials: c1, ...rest1 } = first.body;
    const { credentials: c2, ...rest2 } = again.body;
    assert.deepEqual(rest2, rest1);
    assert.notEqual(c2.accessKeyId, c1.accessKeyId);
    assert.equal((await openMultipartKeys()).length, openBefore + 1);
    // The replayed credentials work: the upload goes through on them.
    const data = randomBytes(body.size);
    const parts = await sendParts('sts', again.body, data);
    const done = await sts.api('alice', 'POST', `/uploads/${first.body.id}/complete`, { parts });
    assert.equal(done.status, 200, JSON.stringify(done.body));

    // Completed: the key no longer answers. A different body under a used key: conflict.
    const late = await post(sts, 'alice', 'key-1', body);
    assert.equal(late.status, 409);
    assert.match(late.body.detail, /completed/);
    const second = await post(sts, 'alice', 'key-2', { ...body, size: 10 });
    assert.equal(second.status, 201);
    const other = await post(sts, 'alice', 'key-2', { ...body, size: 11 });
    assert.equal(other.status, 409);
    assert.equal(other.body.type, 'https://hoist.dev/problems/conflict');
    assert.match(other.body.detail, /different upload/);
    // Keys are per user.
    const bobs = await post(sts, 'bob', 'key-2', { ...body, size: 10 });
    assert.equal(bobs.status, 201);
    assert.equal(bobs.replayed, null);
    assert.notEqual(bobs.body.id, second.body.id);
    // Aborted: conflict.
    assert.equal((await sts.api('bob', 'DELETE', `/uploads/${bobs.body.id}`)).status, 200);
    assert.equal((await post(sts, 'bob', 'key-2', { ...body, size: 10 })).status, 409);

    for (const bad of ['', 'has space', 'ü', 'x'.repeat(129)]) {
      const res = await post(sts, 'alice', bad, body);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.errors[0].path, 'Idempotency-Key');
    }

    // Two creates racing with one key: one upload, the loser's multipart upload aborted.
    const openNow = (await openMultipartKeys()).length;
    const raced = await Promise.all([1, 2].map(() => post(sts, 'alice', 'key-race', body)));
    assert.deepEqual(
      raced.map((r) => r.status),
      [201, 201],
    );
    assert.equal(raced[0]!.body.id, raced[1]!.body.id);
    assert.deepEqual(raced.map((r) => r.replayed).sort(), ['true', null].sort());
    assert.equal((await openMultipartKeys()).length, openNow + 1);

    // Presign, single request: a replay signs a fresh PUT for the same object.
    const small = { filename: 'small.mp4', size: 10, contentType: 'video/mp4' };
    const put1 = await post(brokers.presign, 'alice', 'key-put', small);
    const put2 = await post(brokers.presign, 'alice', 'key-put', small);
    assert.equal(put2.status, 201);
    assert.equal(put2.replayed, 'true');
    assert.equal(put2.body.id, put1.body.id);
    assert.equal(new URL(put2.body.putRequest.url).pathname, new URL(put1.body.putRequest.url).pathname);

    // A replay is no new upload for the quotas, but it mints, so the mint rate limit counts it.
    const limited = await startTestBroker(
      t,
      brokerConfig(server, 'sts', {
        limits: { maxConcurrentUploadsPerUser: 1, maxCredentialMintsPerMinute: 2 },
      }),
    );
    assert.equal((await post(limited, 'bob', 'key-q', small)).status, 201);
    const replay = await post(limited, 'bob', 'key-q', small);
    assert.equal(replay.status, 201, JSON.stringify(replay.body));
    const minted = await post(limited, 'bob', 'key-q', small);
    assert.equal(minted.status, 429);
    assert.equal(minted.body.type, 'https://hoist.dev/problems/rate-limited');
  });

  test('a completion is announced by a signed webhook', async () => {
    const secret = 'webhook-secret-0123456789';
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => receiver.close(resolve)));
    const { port } = receiver.address() as AddressInfo;
    const hooked = await startTestBroker(
      t,
      brokerConfig(server, 'presign', { webhook: { url: `http://127.0.0.1:${port}/hook`, secret } }),
    );
    const data = randomBytes(100);
    const created = (
      await hooked.api('alice', 'POST', '/uploads', {
        filename: 'hook.txt',
        size: data.length,
        contentType: 'text/plain',
        metadata: { project: 'p1' },
        // Kept in the registry under the reserved prefix: never in the webhook's metadata.
        checksum: crc32cBase64(data),
      })
    ).body as CreateUploadResponse;
    const put = created.putRequest!;
    assert.equal(
      (await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes(data) })).status,
      200,
    );
    assert.equal(
      (await hooked.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts: [] })).status,
      200,
    );
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(received.length, 1);
    const [delivery] = received;
    assert.ok(
      verifyWebhookSignature(
        secret,
        delivery!.headers['x-hoist-timestamp'] as string,
        delivery!.body,
        delivery!.headers['x-hoist-signature'] as string,
      ),
    );
    const event = JSON.parse(delivery!.body);
    assert.equal(event.type, 'upload.completed');
    assert.equal(event.data.id, created.id);
    assert.equal(event.data.key, created.key);
    assert.equal(event.data.size, 100);
    assert.deepEqual(event.data.metadata, { project: 'p1' });
  });

  test('GET /uploads/:id lists every part S3 has, past the first page of 1,000', async () => {
    const roomy = await startTestBroker(
      t,
      brokerConfig(server, 'sts', { limits: { maxObjectSize: '6GiB' } }),
    );
    const big = await createUpload(roomy.api, {
      filename: 'many.bin',
      size: 1100 * 5 * MiB,
      contentType: 'application/octet-stream',
    });
    // S3 checks the 5 MiB minimum only at completion: tiny parts make a cheap 1,001-part upload.
    const numbers = Array.from({ length: 1001 }, (_, i) => i + 1);
    for (let i = 0; i < numbers.length; i += 25) {
      await Promise.all(
        numbers.slice(i, i + 25).map((PartNumber) =>
          root.send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: big.key,
              UploadId: big.uploadId ?? '',
              PartNumber,
              Body: `p${PartNumber}`,
              ChecksumAlgorithm: 'CRC32C',
            }),
          ),
        ),
      );
    }
    const view = await roomy.api('alice', 'GET', `/uploads/${big.id}`);
    assert.equal(view.status, 200);
    const parts = view.body.parts as { partNumber: number }[];
    assert.deepEqual(
      parts.map((p) => p.partNumber),
      numbers,
    );
    assert.equal((await roomy.api('alice', 'DELETE', `/uploads/${big.id}`)).body.status, 'aborted');
  });

  test('an expired upload can no longer be refreshed or completed, but can be aborted', async () => {
    let now = Date.now();
    const timed = await startTestBroker(t, brokerConfig(server, 'sts', { uploadTtlSeconds: 60 }), {
      clock: () => now,
    });
    const res = await timed.api('alice', 'POST', '/uploads', {
      filename: 'late.bin',
      size: 6 * MiB,
      contentType: 'application/octet-stream',
    });
    assert.equal(res.status, 201);
    const created = res.body as CreateUploadResponse;
    assert.equal(Date.parse(created.expiresAt), now + 60_000);
    now += 61_000;
    assert.equal((await timed.api('alice', 'POST', `/uploads/${created.id}/credentials`)).status, 409);
    const done = await timed.api('alice', 'POST', `/uploads/${created.id}/complete`, {
      parts: [{ partNumber: 1, etag: '"0"' }],
    });
    assert.equal(done.status, 409);
    assert.match(done.body.detail, /expired/);
    const aborted = await timed.api('alice', 'DELETE', `/uploads/${created.id}`);
    assert.equal(aborted.body.status, 'aborted');
    assert.equal((await openMultipartKeys()).includes(created.key), false);
  });

  test('invalid requests, auth and the list', async () => {
    const api = brokers.sts.api;
    const anon = await api(null, 'POST', '/uploads', { filename: 'a', size: 1, contentType: 'text/plain' });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Bearer');
    const bad = await api('alice', 'POST', '/uploads', {
      filename: '',
      size: -1,
      contentType: 'nope',
      extra: 1,
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path).sort(), [
      'body',
      'contentType',
      'filename',
      'size',
    ]);
    const notJson = await fetch(`${brokers.sts.url}/uploads`, {
      method: 'POST',
      headers: { authorization: 'Bearer alice-token-0123456789' },
      body: '{',
    });
    assert.equal(notJson.status, 400);
    assert.equal((await api('alice', 'GET', '/uploads/not%20an%20id')).status, 404);
    assert.equal((await api('alice', 'GET', '/uploads/zzzzzzzz')).status, 404);
    assert.equal((await api('alice', 'GET', '/nowhere')).status, 404);
    const reserved = await api('alice', 'POST', '/uploads', {
      filename: 'a.txt',
      size: 1,
      contentType: 'text/plain',
      metadata: { 'hoist-user': 'mallory' },
    });
    assert.equal(reserved.status, 400);

    for (const name of ['one.txt', 'two.txt'])
      await create('sts', { filename: name, size: 10, contentType: 'text/plain' }, 'bob');
    const page1 = await api('bob', 'GET', '/uploads?limit=1');
    assert.equal(page1.status, 200);
    assert.equal(page1.body.uploads.length, 1);
    assert.ok(page1.body.uploads.every((u: { key: string }) => u.key.startsWith(`${PREFIX}/bob/`)));
    const page2 = await api('bob', 'GET', `/uploads?limit=1&cursor=${page1.body.nextCursor}`);
    assert.equal(page2.status, 200);
    assert.notEqual(page2.body.uploads[0]?.id, page1.body.uploads[0].id);
    assert.equal((await api('bob', 'GET', '/uploads?limit=1000')).status, 400);
  });

  test('healthz, metrics and an OpenAPI document naming every route', async () => {
    const broker = brokers.sts;
    const health = await broker.api(null, 'GET', '/healthz');
    assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
    const metrics = await broker.api(null, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /hoist_uploads_completed_total\{mode="sts"\} [1-9]/);
    assert.match(metrics.body, /hoist_http_requests_total\{method="POST",route="\/uploads\/:id\/complete"/);
    const doc = (await broker.api(null, 'GET', '/openapi.json')).body;
    assert.equal(doc.openapi, '3.1.0');
    const routes = broker.app.routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*'));
    assert.ok(routes.length >= 11);
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.path} is documented`);
    }
  });
});
