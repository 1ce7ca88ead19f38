/**
 * GetObject/HeadObject with `partNumber` and `x-amz-checksum-mode: ENABLED`, through the
 * official AWS SDK v3. The API reference describes `x-amz-checksum-type` as the object's
 * checksum type (how part checksums combine), with no exception for part reads, so a part read
 * reports it; which checksum value a part read carries is not documented, and the server keeps
 * its rule (a COMPOSITE object's part reports that part's checksum; others report none).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;

describe('part reads with checksum mode', () => {
  let server: TestServer;
  let s3: S3Client;
  const bucket = 'part-checksums';
  const cleanup = suiteCleanup();
  const parts = [randomBytes(5 * MiB), randomBytes(54_321)];

  before(async () => {
    server = await startTestServer(cleanup);
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  /** A two-part object; returns each part's checksum as UploadPart reported it. */
  async function multipart(key: string, algorithm: ChecksumAlgorithm, type: ChecksumType): Promise<string[]> {
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ChecksumAlgorithm: algorithm,
        ChecksumType: type,
      }),
    );
    const field = `Checksum${algorithm}` as const;
    const uploaded = [];
    for (const [i, data] of parts.entries()) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId!,
          PartNumber: i + 1,
          Body: data,
          ChecksumAlgorithm: algorithm,
        }),
      );
      assert.ok(out[field]);
      uploaded.push({ PartNumber: i + 1, ETag: out.ETag!, [field]: out[field] });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId!,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    assert.equal(done.ChecksumType, type);
    return uploaded.map((p) => p[field] as string);
  }

  test('a COMPOSITE object: a part read reports the part checksum and ChecksumType COMPOSITE', async () => {
    const key = 'composite-sha256';
    const partSums = await multipart(key, 'SHA256', 'COMPOSITE');
    assert.equal(partSums[1], createHash('sha256').update(parts[1]!).digest('base64'));
    for (const PartNumber of [1, 2]) {
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber, ChecksumMode: 'ENABLED' }),
      );
      assert.equal(head.ChecksumType, 'COMPOSITE');
      assert.equal(head.ChecksumSHA256, partSums[PartNumber - 1]);
      assert.equal(head.PartsCount, 2);
      assert.equal(head.ContentLength, parts[PartNumber - 1]!.length);
    }
    const get = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2, ChecksumMode: 'ENABLED' }),
    );
    assert.equal(get.ChecksumType, 'COMPOSITE');
    assert.equal(get.ChecksumSHA256, partSums[1]);
    assert.deepEqual(Buffer.from(await get.Body!.transformToByteArray()), parts[1]);
    // The whole-object read still reports the composite value with its -N suffix.
    const whole = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    assert.equal(whole.ChecksumType, 'COMPOSITE');
    assert.match(whole.ChecksumSHA256!, /-2$/);
  });

  test('a FULL_OBJECT object: a part read reports ChecksumType FULL_OBJECT and no checksum value', async () => {
    const key = 'full-crc32c';
    await multipart(key, 'CRC32C', 'FULL_OBJECT');
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1, ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumType, 'FULL_OBJECT');
    assert.equal(head.ChecksumCRC32C, undefined);
    const get = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2, ChecksumMode: 'ENABLED' }),
    );
    assert.equal(get.ChecksumType, 'FULL_OBJECT');
    assert.equal(get.ChecksumCRC32C, undefined);
    assert.deepEqual(Buffer.from(await get.Body!.transformToByteArray()), parts[1]);
  });

  test('a single-PUT object read as part 1 reports ChecksumType FULL_OBJECT', async () => {
    const key = 'single';
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello', ChecksumAlgorithm: 'CRC32' }),
    );
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1, ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumType, 'FULL_OBJECT');
    assert.equal(head.ContentLength, 5);
  });

  test('without checksum mode a part read carries no checksum headers', async () => {
    const key = 'composite-crc32';
    await multipart(key, 'CRC32', 'COMPOSITE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1 }));
    assert.equal(head.ChecksumType, undefined);
    assert.equal(head.ChecksumCRC32, undefined);
    assert.equal(head.PartsCount, 2);
  });

  test('an object without a checksum: a part read in checksum mode carries none', async () => {
    const key = 'no-sum';
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId!,
        PartNumber: 1,
        Body: 'x',
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId!,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
      }),
    );
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1, ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumType, undefined);
    assert.equal(head.ChecksumCRC32, undefined);
    assert.equal(head.ChecksumCRC64NVME, undefined);
  });
});
