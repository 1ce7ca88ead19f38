/**
 * Hoist's security promise, tested the way AWS would decide it: credentials from
 * AssumeRole (or GetFederationToken) with a one-key session policy can run a
 * multipart upload of that key and nothing else — every other request is
 * AccessDenied and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetFederationTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { brokerIamConfig, UPLOAD_ACTIONS } from '../helpers/iam-fixtures.ts';
import { objectExists, rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer, tmpDir } from '../helpers/server.ts';

const ACCOUNT = '111122223333';
const BUCKET = 'uploads';
const ALICE_KEY = 'users/alice/u1/video.mp4';
const BROKER = {
  accessKeyId: 'AKIABROKERUSER000001',
  secretAccessKey: 'broker-secret-0123456789-abcdefghijklmn',
};
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/hoist-upload`;

const iamConfig = brokerIamConfig({
  accountId: ACCOUNT,
  accessKey: BROKER,
  bucket: BUCKET,
  prefix: 'users',
  tagSession: true,
  maxSessionDuration: 7200,
  userStatements: [
    { Effect: 'Allow', Action: 'sts:GetFederationToken', Resource: '*' },
    // Federation sessions get (user policy ∩ session policy): the user needs the upload actions itself.
    { Effect: 'Allow', Action: UPLOAD_ACTIONS, Resource: `arn:aws:s3:::${BUCKET}/users/*` },
  ],
});

function sessionPolicy(key: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: UPLOAD_ACTIONS, Resource: `arn:aws:s3:::${BUCKET}/${key}` }],
  });
}

interface TempCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

const denied = (promise: Promise<unknown>, code = 'AccessDenied', status?: number) =>
  rejectsWith(promise, code, status);

describe('STS credentials scoped to one object', () => {
  let server: TestServer;
  let root: S3Client;
  let now = Date.now();
  const cleanup = suiteCleanup();

  const sts = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { ...credentials },
      maxAttempts: 1,
    });
  const s3As = (credentials: TempCredentials) => server.makeClient({ credentials: { ...credentials } });

  before(async () => {
    server = await startTestServer(cleanup, { iam: iamConfig, clock: () => now });
    root = server.client;
    await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await root.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'users/bob/u2/secret.txt', Body: 'bob private' }),
    );
  });

  async function assumeRoleFor(key: string, durationSeconds = 900): Promise<TempCredentials> {
    const out = await sts(BROKER).send(
      new AssumeRoleCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: 'alice-u1',
        Policy: sessionPolicy(key),
        DurationSeconds: durationSeconds,
      }),
    );
    const c = out.Credentials!;
    assert.match(c.AccessKeyId!, /^ASIA/);
    assert.ok(c.Expiration instanceof Date);
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/hoist-upload/alice-u1`);
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
  }

  async function federationFor(key: string): Promise<TempCredentials> {
    const out = await sts(BROKER).send(
      new GetFederationTokenCommand({ Name: 'alice', Policy: sessionPolicy(key), DurationSeconds: 900 }),
    );
    const c = out.Credentials!;
    assert.equal(out.FederatedUser?.Arn, `arn:aws:sts::${ACCOUNT}:federated-user/alice`);
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
  }

  const exists = (key: string) => objectExists(root, BUCKET, key);

  for (const [label, mint] of [
    ['AssumeRole', assumeRoleFor],
    ['GetFederationToken', federationFor],
  ] as const) {
    test(`${label}: the allowed multipart flow works on the one key`, async () => {
      const s3 = s3As(await mint(ALICE_KEY));
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: ALICE_KEY }),
      );
      const part1 = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: ALICE_KEY,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(5 * 1024 * 1024),
        }),
      );
      const part2 = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: ALICE_KEY,
          UploadId,
          PartNumber: 2,
          Body: randomBytes(1000),
        }),
      );
      const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: ALICE_KEY, UploadId }));
      assert.equal(parts.Parts?.length, 2);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: ALICE_KEY,
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: part1.ETag },
              { PartNumber: 2, ETag: part2.ETag },
            ],
          },
        }),
      );
      assert.equal(await exists(ALICE_KEY), true);
      const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: ALICE_KEY }));
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: ALICE_KEY, UploadId: second.UploadId }),
      );
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY, Body: 'single request' }));
    });

    test(`${label}: everything else is AccessDenied and nothing is written`, async () => {
      const s3 = s3As(await mint(ALICE_KEY));
      const other = 'users/alice/u1/other.mp4';
      await denied(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: other, Body: 'x' })));
      await denied(s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: other })));
      await denied(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'users/bob/u2/evil.txt', Body: 'x' })),
      );
      await denied(
        s3.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: 'users/bob/u2/secret.txt', Body: 'overwritten' }),
        ),
      );
      await denied(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY })));
      await denied(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'users/bob/u2/secret.txt' })));
      // HEAD answers carry no body, so the SDK cannot name the code; the status says it (as against AWS).
      await denied(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY })), 'Unknown', 403);
      await denied(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'users/' })));
      await denied(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY })));
      const bulk = await s3.send(
        new DeleteObjectsCommand({
          Bucket: BUCKET,
          Delete: { Objects: [{ Key: ALICE_KEY }, { Key: 'users/bob/u2/secret.txt' }] },
        }),
      );
      assert.deepEqual(
        bulk.Errors?.map((e) => e.Code),
        ['AccessDenied', 'AccessDenied'],
      );
      assert.equal(bulk.Deleted?.length ?? 0, 0);
      await denied(
        s3.send(
          new CopyObjectCommand({
            Bucket: BUCKET,
            Key: ALICE_KEY,
            CopySource: `${BUCKET}/users/bob/u2/secret.txt`,
          }),
        ),
      );
      await denied(
        s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: other, CopySource: `${BUCKET}/${ALICE_KEY}` })),
      );
      await denied(s3.send(new CreateBucketCommand({ Bucket: 'attacker-bucket' })));
      await denied(
        s3.send(
          new PutBucketCorsCommand({
            Bucket: BUCKET,
            CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] },
          }),
        ),
      );
      // Nothing was written or changed by any refused request.
      assert.equal(await exists(other), false);
      assert.equal(await exists('users/bob/u2/evil.txt'), false);
      const bob = await root.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'users/bob/u2/secret.txt' }));
      assert.equal(await bob.Body!.transformToString(), 'bob private');
    });

    test(`${label}: the session cannot widen itself through IAM or STS`, async () => {
      const credentials = await mint(ALICE_KEY);
      const iam = new IAMClient({
        endpoint: server.url,
        region: 'us-east-1',
        credentials: { ...credentials },
        maxAttempts: 1,
      });
      await denied(
        iam.send(
          new CreateRoleCommand({
            RoleName: 'escalate',
            AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
          }),
        ),
      );
      await denied(
        iam.send(
          new PutRolePolicyCommand({
            RoleName: 'hoist-upload',
            PolicyName: 'wide',
            PolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
            }),
          }),
        ),
      );
      await denied(
        sts(credentials).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'wider' })),
      );
      const me = await sts(credentials).send(new GetCallerIdentityCommand({}));
      assert.equal(me.Account, ACCOUNT);
    });
  }

  test('expired credentials are ExpiredToken (server clock moved, no sleeping)', async () => {
    const credentials = await assumeRoleFor(ALICE_KEY, 900);
    await s3As(credentials).send(
      new PutObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY, Body: 'before expiry' }),
    );
    const saved = now;
    now += 901_000;
    try {
      // The client's clock moves with the server's, so the request is not merely skewed.
      const later = server.makeClient({ credentials: { ...credentials }, systemClockOffset: 901_000 });
      await denied(
        later.send(new PutObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY, Body: 'after expiry' })),
        'ExpiredToken',
        400,
      );
    } finally {
      now = saved;
    }
  });

  test('tampered tokens, foreign tokens, missing tokens and wrong secrets are refused', async () => {
    const good = await assumeRoleFor(ALICE_KEY);
    const flipped = `${good.sessionToken.slice(0, 40)}${good.sessionToken[40] === 'A' ? 'B' : 'A'}${good.sessionToken.slice(41)}`;
    await denied(
      s3As({ ...good, sessionToken: flipped }).send(
        new PutObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY, Body: 'x' }),
      ),
      'InvalidToken',
    );
    const { accessKeyId, secretAccessKey } = good;
    await denied(
      server
        .makeClient({ credentials: { accessKeyId, secretAccessKey } })
        .send(new PutObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY, Body: 'x' })),
      'InvalidAccessKeyId',
    );
    await denied(
      s3As({ ...good, secretAccessKey: 'wrong-secret-0000000000000000000000000000' }).send(
        new PutObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY, Body: 'x' }),
      ),
      'SignatureDoesNotMatch',
    );
    // A token sealed by another server (another data directory, another key).
    const otherCleanup: (() => unknown)[] = [];
    const other = await startTestServer(
      { after: (fn) => otherCleanup.push(fn) },
      { iam: iamConfig, dataDir: await tmpDir({ after: (fn) => otherCleanup.push(fn) }) },
    );
    try {
      const foreign = await new STSClient({
        endpoint: other.url,
        region: 'us-east-1',
        credentials: { ...BROKER },
        maxAttempts: 1,
      }).send(
        new AssumeRoleCommand({
          RoleArn: ROLE_ARN,
          RoleSessionName: 'foreign',
          Policy: sessionPolicy(ALICE_KEY),
        }),
      );
      const c = foreign.Credentials!;
      await denied(
        s3As({
          accessKeyId: c.AccessKeyId!,
          secretAccessKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken!,
        }).send(new PutObjectCommand({ Bucket: BUCKET, Key: ALICE_KEY, Body: 'x' })),
        'InvalidToken',
      );
    } finally {
      for (const fn of otherCleanup.reverse()) await fn();
    }
  });

  test('STS refuses what AWS refuses', async () => {
    const rootCredentials = { ...server.rootCredentials };
    await denied(
      sts(rootCredentials).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'root-try' })),
    );
    await denied(
      sts(BROKER).send(
        new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'long', DurationSeconds: 7201 }),
      ),
      'ValidationError',
    );
    await denied(
      sts(BROKER).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'x' })),
      'ValidationError',
    );
    await denied(
      sts(BROKER).send(
        new AssumeRoleCommand({
          RoleArn: ROLE_ARN,
          RoleSessionName: 'bad-policy',
          Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}',
        }),
      ),
      // The SDK names STS's MalformedPolicyDocument code MalformedPolicyDocumentException.
      'MalformedPolicyDocumentException',
    );
    await denied(
      sts(BROKER).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/no-such-role`,
          RoleSessionName: 'nope',
        }),
      ),
    );
    const session = await assumeRoleFor(ALICE_KEY);
    await denied(sts(session).send(new GetFederationTokenCommand({ Name: 'chain' })));
  });
});
