/**
 * `encoding-type=url` listings through the SDK (v3 hands the encoded values back as sent):
 * keys percent-encoded with `/` kept and a space as `+`, a literal `+` as `%2B`.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { codeOf, sendRaw } from '../helpers/raw.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const BUCKET = 'encoded';
const KEYS = ['run books/a b.txt', 'run books/x+y.txt', '100%.csv', '한글/x.txt'];
const ENCODED = ['100%25.csv', 'run+books/a+b.txt', 'run+books/x%2By.txt', '%ED%95%9C%EA%B8%80/x.txt'];

describe('encoding-type=url', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, { buckets: [BUCKET] });
    s3 = server.client;
    for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
  });

  test('ListObjectsV2, ListObjects and ListObjectVersions encode keys with / kept and space as +', async () => {
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: 'url' }));
    assert.equal(v2.EncodingType, 'url');
    assert.deepEqual(
      v2.Contents?.map((c) => c.Key),
      ENCODED,
    );
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: BUCKET, EncodingType: 'url' }));
    assert.deepEqual(
      v1.Contents?.map((c) => c.Key),
      ENCODED,
    );
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, EncodingType: 'url' }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Key),
      ENCODED,
    );
    const grouped = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: 'url', Delimiter: '/', Prefix: 'run books/' }),
    );
    assert.equal(grouped.Prefix, 'run+books/');
    assert.equal(grouped.Delimiter, '/');
    const top = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: 'url', Delimiter: '/' }),
    );
    assert.deepEqual(
      top.CommonPrefixes?.map((p) => p.Prefix),
      ['run+books/', '%ED%95%9C%EA%B8%80/'],
    );
    // Without the parameter, keys come back as they are.
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.deepEqual(
      plain.Contents?.map((c) => c.Key),
      ['100%.csv', 'run books/a b.txt', 'run books/x+y.txt', '한글/x.txt'],
    );
  });

  test('ListMultipartUploads encodes the same way; another encoding-type is InvalidArgument', async () => {
    await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'up load/part 1' }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, EncodingType: 'url' }));
    assert.deepEqual(
      uploads.Uploads?.map((u) => u.Key),
      ['up+load/part+1'],
    );
    const refused = await sendRaw({
      url: server.url,
      path: `/${BUCKET}`,
      query: { 'list-type': '2', 'encoding-type': 'base64' },
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(refused.status, 400);
    assert.equal(codeOf(refused.body), 'InvalidArgument');
  });
});
