/**
 * The broker's own SigV4 calls (CreateMultipartUpload, AssumeRole, GetFederationToken over
 * node:http, no SDK) against two real stores: Hoist's local S3 + STS and Ceph RGW. What they
 * create must be what the SDK would have created: the object gets the type, disposition and
 * metadata asked for, and the minted credentials work for exactly the one key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createAwsClients, destroyAwsClients } from '@hoist/broker/internal/aws';
import { FULL_CAPABILITIES } from '@hoist/broker/internal/capabilities';
import { buildSessionPolicy } from '@hoist/broker/internal/session-policy';
import { describeStoreError, isUnsupportedOperation } from '@hoist/broker/internal/store-errors';
import { directCalls, type UpstreamCalls } from '@hoist/broker/internal/upstream/calls';
import { StoreCallError } from '@hoist/broker/internal/upstream/signed-http';
import {
  BROKER_KEYS,
  BUCKET,
  brokerConfig,
  PREFIX,
  ROLE_ARN,
  startBrokerBackend,
  startTestBroker,
} from '../helpers/broker.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { createUploadRole, rgwClient, rgwUnavailable, uniqueBucket, useRgw } from '../helpers/rgw.ts';
import { rejectsWith } from '../helpers/s3.ts';

const TIMEOUTS = { connectTimeoutMs: 5_000, requestTimeoutMs: 60_000 };

interface Store {
  endpoint: string;
  region: string;
  bucket: string;
  keys: { accessKeyId: string; secretAccessKey: string };
  roleArn: string;
  owner: S3Client;
  federation: boolean;
}

function callsFor(store: Store, keys = store.keys): UpstreamCalls {
  return directCalls({
    s3: { endpoint: store.endpoint, region: store.region, bucket: store.bucket, forcePathStyle: true },
    identity: () => Promise.resolve(keys),
    timeouts: TIMEOUTS,
  });
}

type Cleanup = { after(fn: () => unknown): void };

function suite(name: string, open: (t: Cleanup) => Promise<Store>, skip: string | false = false): void {
  describe(`the broker's direct store calls on ${name}`, { skip }, () => {
    let store: Store;
    let calls: UpstreamCalls;
    const cleanups: (() => unknown)[] = [];
    before(async () => {
      store = await open({ after: (fn) => cleanups.push(fn) });
      calls = callsFor(store);
    });
    after(async () => {
      calls?.close();
      for (const fn of cleanups.reverse()) await fn();
    });

    test('CreateMultipartUpload sets type, disposition and metadata; AssumeRole credentials upload to that key only', async () => {
      const key = `${PREFIX}/alice/u1/a b+c ü.txt`;
      const uploadId = await calls.createMultipartUpload({
        key,
        contentType: 'text/plain',
        contentDisposition: `attachment; filename="a b+c u.txt"; filename*=UTF-8''a%20b%2Bc%20%C3%BC.txt`,
        metadata: { 'hoist-user': 'alice', 'hoist-filename': encodeURIComponent('a b+c ü.txt') },
      });
      assert.match(uploadId, /\S/);
      const credentials = await calls.mint({
        mode: 'sts',
        policy: buildSessionPolicy({ bucket: store.bucket, key }),
        userId: 'alice@example.com',
        id: 'u1',
        durationSeconds: 900,
        roleArn: store.roleArn,
      });
      assert.ok(Date.parse(credentials.expiration) > Date.now());
      const scoped = new S3Client({
        endpoint: store.endpoint,
        region: store.region,
        forcePathStyle: true,
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
        },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        maxAttempts: 1,
      });
      try {
        const part = await scoped.send(
          new UploadPartCommand({
            Bucket: store.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: 1,
            Body: 'hello',
          }),
        );
        await rejectsWith(
          scoped.send(new PutObjectCommand({ Bucket: store.bucket, Key: `${PREFIX}/bob/x`, Body: 'no' })),
          'AccessDenied',
        );
        await store.owner.send(
          new CompleteMultipartUploadCommand({
            Bucket: store.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        );
      } finally {
        scoped.destroy();
      }
      const head = await store.owner.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
      assert.equal(head.ContentLength, 5);
      assert.equal(head.ContentType, 'text/plain');
      assert.equal(
        head.ContentDisposition,
        `attachment; filename="a b+c u.txt"; filename*=UTF-8''a%20b%2Bc%20%C3%BC.txt`,
      );
      assert.deepEqual(head.Metadata, { 'hoist-user': 'alice', 'hoist-filename': 'a%20b%2Bc%20%C3%BC.txt' });
    });

    test('GetFederationToken: credentials where the store has it, its refusal named where it has not', async () => {
      const minting = calls.mint({
        mode: 'federation',
        policy: buildSessionPolicy({ bucket: store.bucket, key: `${PREFIX}/alice/u2/f` }),
        userId: 'alice',
        id: 'u2',
        durationSeconds: 900,
      });
      if (store.federation) assert.match((await minting).sessionToken, /\S/);
      else
        await assert.rejects(minting, (error: unknown) => {
          assert.ok(isUnsupportedOperation(describeStoreError(error)), String(error));
          return true;
        });
    });

    test("a wrong secret is the store's own refusal (403, its code)", async () => {
      const wrong = callsFor(store, { ...store.keys, secretAccessKey: `${store.keys.secretAccessKey}x` });
      try {
        await assert.rejects(
          wrong.createMultipartUpload({
            key: `${PREFIX}/alice/u3/x`,
            contentType: 'a/b',
            contentDisposition: 'attachment',
            metadata: {},
          }),
          (error: unknown) =>
            error instanceof StoreCallError &&
            error.$metadata.httpStatusCode === 403 &&
            // RGW says AccessDenied where AWS (and the local server) say SignatureDoesNotMatch.
            ['SignatureDoesNotMatch', 'AccessDenied'].includes(error.name),
        );
      } finally {
        wrong.close();
      }
    });
  });
}

suite('the local S3 + STS server', async (t) => {
  const server = await startBrokerBackend(t);
  return {
    endpoint: server.url,
    region: server.region,
    bucket: BUCKET,
    keys: { ...BROKER_KEYS },
    roleArn: ROLE_ARN,
    owner: server.client,
    federation: true,
  };
});

const skip = rgwUnavailable();
suite(
  'Ceph RGW',
  async (t) => {
    const rgw = await useRgw();
    const owner = rgwClient(rgw);
    t.after(() => owner.destroy());
    const bucket = uniqueBucket('direct');
    await owner.send(new CreateBucketCommand({ Bucket: bucket }));
    const roleArn = await createUploadRole(rgw, {
      roleName: `direct-${bucket}`,
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: [`arn:aws:s3:::${bucket}/${PREFIX}/*`] }],
      },
    });
    return {
      endpoint: rgw.endpoint,
      region: rgw.region,
      bucket,
      keys: { ...rgw.credentials },
      roleArn,
      owner,
      federation: false,
    };
  },
  skip,
);

test('a broker given SDK clients (deps.s3, deps.sts) makes its per-upload calls through them', async (t) => {
  const server = await startBrokerBackend(t);
  const config = brokerConfig(server, 'sts');
  const sdk = createAwsClients(config);
  t.after(() => destroyAwsClients(sdk));
  const sent: string[] = [];
  for (const client of [sdk.s3, sdk.sts] as { send: (command: object) => Promise<unknown> }[]) {
    const send = client.send.bind(client);
    client.send = (command: object) => {
      sent.push(command.constructor.name);
      return send(command);
    };
  }
  const broker = await startTestBroker(t, config, { s3: sdk.s3, sts: sdk.sts });
  const created = await broker.api('alice', 'POST', '/uploads', {
    filename: 'a.bin',
    size: 20 * 1024 * 1024,
    contentType: 'application/octet-stream',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.ok(created.body.credentials?.sessionToken);
  assert.ok(sent.includes('CreateMultipartUploadCommand'), sent.join(', '));
  assert.ok(sent.includes('AssumeRoleCommand'), sent.join(', '));
});

test('sts mode asks STS while S3 creates the multipart upload; a create that fails keeps nothing', async (t) => {
  const server = await startBrokerBackend(t);
  const proxy = await startFaultProxy(server.url);
  t.after(() => proxy.close());
  // S3 never answers CreateMultipartUpload: a broker that waited for it before asking STS
  // would never send AssumeRole at all.
  proxy.setRule((request) =>
    request.method === 'POST' && request.url.endsWith('?uploads') ? { kind: 'stall' } : undefined,
  );
  const config = brokerConfig(server, 'sts', {
    upstream: { connectTimeoutMs: 2000, requestTimeoutMs: 1000 },
    s3: {
      endpoint: proxy.url,
      region: server.region,
      bucket: BUCKET,
      forcePathStyle: true,
      credentials: { ...BROKER_KEYS },
    },
    sts: { endpoint: proxy.url, roleArn: ROLE_ARN, durationSeconds: 900 },
  });
  const broker = await startTestBroker(t, config, { capabilities: { ...FULL_CAPABILITIES } });
  const created = await broker.api('alice', 'POST', '/uploads', {
    filename: 'a.bin',
    size: 20 * 1024 * 1024,
    contentType: 'application/octet-stream',
  });
  assert.equal(created.status, 504, JSON.stringify(created.body));
  const assumeRole = proxy.log.filter((e) => e.request.method === 'POST' && e.request.url === '/');
  assert.equal(assumeRole.length, 1, 'AssumeRole went out while CreateMultipartUpload hung');
  assert.equal(assumeRole[0]?.status, 200);
  // Nothing was kept: no upload in the registry, no multipart upload in the bucket.
  const listed = await broker.api('alice', 'GET', '/uploads');
  assert.deepEqual(listed.body.uploads, []);
  const open = await server.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.deepEqual(open.Uploads ?? [], []);
});
