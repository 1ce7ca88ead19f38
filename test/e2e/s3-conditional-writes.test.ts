/**
 * Conditional writes with If-Match (S3 since November 2024) through the official SDK:
 * PutObject and CompleteMultipartUpload replace only the object whose ETag matches;
 * mismatch → 412, missing key → 404 NoSuchKey, a write in between → 409
 * ConditionalRequestConflict. And the policy side: If-Match also needs s3:GetObject,
 * and `s3:if-match` is a condition key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { objectExists, rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ACCOUNT = '111122223333';
const BUCKET = 'conditional';
const WRITER = {
  accessKeyId: 'AKIACONDWRITER000001',
  secretAccessKey: 'cond-writer-secret-0123456789abcdefghij',
};
const BLIND = {
  accessKeyId: 'AKIACONDBLIND0000001',
  secretAccessKey: 'cond-blind-secret-0123456789abcdefghijk',
};

describe('conditional writes (If-Match)', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, {
      buckets: [BUCKET],
      iam: {
        accountId: ACCOUNT,
        users: [
          {
            // May only replace objects, and only with If-Match (policy enforces conditional writes).
            name: 'writer',
            accessKeys: [{ ...WRITER }],
            policies: {
              cas: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: 's3:PutObject',
                    Resource: `arn:aws:s3:::${BUCKET}/*`,
                    Condition: { Null: { 's3:if-match': 'false' } },
                  },
                  { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
                ],
              },
            },
          },
          {
            // May write but not read: If-Match would reveal the ETag, so it is refused.
            name: 'blind',
            accessKeys: [{ ...BLIND }],
            policies: {
              put: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
                ],
              },
            },
          },
        ],
      },
    });
    s3 = server.client;
  });

  const body = async (key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString();

  test('PutObject If-Match: a matching ETag (quoted or bare) replaces, a wrong one is 412, a missing key is 404', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v1' }));
    const second = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v2', IfMatch: first.ETag }),
    );
    assert.equal(await body('cas'), 'v2');
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'cas',
        Body: 'v3',
        IfMatch: second.ETag?.replace(/"/g, ''),
      }),
    );
    assert.equal(await body('cas'), 'v3');

    const stale = await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'lost', IfMatch: first.ETag })),
      'PreconditionFailed',
      412,
    );
    assert.equal((stale as { Condition?: string }).Condition, 'If-Match');
    assert.equal(await body('cas'), 'v3');

    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'absent', Body: 'x', IfMatch: first.ETag })),
      'NoSuchKey',
      404,
    );
    assert.equal(await objectExists(s3, BUCKET, 'absent'), false);
  });

  test('PutObject If-Match: a write landing while the body streams makes it 409 ConditionalRequestConflict', async () => {
    const original = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'race', Body: 'original' }));
    const stream = new PassThrough();
    // No aws-chunked framing: the body goes as written, one piece now and one later.
    const plain = server.makeClient({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    const slow = plain.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'race',
        Body: stream,
        ContentLength: 2048,
        IfMatch: original.ETag,
      }),
    );
    stream.write(randomBytes(1024));
    // The precondition held when the slow write started; now another writer replaces the object.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'race', Body: 'winner' }));
    stream.end(randomBytes(1024));
    await rejectsWith(slow, 'ConditionalRequestConflict', 409);
    assert.equal(await body('race'), 'winner');
  });

  test('CompleteMultipartUpload If-Match: mismatch 412 and missing key 404 leave the upload; a match completes', async () => {
    const key = 'mpu-cas';
    const uploadFor = async (target: string) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: target }));
      const part = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: target, UploadId, PartNumber: 1, Body: 'multipart' }),
      );
      return { UploadId, Parts: [{ PartNumber: 1, ETag: part.ETag }] };
    };
    const existing = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'single' }));
    const { UploadId, Parts } = await uploadFor(key);
    const complete = (ifMatch: string | undefined, target = key, uploadId = UploadId) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: target,
          UploadId: uploadId,
          MultipartUpload: { Parts },
          ...(ifMatch ? { IfMatch: ifMatch } : {}),
        }),
      );
    await rejectsWith(complete('"0123456789abcdef0123456789abcdef"'), 'PreconditionFailed', 412);
    assert.equal(await body(key), 'single');
    const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    assert.equal(parts.Parts?.length, 1);

    const other = await uploadFor('mpu-absent');
    await rejectsWith(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'mpu-absent',
          UploadId: other.UploadId,
          MultipartUpload: { Parts: other.Parts },
          IfMatch: existing.ETag,
        }),
      ),
      'NoSuchKey',
      404,
    );
    assert.equal(await objectExists(s3, BUCKET, 'mpu-absent'), false);

    const done = await complete(existing.ETag);
    assert.match(done.ETag ?? '', /-1"$/);
    assert.equal(await body(key), 'multipart');
  });

  test('policy: If-Match needs s3:GetObject too, and s3:if-match can demand conditional writes', async () => {
    const current = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'policy', Body: 'root' }));
    const writer = server.makeClient({ credentials: { ...WRITER } });
    const blind = server.makeClient({ credentials: { ...BLIND } });

    // The writer's policy allows PutObject only with an If-Match header.
    await rejectsWith(
      writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'policy', Body: 'unconditional' })),
      'AccessDenied',
      403,
    );
    await writer.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'policy', Body: 'cas', IfMatch: current.ETag }),
    );
    assert.equal(await body('policy'), 'cas');

    // PutObject alone is enough without If-Match, not with it.
    await blind.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'blind', Body: 'plain' }));
    const now = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'policy', Body: 'again' }));
    await rejectsWith(
      blind.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'policy', Body: 'denied', IfMatch: now.ETag })),
      'AccessDenied',
      403,
    );
    assert.equal(await body('policy'), 'again');
  });
});
