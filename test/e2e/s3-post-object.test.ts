/**
 * POST Object (browser form upload with a SigV4 POST policy): forms built and signed by
 * the official @aws-sdk/s3-presigned-post, sent as a browser would (fetch + FormData);
 * the error cases with forms signed here by hand (node:crypto, independently of the server).
 * Temporary credentials and their session policies bind a form as they bind a PUT.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { brokerIamConfig } from '../helpers/iam-fixtures.ts';
import { codeOf } from '../helpers/raw.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const ACCOUNT = '111122223333';
const BUCKET = 'forms';
const BROKER = {
  accessKeyId: 'AKIABROKERPOST000001',
  secretAccessKey: 'broker-post-secret-0123456789-abcdefgh',
};
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/hoist-upload`;
const ORIGIN = 'https://app.example';
/** S3's form variable, replaced by the uploaded file's name. */
const FILENAME = '$' + '{filename}';

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** `yyyymmddThhmmssZ` */
function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** A form signed here, by AWS's documented recipe: signature = hex(HMAC(kSigning, base64(policy))). */
function signedForm(
  credentials: Credentials,
  now: number,
  policy: { expiration: string; conditions: unknown[] },
  fields: Record<string, string>,
): Record<string, string> {
  const date = amzDate(now);
  const credential = `${credentials.accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const base = {
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': date,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const document = {
    expiration: policy.expiration,
    conditions: [...policy.conditions, ...Object.entries(base).map(([name, value]) => ({ [name]: value }))],
  };
  const encoded = Buffer.from(JSON.stringify(document)).toString('base64');
  let key: Buffer = createHmac('sha256', `AWS4${credentials.secretAccessKey}`)
    .update(date.slice(0, 8))
    .digest();
  for (const part of ['us-east-1', 's3', 'aws4_request'])
    key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(encoded).digest('hex');
  return { ...fields, ...base, policy: encoded, 'x-amz-signature': signature };
}

/** Sends the fields then the file, in order, as a browser's FormData does. */
async function postForm(
  url: string,
  fields: Record<string, string>,
  file: { data: Buffer | string; name?: string } | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file)
    form.append(
      'file',
      new Blob([typeof file.data === 'string' ? file.data : new Uint8Array(file.data)]),
      file.name ?? 'upload.bin',
    );
  const response = await fetch(url, { method: 'POST', body: form, headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** The XML error message, entities decoded. */
function messageOf(body: string): string {
  const raw = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '';
  return raw
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The package pins its own client-s3 build; at run time it reads only the client's config. */
const presign = (client: S3Client, options: Parameters<typeof createPresignedPost>[1]) =>
  createPresignedPost(client as unknown as Parameters<typeof createPresignedPost>[0], options);

describe('POST Object (browser form upload)', () => {
  let server: TestServer;
  let s3: S3Client;
  let url: string;
  let now = Date.now();
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, {
      clock: () => now,
      buckets: [BUCKET],
      iam: brokerIamConfig({ accountId: ACCOUNT, accessKey: BROKER, bucket: BUCKET, prefix: 'users' }),
    });
    s3 = server.client;
    url = `${server.url}/${BUCKET}`;
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['POST'], ExposeHeaders: ['ETag'] }],
        },
      }),
    );
  });

  async function assumeRole(key: string): Promise<Credentials> {
    const sts = new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { ...BROKER },
      maxAttempts: 1,
    });
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: 'form',
        DurationSeconds: 900,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/${key}` }],
        }),
      }),
    );
    sts.destroy();
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
  }

  const expiresIn = (seconds: number) => new Date(now + seconds * 1000).toISOString();

  test('a form signed by @aws-sdk/s3-presigned-post uploads, with the filename variable, metadata, 201 PostResponse and CORS', async () => {
    const { url: formUrl, fields } = await presign(s3, {
      Bucket: BUCKET,
      Key: `uploads/${FILENAME}`,
      Conditions: [
        ['starts-with', '$key', 'uploads/'],
        ['content-length-range', 1, 1024 * 1024],
        ['starts-with', '$Content-Type', 'text/'],
      ],
      Fields: { 'Content-Type': 'text/plain', 'x-amz-meta-owner': 'alice', success_action_status: '201' },
      Expires: 600,
    });
    assert.equal(formUrl, url);
    const answer = await postForm(
      formUrl,
      fields,
      { data: 'hello form', name: 'C:\\docs\\hello.txt' },
      { origin: ORIGIN },
    );
    assert.equal(answer.status, 201, answer.body);
    assert.match(
      answer.body,
      /^<\?xml[^>]*>\s*<PostResponse><Location>[^<]+\/forms\/uploads\/hello.txt<\/Location><Bucket>forms<\/Bucket><Key>uploads\/hello.txt<\/Key><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/PostResponse>$/,
    );
    assert.equal(answer.headers.get('access-control-allow-origin'), ORIGIN);
    const expected = `"${createHash('md5').update('hello form').digest('hex')}"`;
    assert.equal(answer.headers.get('etag'), expected);
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/hello.txt' }));
    assert.equal(await object.Body?.transformToString(), 'hello form');
    assert.equal(object.ContentType, 'text/plain');
    assert.deepEqual(object.Metadata, { owner: 'alice' });
  });

  test('success_action_redirect answers 303 to the URL with bucket, key and ETag; the default is 204', async () => {
    const redirect = await presign(s3, {
      Bucket: BUCKET,
      Key: 'redirected.txt',
      Fields: { success_action_redirect: 'https://app.example/done?x=1' },
      Expires: 600,
    });
    const answer = await postForm(redirect.url, redirect.fields, { data: 'r' });
    assert.equal(answer.status, 303, answer.body);
    const location = new URL(answer.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, 'https://app.example/done');
    assert.equal(location.searchParams.get('x'), '1');
    assert.equal(location.searchParams.get('bucket'), BUCKET);
    assert.equal(location.searchParams.get('key'), 'redirected.txt');
    assert.match(location.searchParams.get('etag') ?? '', /^"[0-9a-f]{32}"$/);

    const plain = await presign(s3, { Bucket: BUCKET, Key: 'plain.txt', Expires: 600 });
    const done = await postForm(plain.url, plain.fields, { data: 'p' });
    assert.equal(done.status, 204, done.body);
    assert.equal(
      (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'plain.txt' }))).ContentLength,
      1,
    );
  });

  test('checksum fields are verified (BadDigest, nothing written) and stored; SSE AES256 is accepted, KMS refused', async () => {
    const sha256 = createHash('sha256').update('summed').digest('base64');
    const good = await presign(s3, {
      Bucket: BUCKET,
      Key: 'summed.txt',
      Fields: { 'x-amz-checksum-sha256': sha256, 'x-amz-server-side-encryption': 'AES256' },
      Expires: 600,
    });
    const ok = await postForm(good.url, good.fields, { data: 'summed' });
    assert.equal(ok.status, 204, ok.body);
    assert.equal(ok.headers.get('x-amz-checksum-sha256'), sha256);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'summed.txt', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumSHA256, sha256);

    const wrong = await presign(s3, {
      Bucket: BUCKET,
      Key: 'wrong-sum.txt',
      Fields: { 'x-amz-checksum-sha256': sha256 },
      Expires: 600,
    });
    const bad = await postForm(wrong.url, wrong.fields, { data: 'other bytes' });
    assert.equal(bad.status, 400);
    assert.equal(codeOf(bad.body), 'BadDigest');
    assert.equal(await objectExists(s3, BUCKET, 'wrong-sum.txt'), false);

    const kms = await presign(s3, {
      Bucket: BUCKET,
      Key: 'kms.txt',
      Fields: { 'x-amz-server-side-encryption': 'aws:kms' },
      Expires: 600,
    });
    const refused = await postForm(kms.url, kms.fields, { data: 'k' });
    assert.equal(codeOf(refused.body), 'NotImplemented');
    assert.equal(await objectExists(s3, BUCKET, 'kms.txt'), false);
  });

  test('temporary credentials: the session policy decides the key, as for PUT; an expired session is refused', async () => {
    const credentials = await assumeRole('users/alice/avatar.png');
    const client = server.makeClient({ credentials: { ...credentials } });
    const allowed = await presign(client, {
      Bucket: BUCKET,
      Key: 'users/alice/avatar.png',
      Expires: 600,
    });
    assert.ok(allowed.fields['X-Amz-Security-Token'] ?? allowed.fields['x-amz-security-token']);
    const ok = await postForm(allowed.url, allowed.fields, { data: 'png' });
    assert.equal(ok.status, 204, ok.body);

    // The role may write users/*, the session only its one key.
    const other = await presign(client, {
      Bucket: BUCKET,
      Key: 'users/bob/avatar.png',
      Expires: 600,
    });
    const denied = await postForm(other.url, other.fields, { data: 'png' });
    assert.equal(denied.status, 403, denied.body);
    assert.equal(codeOf(denied.body), 'AccessDenied');
    assert.equal(await objectExists(s3, BUCKET, 'users/bob/avatar.png'), false);

    // The token is part of the signed form: dropping it leaves an ASIA key without its session.
    const { 'X-Amz-Security-Token': _token, ...withoutToken } = allowed.fields;
    const missing = await postForm(allowed.url, withoutToken, { data: 'png' });
    assert.equal(missing.status, 403, missing.body);

    const saved = now;
    now += 16 * 60 * 1000;
    try {
      const late = await postForm(allowed.url, allowed.fields, { data: 'late' });
      assert.equal(codeOf(late.body), 'ExpiredToken', late.body);
    } finally {
      now = saved;
    }
    client.destroy();
  });

  test('policy violations are 403 "Invalid according to Policy" and write nothing', async () => {
    const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', 'docs/'], ['content-length-range', 2, 8]];
    const send = (
      fields: Record<string, string>,
      policy = { expiration: expiresIn(60), conditions },
      data = 'abcd',
    ) => postForm(url, signedForm(TEST_CREDENTIALS, now, policy, fields), { data });

    const ok = await send({ key: 'docs/ok.txt' });
    assert.equal(ok.status, 204, ok.body);

    const outside = await send({ key: 'secret/x.txt' });
    assert.equal(outside.status, 403);
    assert.equal(codeOf(outside.body), 'AccessDenied');
    assert.equal(
      messageOf(outside.body),
      'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "docs/"]',
    );

    const extra = await send({ key: 'docs/extra.txt', 'x-amz-meta-sneaky': '1' });
    assert.equal(extra.status, 403);
    assert.equal(messageOf(extra.body), 'Invalid according to Policy: Extra input fields: x-amz-meta-sneaky');

    const ignored = await send({ key: 'docs/ignored.txt', 'x-ignore-anything': '1' });
    assert.equal(ignored.status, 204, ignored.body);

    const expired = await send({ key: 'docs/late.txt' }, { expiration: expiresIn(-1), conditions });
    assert.equal(expired.status, 403);
    assert.equal(messageOf(expired.body), 'Invalid according to Policy: Policy expired.');

    const otherBucket = await send(
      { key: 'docs/b.txt' },
      { expiration: expiresIn(60), conditions: [{ bucket: 'elsewhere' }, ...conditions.slice(1)] },
    );
    assert.equal(otherBucket.status, 403);
    assert.equal(
      messageOf(otherBucket.body),
      'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "elsewhere"]',
    );

    const large = await send({ key: 'docs/large.txt' }, undefined, '123456789');
    assert.equal(large.status, 400);
    assert.equal(codeOf(large.body), 'EntityTooLarge');
    const small = await send({ key: 'docs/small.txt' }, undefined, '1');
    assert.equal(small.status, 400);
    assert.equal(codeOf(small.body), 'EntityTooSmall');

    for (const key of [
      'secret/x.txt',
      'docs/extra.txt',
      'docs/late.txt',
      'docs/b.txt',
      'docs/large.txt',
      'docs/small.txt',
    ])
      assert.equal(await objectExists(s3, BUCKET, key), false, key);
  });

  test('bad signatures, unsigned forms, bad policies and broken bodies get S3 errors, nothing written', async () => {
    const policy = { expiration: expiresIn(60), conditions: [['starts-with', '$key', '']] };
    const good = signedForm(TEST_CREDENTIALS, now, policy, { key: 'broken.txt' });

    const tampered = await postForm(url, { ...good, 'x-amz-signature': '0'.repeat(64) }, { data: 'x' });
    assert.equal(tampered.status, 403);
    assert.equal(codeOf(tampered.body), 'SignatureDoesNotMatch');

    const wrongKey = signedForm({ ...TEST_CREDENTIALS, secretAccessKey: 'not-the-secret' }, now, policy, {
      key: 'broken.txt',
    });
    assert.equal(codeOf((await postForm(url, wrongKey, { data: 'x' })).body), 'SignatureDoesNotMatch');

    const anonymous = await postForm(url, { key: 'broken.txt' }, { data: 'x' });
    assert.equal(anonymous.status, 403);
    assert.equal(codeOf(anonymous.body), 'AccessDenied');

    const noFile = await postForm(url, good, undefined);
    assert.equal(noFile.status, 400);
    assert.equal(codeOf(noFile.body), 'InvalidArgument');
    assert.match(noFile.body, /exactly one file/);

    const { key: _key, ...noKey } = good;
    const keyless = await postForm(url, noKey, { data: 'x' });
    assert.equal(codeOf(keyless.body), 'InvalidArgument');
    assert.match(messageOf(keyless.body), /must contain a field named 'key'/);

    const notJson = { ...good, policy: Buffer.from('{not json').toString('base64') };
    const badPolicy = await postForm(url, notJson, { data: 'x' });
    // The signature covers the policy, so a changed policy is first a signature mismatch.
    assert.equal(codeOf(badPolicy.body), 'SignatureDoesNotMatch');
    const signedNotJson = signedForm(TEST_CREDENTIALS, now, policy, { key: 'broken.txt' });
    const encoded = Buffer.from('{"expiration": 5}').toString('base64');
    let signingKey: Buffer = createHmac('sha256', `AWS4${TEST_CREDENTIALS.secretAccessKey}`)
      .update(amzDate(now).slice(0, 8))
      .digest();
    for (const part of ['us-east-1', 's3', 'aws4_request'])
      signingKey = createHmac('sha256', signingKey).update(part).digest();
    const invalid = await postForm(
      url,
      {
        ...signedNotJson,
        policy: encoded,
        'x-amz-signature': createHmac('sha256', signingKey).update(encoded).digest('hex'),
      },
      { data: 'x' },
    );
    assert.equal(invalid.status, 400);
    assert.equal(codeOf(invalid.body), 'InvalidPolicyDocument');

    // A body cut before the closing boundary.
    const boundary = 'hoistboundary';
    const head = Object.entries(good)
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      )
      .join('');
    const cut = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `${head}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nno end`,
    });
    assert.equal(cut.status, 400);
    assert.equal(codeOf(await cut.text()), 'MalformedPOSTRequest');

    const huge = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="x-ignore-pad"\r\n\r\n${'p'.repeat(30_000)}\r\n--${boundary}--\r\n`,
    });
    assert.equal(huge.status, 400);
    assert.equal(codeOf(await huge.text()), 'MaxPostPreDataLengthExceededError');

    assert.equal(await objectExists(s3, BUCKET, 'broken.txt'), false);
  });
});
