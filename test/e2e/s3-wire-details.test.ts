/**
 * Smaller wire details where S3 has a definite answer: Expect handling, Content-Encoding
 * kept as sent, SSE-C without its algorithm, generated lifecycle rule IDs, CreateBucket's
 * ACL and location refusals, no cap on the number of signed headers, CONNECT answered.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectAclCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketAclCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { codeOf, sendRaw, signRaw } from '../helpers/raw.ts';
import { objectExists, rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const BUCKET = 'details';

/** Writes the head, reads what the server says before any body is sent, then optionally the body. */
function exchange(url: string, head: string, body?: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let received = '';
    let sentBody = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (body !== undefined && !sentBody && received.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sentBody = true;
        socket.write(body);
      }
      if (/\r\n\r\n[\s\S]*<\/Error>|HTTP\/1\.1 200[\s\S]*\r\n\r\n$/.test(received)) socket.end();
    });
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, 3000);
  });
}

function headOf(method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n')}\r\n\r\n`;
}

describe('wire details', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, { buckets: [BUCKET] });
    s3 = server.client;
  });

  test('Expect: 100-continue is answered 403 before any 100 when the signature is wrong; 100 then 200 when right', async () => {
    const body = 'continued';
    const good = await signRaw({
      url: server.url,
      method: 'PUT',
      path: `/${BUCKET}/continued`,
      headers: { 'content-length': String(body.length), expect: '100-continue' },
      body,
      credentials: TEST_CREDENTIALS,
    });
    const bad = await signRaw({
      url: server.url,
      method: 'PUT',
      path: `/${BUCKET}/refused`,
      headers: { 'content-length': String(body.length), expect: '100-continue' },
      body,
      credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong-secret' },
    });
    const refused = await exchange(server.url, headOf('PUT', bad.path, bad.headers));
    assert.match(refused, /^HTTP\/1\.1 403 /, refused.slice(0, 200));
    assert.doesNotMatch(refused, /100 Continue/);
    assert.equal(codeOf(refused), 'SignatureDoesNotMatch');

    const accepted = await exchange(server.url, headOf('PUT', good.path, good.headers), body);
    assert.match(accepted, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, accepted.slice(0, 200));
    assert.equal(await objectExists(s3, BUCKET, 'continued'), true);
    assert.equal(await objectExists(s3, BUCKET, 'refused'), false);
  });

  test('an Expect value other than 100-continue is ignored, as S3 does (no 417)', async () => {
    const answer = await sendRaw({
      url: server.url,
      method: 'PUT',
      path: `/${BUCKET}/expect-other`,
      headers: { expect: 'something-else', 'content-length': '1' },
      body: 'x',
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(answer.status, 200, answer.body);
  });

  test('Content-Encoding comes back as sent ("deflate, gzip"), aws-chunked aside', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'encoded', Body: 'x', ContentEncoding: 'deflate, gzip' }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'encoded' }));
    assert.equal(head.ContentEncoding, 'deflate, gzip');
  });

  test('SSE-C key headers without the algorithm are 400 InvalidArgument; nothing is written', async () => {
    const answer = await sendRaw({
      url: server.url,
      method: 'PUT',
      path: `/${BUCKET}/ssec`,
      headers: {
        'x-amz-server-side-encryption-customer-key': Buffer.alloc(32, 1).toString('base64'),
        'x-amz-server-side-encryption-customer-key-md5': 'AAAAAAAAAAAAAAAAAAAAAA==',
      },
      body: 'x',
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(answer.status, 400, answer.body);
    assert.equal(codeOf(answer.body), 'InvalidArgument');
    assert.equal(await objectExists(s3, BUCKET, 'ssec'), false);
  });

  test('a lifecycle rule sent without an ID gets one', async () => {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: BUCKET,
        LifecycleConfiguration: {
          Rules: [
            { Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
            { ID: 'named', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 2 } },
          ],
        },
      }),
    );
    const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: BUCKET }))).Rules ?? [];
    assert.equal(rules.length, 2);
    assert.match(rules[0]?.ID ?? '', /^[A-Za-z0-9+/=]{20,255}$/);
    assert.equal(rules[1]?.ID, 'named');
  });

  test('CreateBucket: a public ACL and an explicit us-east-1 constraint are refused as S3 does; no bucket', async () => {
    await rejectsWith(
      s3.send(new CreateBucketCommand({ Bucket: 'public-one', ACL: 'public-read' })),
      'InvalidBucketAclWithObjectOwnership',
      400,
    );
    await rejectsWith(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'east-one',
          CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never },
        }),
      ),
      'InvalidLocationConstraint',
      400,
    );
    for (const Bucket of ['public-one', 'east-one'])
      await rejectsWith(s3.send(new HeadBucketCommand({ Bucket })), 'NotFound', 404);
  });

  test('a request signing more than 64 headers is accepted (AWS has no such cap)', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 70; i++) headers[`x-amz-meta-h${i}`] = String(i);
    const answer = await sendRaw({
      url: server.url,
      method: 'PUT',
      path: `/${BUCKET}/many-headers`,
      headers,
      body: 'x',
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(answer.status, 200, answer.body);
  });

  test('CONNECT is answered 405 MethodNotAllowed, not a silently closed socket', async () => {
    const answer = await exchange(
      server.url,
      `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 405 /);
    assert.equal(codeOf(answer), 'MethodNotAllowed');
  });
});

describe('unimplemented sub-resources are authorized first', () => {
  let server: TestServer;
  const cleanup = suiteCleanup();
  const READER = {
    accessKeyId: 'AKIASUBRESOURCE00001',
    secretAccessKey: 'subresource-secret-0123456789abcdefghij',
  };

  before(async () => {
    server = await startTestServer(cleanup, {
      buckets: [BUCKET],
      iam: {
        accountId: '111122223333',
        users: [
          {
            name: 'policy-reader',
            accessKeys: [{ ...READER }],
            policies: {
              read: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: 's3:GetBucketPolicy', Resource: `arn:aws:s3:::${BUCKET}` },
                  { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
                ],
              },
            },
          },
        ],
      },
    });
  });

  const get = (query: Record<string, string>, path = `/${BUCKET}`, method = 'GET') =>
    sendRaw({ url: server.url, method, path, query, credentials: READER });

  test('without the permission AccessDenied, with it NotImplemented; root always NotImplemented', async () => {
    const allowed = await get({ policy: '' });
    assert.equal(allowed.status, 501, allowed.body);
    assert.equal(codeOf(allowed.body), 'NotImplemented');
    for (const [query, path, method] of [
      [{ policy: '' }, `/${BUCKET}`, 'PUT'],
      [{ tagging: '' }, `/${BUCKET}`, 'GET'],
      [{ website: '' }, `/${BUCKET}`, 'GET'],
      [{ acl: '' }, `/${BUCKET}/k`, 'PUT'],
      [{ retention: '' }, `/${BUCKET}/k`, 'GET'],
    ] as const) {
      const denied = await get(query, path, method);
      assert.equal(denied.status, 403, `${method} ${path}?${Object.keys(query)[0]}: ${denied.body}`);
      assert.equal(codeOf(denied.body), 'AccessDenied');
    }
    const root = await sendRaw({
      url: server.url,
      path: `/${BUCKET}`,
      query: { website: '' },
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(codeOf(root.body), 'NotImplemented');
  });
});

describe('ACLs as a bucket-owner-enforced bucket answers them', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, { buckets: [BUCKET] });
    s3 = server.client;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'x' }));
  });

  test('GetBucketAcl and GetObjectAcl answer the owner with FULL_CONTROL; a missing key is NoSuchKey', async () => {
    for (const acl of [
      await s3.send(new GetBucketAclCommand({ Bucket: BUCKET })),
      await s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'k' })),
    ]) {
      assert.ok(acl.Owner?.ID);
      assert.equal(acl.Grants?.length, 1);
      assert.equal(acl.Grants?.[0]?.Permission, 'FULL_CONTROL');
      assert.equal(acl.Grants?.[0]?.Grantee?.Type, 'CanonicalUser');
      assert.equal(acl.Grants?.[0]?.Grantee?.ID, acl.Owner?.ID);
    }
    await rejectsWith(s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'absent' })), 'NoSuchKey', 404);
  });

  test('PutBucketAcl and PutObjectAcl are 400 AccessControlListNotSupported', async () => {
    await rejectsWith(
      s3.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: 'private' })),
      'AccessControlListNotSupported',
      400,
    );
    await rejectsWith(
      s3.send(new PutObjectAclCommand({ Bucket: BUCKET, Key: 'k', ACL: 'public-read' })),
      'AccessControlListNotSupported',
      400,
    );
  });
});
