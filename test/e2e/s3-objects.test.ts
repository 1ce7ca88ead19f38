/** Object operations through the official AWS SDK v3 against the real local server. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

async function body(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('objects', () => {
  let server: TestServer;
  let s3: S3Client;
  const bucket = 'objects';

  before(async () => {
    server = await startTestServer(cleanup);
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  const cleanup = suiteCleanup();

  test('PutObject then GetObject round-trips bytes, headers and metadata', async () => {
    const data = randomBytes(100_000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'dir/a.bin',
        Body: data,
        ContentType: 'video/mp4',
        ContentDisposition: 'attachment; filename="a.bin"',
        CacheControl: 'max-age=60',
        ContentLanguage: 'en',
        Metadata: { owner: 'alice', purpose: 'test' },
      }),
    );
    assert.equal(put.ETag, `"${createHash('md5').update(data).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/a.bin' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), data);
    assert.equal(got.ContentType, 'video/mp4');
    assert.equal(got.ContentDisposition, 'attachment; filename="a.bin"');
    assert.equal(got.CacheControl, 'max-age=60');
    assert.equal(got.ContentLanguage, 'en');
    assert.equal(got.ContentLength, data.length);
    assert.deepEqual(got.Metadata, { owner: 'alice', purpose: 'test' });
    assert.equal(got.ETag, put.ETag);
  });

  test('every checksum algorithm is verified and returned with checksum mode', async () => {
    const data = randomBytes(70_000);
    for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const key = `sum-${algorithm}`;
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ChecksumAlgorithm: algorithm }),
      );
      const field = `Checksum${algorithm}` as const;
      assert.ok(put[field], `${algorithm} returned on put`);
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      assert.equal(head[field], put[field]);
      assert.equal(head.ChecksumType, 'FULL_OBJECT');
    }
    const sha256 = createHash('sha256').update(data).digest('base64');
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'sum-SHA256', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumSHA256, sha256);
  });

  test('a wrong checksum is BadDigest and nothing is stored', async () => {
    const data = randomBytes(1000);
    const wrong = createHash('sha256').update('something else').digest('base64');
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-sum', Body: data, ChecksumSHA256: wrong })),
      'BadDigest',
      400,
    );
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-sum' })), 'NotFound', 404);
  });

  test('a wrong Content-MD5 is BadDigest; a malformed one is InvalidDigest', async () => {
    const data = Buffer.from('hello');
    const wrong = createHash('md5').update('other').digest('base64');
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: data, ContentMD5: wrong })),
      'BadDigest',
    );
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: data, ContentMD5: 'nope' })),
      'InvalidDigest',
    );
    const right = createHash('md5').update(data).digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: data, ContentMD5: right }));
    assert.equal((await body(s3, bucket, 'md5')).toString(), 'hello');
  });

  test('Range requests return 206 with the right bytes; unsatisfiable is InvalidRange', async () => {
    const data = randomBytes(10_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: data }));
    const part = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=100-199' }),
    );
    assert.equal(part.$metadata.httpStatusCode, 206);
    assert.equal(part.ContentRange, 'bytes 100-199/10000');
    assert.deepEqual(Buffer.from(await part.Body!.transformToByteArray()), data.subarray(100, 200));
    const suffix = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=-10' }));
    assert.deepEqual(Buffer.from(await suffix.Body!.transformToByteArray()), data.subarray(9990));
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=20000-' })),
      'InvalidRange',
      416,
    );
  });

  test('conditional GET: If-None-Match gives 304, If-Match mismatch gives 412', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'x' }));
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: put.ETag })),
      'Unknown',
      304,
    );
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"0000"' })),
      'PreconditionFailed',
      412,
    );
    const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: put.ETag }));
    assert.equal(await ok.Body!.transformToString(), 'x');
    const future = new Date(Date.now() + 3600_000);
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfModifiedSince: future })),
      'Unknown',
      304,
    );
    const past = new Date(Date.now() - 3600_000);
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfUnmodifiedSince: past })),
      'PreconditionFailed',
      412,
    );
  });

  test('If-None-Match: * creates once; the second writer gets 412 and the first version stays', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })),
      'PreconditionFailed',
      412,
    );
    assert.equal((await body(s3, bucket, 'once')).toString(), 'first');
  });

  test('of concurrent conditional creates exactly one wins', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'race',
            Body: randomBytes(50_000 + i),
            IfNoneMatch: '*',
          }),
        ),
      ),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const lost of attempts.filter((a) => a.status === 'rejected')) {
      assert.equal((lost.reason as Error).name, 'PreconditionFailed');
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'race' }));
    assert.equal(head.ETag, (won[0] as PromiseFulfilledResult<{ ETag?: string }>).value.ETag);
  });

  test('missing objects: NoSuchKey on GET, 404 on HEAD, DeleteObject succeeds', async () => {
    const error = await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })),
      'NoSuchKey',
      404,
    );
    assert.ok(error.message.length > 0);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })), 'NotFound', 404);
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'missing' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' })),
      'NoSuchBucket',
      404,
    );
  });

  test('metadata over 2 KB is MetadataTooLarge and nothing is stored', async () => {
    await rejectsWith(
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'x', Metadata: { big: 'a'.repeat(2100) } }),
      ),
      'MetadataTooLarge',
    );
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta' })), 'NotFound');
  });

  test('keys over 1,024 bytes are KeyTooLongError', async () => {
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })),
      'KeyTooLongError',
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1024), Body: 'x' }));
  });

  test('path-traversal-looking keys are plain keys that round-trip', async () => {
    const keys = [
      '../escape',
      '../../etc/passwd',
      '%2e%2e/dots',
      '/absolute/path',
      'a/../../b',
      'nul\u0000byte',
      '..',
      'C:\\windows',
    ];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `value of ${key}` }));
    }
    for (const key of keys) {
      assert.equal((await body(s3, bucket, key)).toString(), `value of ${key}`);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '..' }));
    assert.ok(listed.Contents?.some((o) => o.Key === '../escape'));
  });

  test('DeleteObjects removes many keys and reports each', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `bulk/${i}`);
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
    assert.equal(out.Deleted?.length, 25);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'bulk/' }));
    assert.equal(left.KeyCount, 0);
  });

  test('CopyObject copies bytes and metadata, REPLACE replaces metadata, self-copy without change is refused', async () => {
    const data = randomBytes(20_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'src',
        Body: data,
        ContentType: 'text/x-src',
        Metadata: { a: '1' },
      }),
    );
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src` }),
    );
    assert.equal(copy.CopyObjectResult?.ETag, `"${createHash('md5').update(data).digest('hex')}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }));
    assert.equal(head.ContentType, 'text/x-src');
    assert.deepEqual(head.Metadata, { a: '1' });
    assert.deepEqual(await body(s3, bucket, 'dst'), data);
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst',
        CopySource: `${bucket}/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/plain',
        Metadata: { b: '2' },
      }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }));
    assert.equal(replaced.ContentType, 'text/plain');
    assert.deepEqual(replaced.Metadata, { b: '2' });
    await rejectsWith(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src` })),
      'InvalidRequest',
    );
    await rejectsWith(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/nope` })),
      'NoSuchKey',
    );
    // Unicode keys travel URL-encoded in x-amz-copy-source.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ünï code+plus', Body: 'u' }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'u2',
        CopySource: encodeURI(`${bucket}/ünï code+plus`).replace(/\+/g, '%2B'),
      }),
    );
    assert.equal((await body(s3, bucket, 'u2')).toString(), 'u');
  });

  test('GetObjectAttributes reports ETag, size and checksum', async () => {
    const data = randomBytes(3000);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'attrs', Body: data, ChecksumAlgorithm: 'CRC32C' }),
    );
    const attrs = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'attrs',
        ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass'],
      }),
    );
    assert.equal(attrs.ETag, put.ETag?.replace(/"/g, ''));
    assert.equal(attrs.ObjectSize, 3000);
    assert.equal(attrs.Checksum?.ChecksumCRC32C, put.ChecksumCRC32C);
    assert.equal(attrs.StorageClass, 'STANDARD');
  });
});

describe('listing', () => {
  let server: TestServer;
  let s3: S3Client;
  const bucket = 'listing';
  const keys = [
    'a',
    'b/1',
    'b/2',
    'b/c/3',
    'c',
    'é',
    'z',
    'Z',
    '~',
    '中',
    '😀',
    'with space',
    'per%cent',
    'under_score',
  ];
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup);
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));
  });

  test('ListObjectsV2 returns keys in UTF-8 binary order', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(
      out.Contents?.map((o) => o.Key),
      expected,
    );
    assert.equal(out.KeyCount, keys.length);
    assert.equal(out.IsTruncated, false);
  });

  test('delimiter groups common prefixes; prefix narrows', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    assert.deepEqual(
      out.CommonPrefixes?.map((p) => p.Prefix),
      ['b/'],
    );
    assert.ok(!out.Contents?.some((o) => o.Key?.startsWith('b/')));
    const inner = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'b/', Delimiter: '/' }));
    assert.deepEqual(
      inner.Contents?.map((o) => o.Key),
      ['b/1', 'b/2'],
    );
    assert.deepEqual(
      inner.CommonPrefixes?.map((p) => p.Prefix),
      ['b/c/'],
    );
    const percent = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'per%' }));
    assert.deepEqual(
      percent.Contents?.map((o) => o.Key),
      ['per%cent'],
    );
  });

  test('pagination with max-keys and continuation tokens visits every key once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 3, ContinuationToken: token }),
      );
      pages++;
      for (const o of page.Contents ?? []) seen.push(o.Key!);
      token = page.NextContinuationToken;
      assert.equal(Boolean(token), page.IsTruncated);
    } while (token);
    assert.equal(pages, Math.ceil(keys.length / 3));
    assert.deepEqual(seen.sort(), [...keys].sort());
    const start = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'c' }));
    assert.ok(start.Contents?.every((o) => Buffer.compare(Buffer.from(o.Key!), Buffer.from('c')) > 0));
    await rejectsWith(
      s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: 'garbage!' })),
      'InvalidArgument',
    );
  });

  test('ListObjects (v1) pages with markers', async () => {
    const first = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 5 }));
    assert.equal(first.Contents?.length, 5);
    assert.equal(first.IsTruncated, true);
    const lastKey = first.Contents?.at(-1)?.Key;
    const second = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: lastKey, MaxKeys: 100 }));
    assert.equal((first.Contents?.length ?? 0) + (second.Contents?.length ?? 0), keys.length);
  });

  test('ListObjectVersions lists each object as its latest "null" version', async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'b/' }));
    assert.deepEqual(
      out.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]),
      [
        ['b/1', 'null', true],
        ['b/2', 'null', true],
        ['b/c/3', 'null', true],
      ],
    );
  });
});
