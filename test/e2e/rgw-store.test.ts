/**
 * The real third-party store the e2e suites also run against (Ceph RGW, test/helpers/rgw.ts):
 * it starts, serves S3, STS and IAM, and behaves as the code that adapts to it assumes —
 * Content-MD5 verified, flexible checksums neither verified nor kept, If-None-Match honoured
 * on PutObject, AssumeRole with a session policy narrowing the role to one key.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  createUploadRole,
  type RgwEndpoint,
  rgwClient,
  rgwUnavailable,
  uniqueBucket,
  useRgw,
} from '../helpers/rgw.ts';

const skip = rgwUnavailable();

describe('Ceph RGW, the real store of the e2e suites', { skip }, () => {
  let rgw: RgwEndpoint;
  let s3: S3Client;
  const bucket = uniqueBucket();

  before(async () => {
    rgw = await useRgw();
    s3 = rgwClient(rgw);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => s3?.destroy());

  test('stores and returns bytes', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.txt', Body: 'hello' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello');
    assert.equal(got.ETag, `"${createHash('md5').update('hello').digest('hex')}"`);
  });

  test('verifies Content-MD5 (BadDigest) and writes nothing', async () => {
    const wrong = createHash('md5').update('other').digest('base64');
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: 'hello', ContentMD5: wrong })),
      (error: Error) => error.name === 'BadDigest',
    );
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5' })), {
      name: 'NotFound',
    });
  });

  test('neither verifies nor keeps flexible checksums', async () => {
    // A wrong CRC32C is accepted and none comes back: why Hoist falls back to Content-MD5 here.
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'crc', Body: 'hello', ChecksumCRC32C: 'AAAAAA==' }),
    );
    assert.ok(put.ETag);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'crc', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumCRC32C, undefined);
  });

  test('honours If-None-Match: * on PutObject', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: '1', IfNoneMatch: '*' }));
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: '2', IfNoneMatch: '*' })),
      (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode === 412,
    );
  });

  test('AssumeRole with a session policy allows exactly one key', async () => {
    const clientConfig = { endpoint: rgw.endpoint, region: rgw.region, credentials: { ...rgw.credentials } };
    const sts = new STSClient(clientConfig);
    const roleArn = await createUploadRole(rgw, {
      roleName: `upload-${bucket}`,
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
      },
    });
    // Compact JSON: RGW does not decode '+' in form bodies, so spaces would break the policy.
    const sessionPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`arn:aws:s3:::${bucket}/only/this`] },
      ],
    });
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'test',
        Policy: sessionPolicy,
        DurationSeconds: 900,
      }),
    );
    assert.match(roleArn, /^arn:aws:iam:::role\//);
    const c = assumed.Credentials;
    assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
    const scoped = rgwClient(rgw, {
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
      },
    });
    try {
      await scoped.send(new PutObjectCommand({ Bucket: bucket, Key: 'only/this', Body: 'ok' }));
      await assert.rejects(
        scoped.send(new PutObjectCommand({ Bucket: bucket, Key: 'only/other', Body: 'no' })),
        {
          name: 'AccessDenied',
        },
      );
      await assert.rejects(scoped.send(new GetObjectCommand({ Bucket: bucket, Key: 'only/this' })), {
        name: 'AccessDenied',
      });
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'only/other' })), {
        name: 'NotFound',
      });
    } finally {
      scoped.destroy();
      sts.destroy();
    }
  });
});
