/** Bucket operations and CORS through the official AWS SDK v3, and preflights as a browser sends them. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  paginateListBuckets,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('buckets', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();
  before(async () => {
    server = await startTestServer(cleanup);
    s3 = server.client;
  });

  test('create, head, list, location, delete', async () => {
    const created = await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    assert.equal(created.Location, '/alpha');
    await s3.send(new CreateBucketCommand({ Bucket: 'beta' }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'alpha' }));
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      ['alpha', 'beta'],
    );
    assert.ok(list.Buckets?.every((b) => b.CreationDate instanceof Date));
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: 'alpha' }));
    assert.equal(location.LocationConstraint ?? '', '');
    await s3.send(new DeleteBucketCommand({ Bucket: 'beta' }));
    await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: 'beta' })), 'NotFound', 404);
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: 'beta' })), 'NoSuchBucket', 404);
  });

  test('invalid names are InvalidBucketName', async () => {
    for (const Bucket of [
      'ab',
      'UPPER',
      'has_underscore',
      '-start',
      'end-',
      'a..b',
      '192.168.1.1',
      'x'.repeat(64),
    ]) {
      await rejectsWith(s3.send(new CreateBucketCommand({ Bucket })), 'InvalidBucketName', 400);
    }
  });

  test('a location constraint for another region is refused', async () => {
    await rejectsWith(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'elsewhere',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
      'IllegalLocationConstraintException',
      400,
    );
  });

  test('DeleteBucket refuses a bucket with objects; in-progress uploads alone go with the bucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'full' }));
    await s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'k', Body: 'x' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'full', Key: 'big' }));
    await s3.send(
      new UploadPartCommand({ Bucket: 'full', Key: 'big', UploadId, PartNumber: 1, Body: 'part' }),
    );
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: 'full' })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'full', Key: 'k' }));
    // Only the upload is left: S3 deletes a general purpose bucket and its uploads.
    await s3.send(new DeleteBucketCommand({ Bucket: 'full' }));
    await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: 'full' })), 'NotFound', 404);
    await s3.send(new CreateBucketCommand({ Bucket: 'full' }));
    await rejectsWith(
      s3.send(new ListPartsCommand({ Bucket: 'full', Key: 'big', UploadId })),
      'NoSuchUpload',
      404,
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'full' }));
    assert.equal(uploads.Uploads, undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: 'full' }));
  });

  test('CORS rules: put, get, delete, and validation', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'cors' }));
    await rejectsWith(s3.send(new GetBucketCorsCommand({ Bucket: 'cors' })), 'NoSuchCORSConfiguration', 404);
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'cors',
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://app.example.com', 'http://localhost:*'],
              AllowedMethods: ['PUT', 'GET', 'HEAD'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag', 'x-amz-checksum-crc32c'],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    );
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors' }));
    assert.deepEqual(got.CORSRules?.[0]?.AllowedOrigins, ['https://app.example.com', 'http://localhost:*']);
    assert.deepEqual(got.CORSRules?.[0]?.ExposeHeaders, ['ETag', 'x-amz-checksum-crc32c']);
    assert.equal(got.CORSRules?.[0]?.MaxAgeSeconds, 600);
    await rejectsWith(
      s3.send(
        new PutBucketCorsCommand({
          Bucket: 'cors',
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] },
        }),
      ),
      'InvalidRequest',
      400,
    );

    // A browser's preflight for an UploadPart with checksum headers.
    const preflight = await fetch(`${server.url}/cors/some/key?partNumber=1&uploadId=x`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization,x-amz-date,x-amz-checksum-crc32c,content-type',
      },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /PUT/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /x-amz-checksum-crc32c/);
    assert.equal(preflight.headers.get('access-control-max-age'), '600');
    assert.match(preflight.headers.get('access-control-expose-headers') ?? '', /ETag/);

    const refusedOrigin = await fetch(`${server.url}/cors/k`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
    });
    assert.equal(refusedOrigin.status, 403);
    assert.match(await refusedOrigin.text(), /<Code>AccessForbidden<\/Code>/);
    const refusedMethod = await fetch(`${server.url}/cors/k`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' },
    });
    assert.equal(refusedMethod.status, 403);
    const noOrigin = await fetch(`${server.url}/cors/k`, { method: 'OPTIONS' });
    assert.equal(noOrigin.status, 400);

    // Actual responses carry CORS headers (even errors, so the browser can read them), exposing ETag.
    const anonymous = await fetch(`${server.url}/cors/k`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(anonymous.status, 403);
    assert.equal(anonymous.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(anonymous.headers.get('access-control-expose-headers') ?? '', /ETag/);

    await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors' }));
    await rejectsWith(s3.send(new GetBucketCorsCommand({ Bucket: 'cors' })), 'NoSuchCORSConfiguration');
    const afterDelete = await fetch(`${server.url}/cors/k`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT' },
    });
    assert.equal(afterDelete.status, 403);
  });

  test('unsupported sub-resources are NotImplemented, not misrouted', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    const uploads = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'plain', Key: 'k' }));
    assert.ok(uploads.UploadId);
    const response = await fetch(`${server.url}/plain?acl`);
    // Anonymous requests are refused before routing.
    assert.equal(response.status, 403);
  });
});

describe('ListBuckets paging and filters', () => {
  let server: TestServer;
  let s3: S3Client;
  const cleanup = suiteCleanup();
  const names = ['logs-a', 'logs-b', 'media-a', 'media-b', 'media-c'];

  before(async () => {
    server = await startTestServer(cleanup, { buckets: names });
    s3 = server.client;
  });

  test('max-buckets pages with an opaque continuation token; prefix and bucket-region filter', async () => {
    const all = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(
      all.Buckets?.map((b) => b.Name),
      names,
    );
    assert.equal(all.ContinuationToken, undefined);

    const first = await s3.send(new ListBucketsCommand({ MaxBuckets: 2 }));
    assert.deepEqual(
      first.Buckets?.map((b) => b.Name),
      ['logs-a', 'logs-b'],
    );
    assert.ok(first.ContinuationToken);
    const seen: string[] = [];
    for await (const page of paginateListBuckets({ client: s3, pageSize: 2 }, {})) {
      seen.push(...(page.Buckets ?? []).map((b) => b.Name ?? ''));
    }
    assert.deepEqual(seen, names);

    const media = await s3.send(new ListBucketsCommand({ Prefix: 'media-', MaxBuckets: 2 }));
    assert.deepEqual(
      media.Buckets?.map((b) => b.Name),
      ['media-a', 'media-b'],
    );
    assert.equal(media.Prefix, 'media-');
    const rest = await s3.send(
      new ListBucketsCommand({ Prefix: 'media-', MaxBuckets: 2, ContinuationToken: media.ContinuationToken }),
    );
    assert.deepEqual(
      rest.Buckets?.map((b) => b.Name),
      ['media-c'],
    );
    assert.equal(rest.ContinuationToken, undefined);

    const here = await s3.send(new ListBucketsCommand({ BucketRegion: 'us-east-1' }));
    assert.equal(here.Buckets?.length, names.length);
    const elsewhere = await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-west-1' }));
    assert.equal(elsewhere.Buckets?.length ?? 0, 0);
  });

  test('a bad max-buckets or continuation token is InvalidArgument', async () => {
    await rejectsWith(s3.send(new ListBucketsCommand({ MaxBuckets: 0 })), 'InvalidArgument', 400);
    await rejectsWith(s3.send(new ListBucketsCommand({ MaxBuckets: 10_001 })), 'InvalidArgument', 400);
    await rejectsWith(
      s3.send(new ListBucketsCommand({ ContinuationToken: 'not a token!' })),
      'InvalidArgument',
      400,
    );
  });
});
