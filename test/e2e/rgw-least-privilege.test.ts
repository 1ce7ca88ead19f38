/**
 * Hoist's least-privilege promise on a store it did not write (Ceph RGW): the upload role
 * built by `hoist aws` (its permission policy) and the broker's one-key session policy,
 * minted by the store's own STS, can run a multipart upload of that one key and nothing
 * else. What RGW cannot enforce — the create-only-if-absent condition — is shown here as the
 * fact the broker's capability probe has to find; the refusal itself is tested with it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { buildSessionPolicy } from '@hoist/broker/internal/session-policy';
import { uploadRolePolicy } from '@hoist/cli/internal/aws/policies';
import {
  createUploadRole,
  type RgwEndpoint,
  rgwClient,
  rgwUnavailable,
  uniqueBucket,
  useRgw,
} from '../helpers/rgw.ts';
import { objectExists, rejectsWith } from '../helpers/s3.ts';

const skip = rgwUnavailable();
const PREFIX = 'users';
const KEY = `${PREFIX}/alice/u1/video.mp4`;
const OTHER = `${PREFIX}/bob/u2/secret.txt`;

describe('one-key credentials from RGW STS, Hoist policies', { skip }, () => {
  let rgw: RgwEndpoint;
  let owner: S3Client;
  let scoped: S3Client;
  const bucket = uniqueBucket('lp');
  const clients: { destroy(): void }[] = [];

  before(async () => {
    rgw = await useRgw();
    owner = rgwClient(rgw);
    clients.push(owner);
    await owner.send(new CreateBucketCommand({ Bucket: bucket }));
    await owner.send(new PutObjectCommand({ Bucket: bucket, Key: OTHER, Body: 'bob private' }));
    const config = { endpoint: rgw.endpoint, region: rgw.region, credentials: { ...rgw.credentials } };
    const sts = new STSClient(config);
    clients.push(sts);
    const roleArn = await createUploadRole(rgw, {
      roleName: `hoist-upload-${bucket}`,
      policy: uploadRolePolicy({ bucket, prefix: PREFIX }),
    });
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'alice-u1',
        Policy: buildSessionPolicy({ bucket, key: KEY }),
        DurationSeconds: 900,
      }),
    );
    const c = out.Credentials;
    assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
    scoped = rgwClient(rgw, {
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
      },
    });
    clients.push(scoped);
  });
  after(() => {
    for (const c of clients) c.destroy();
  });

  test('runs a multipart upload of its key, MD5-verified part by part', async () => {
    const created = await scoped.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: KEY }));
    const uploadId = created.UploadId ?? '';
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(1024);
    const md5 = (b: Buffer) => createHash('md5').update(b).digest();
    const etags: string[] = [];
    for (const [index, body] of [part1, part2].entries()) {
      const out = await scoped.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: KEY,
          UploadId: uploadId,
          PartNumber: index + 1,
          Body: body,
          ContentMD5: md5(body).toString('base64'),
        }),
      );
      assert.equal(out.ETag, `"${md5(body).toString('hex')}"`);
      etags.push(out.ETag ?? '');
    }
    const listed = await scoped.send(new ListPartsCommand({ Bucket: bucket, Key: KEY, UploadId: uploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.Size]),
      [
        [1, part1.length],
        [2, part2.length],
      ],
    );
    // A part whose Content-MD5 does not match its bytes is refused.
    await rejectsWith(
      scoped.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: KEY,
          UploadId: uploadId,
          PartNumber: 3,
          Body: part2,
          ContentMD5: md5(part1).toString('base64'),
        }),
      ),
      'BadDigest',
    );
    await scoped.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: KEY,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    // The multipart ETag is MD5 of the part MD5s, "-N": the chain the broker can verify.
    const head = await owner.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
    const chain = createHash('md5')
      .update(Buffer.concat([md5(part1), md5(part2)]))
      .digest('hex');
    assert.equal(head.ETag, `"${chain}-2"`);
    assert.equal(head.ContentLength, part1.length + part2.length);
  });

  test('can abort its own upload', async () => {
    const created = await scoped.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: KEY }));
    await scoped.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: KEY, UploadId: created.UploadId }),
    );
    const open = await owner.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.ok(!(open.Uploads ?? []).some((u) => u.UploadId === created.UploadId));
  });

  test('cannot read, list, delete or copy', async () => {
    await rejectsWith(scoped.send(new GetObjectCommand({ Bucket: bucket, Key: KEY })), 'AccessDenied');
    await rejectsWith(scoped.send(new GetObjectCommand({ Bucket: bucket, Key: OTHER })), 'AccessDenied');
    await rejectsWith(scoped.send(new ListObjectsV2Command({ Bucket: bucket })), 'AccessDenied');
    await rejectsWith(scoped.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY })), 'AccessDenied');
    await rejectsWith(scoped.send(new DeleteObjectCommand({ Bucket: bucket, Key: OTHER })), 'AccessDenied');
    await rejectsWith(
      scoped.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: `${PREFIX}/alice/u1/copy`,
          CopySource: `${bucket}/${OTHER}`,
        }),
      ),
      'AccessDenied',
    );
    await rejectsWith(
      scoped.send(
        new PutBucketCorsCommand({
          Bucket: bucket,
          CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] },
        }),
      ),
      'AccessDenied',
    );
    assert.equal(
      await owner
        .send(new GetObjectCommand({ Bucket: bucket, Key: OTHER }))
        .then((o) => o.Body?.transformToString()),
      'bob private',
    );
  });

  test('cannot write any other key, prefix or bucket', async () => {
    for (const key of [
      OTHER,
      `${PREFIX}/alice/u1/video.mp4.x`,
      `${PREFIX}/alice/u2/video.mp4`,
      'video.mp4',
    ]) {
      await rejectsWith(
        scoped.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x', IfNoneMatch: '*' })),
        'AccessDenied',
      );
      await rejectsWith(
        scoped.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })),
        'AccessDenied',
      );
    }
    await rejectsWith(scoped.send(new CreateBucketCommand({ Bucket: uniqueBucket('evil') })), 'AccessDenied');
    assert.equal(await objectExists(owner, bucket, 'video.mp4'), false);
    assert.equal(
      await owner
        .send(new GetObjectCommand({ Bucket: bucket, Key: OTHER }))
        .then((o) => o.Body?.transformToString()),
      'bob private',
    );
  });

  test('RGW does not enforce create-only-if-absent: the same credentials overwrite their key', async () => {
    // On AWS (and the local server) this PutObject without If-None-Match is AccessDenied. RGW
    // sets no s3:if-none-match key and its Null operator ignores the value, so the statement
    // is unconditional: why sts mode on such a store refuses to start unless told otherwise.
    assert.equal(await objectExists(owner, bucket, KEY), true, 'the first test completed the key');
    await scoped.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: 'overwritten' }));
    const now = await owner.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }));
    assert.equal(await now.Body?.transformToString(), 'overwritten');
  });
});
