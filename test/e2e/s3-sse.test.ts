/**
 * SSE-S3 as S3 reports it since default encryption (January 2023): every object is AES256,
 * and every write and read says so in x-amz-server-side-encryption (SDK: ServerSideEncryption).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const BUCKET = 'encrypted';

describe('SSE-S3 (AES256) reported as S3 does', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, { buckets: [BUCKET] });
    s3 = server.client;
  });

  test('PutObject, HeadObject, GetObject and CopyObject answer ServerSideEncryption AES256', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a', Body: 'bytes' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    // Asked for explicitly, the same.
    const explicit = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'b', Body: 'bytes', ServerSideEncryption: 'AES256' }),
    );
    assert.equal(explicit.ServerSideEncryption, 'AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a' }));
    assert.equal(head.ServerSideEncryption, 'AES256');
    const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a' }));
    assert.equal(get.ServerSideEncryption, 'AES256');
    await get.Body?.transformToString();
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'c', CopySource: `${BUCKET}/a` }),
    );
    assert.equal(copy.ServerSideEncryption, 'AES256');
  });

  test('CreateMultipartUpload, UploadPart, UploadPartCopy and CompleteMultipartUpload answer AES256', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'source', Body: 'copied part' }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'm' }));
    assert.equal(created.ServerSideEncryption, 'AES256');
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'm',
        UploadId: created.UploadId,
        PartNumber: 1,
        Body: 'x',
      }),
    );
    assert.equal(part.ServerSideEncryption, 'AES256');
    const copied = await s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'm',
        UploadId: created.UploadId,
        PartNumber: 2,
        CopySource: `${BUCKET}/source`,
      }),
    );
    assert.equal(copied.ServerSideEncryption, 'AES256');
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'm',
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 2, ETag: copied.CopyPartResult?.ETag }] },
      }),
    );
    assert.equal(done.ServerSideEncryption, 'AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'm', PartNumber: 1 }));
    assert.equal(head.ServerSideEncryption, 'AES256');
  });
});
