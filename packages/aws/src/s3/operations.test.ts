import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyS3Request, S3_OPERATIONS } from './operations.ts';

function classify(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query = '',
  hasCopySource = false,
) {
  return classifyS3Request({ method, bucket, key, query: new URLSearchParams(query), hasCopySource });
}

test('method, addressing and query markers name the operation', () => {
  const cases: [string, string | undefined, string | undefined, string, boolean, string][] = [
    ['GET', undefined, undefined, '', false, 'ListBuckets'],
    ['PUT', 'b', undefined, '', false, 'CreateBucket'],
    ['HEAD', 'b', undefined, '', false, 'HeadBucket'],
    ['GET', 'b', undefined, 'list-type=2&prefix=a', false, 'ListObjectsV2'],
    ['GET', 'b', undefined, 'prefix=a', false, 'ListObjects'],
    ['GET', 'b', undefined, 'versions', false, 'ListObjectVersions'],
    ['GET', 'b', undefined, 'uploads', false, 'ListMultipartUploads'],
    ['GET', 'b', undefined, 'location', false, 'GetBucketLocation'],
    ['PUT', 'b', undefined, 'cors', false, 'PutBucketCors'],
    ['DELETE', 'b', undefined, 'cors', false, 'DeleteBucketCors'],
    ['POST', 'b', undefined, 'delete', false, 'DeleteObjects'],
    ['PUT', 'b', 'k', '', false, 'PutObject'],
    ['PUT', 'b', 'k', '', true, 'CopyObject'],
    ['PUT', 'b', 'k', 'partNumber=1&uploadId=u', false, 'UploadPart'],
    ['PUT', 'b', 'k', 'partNumber=1&uploadId=u', true, 'UploadPartCopy'],
    ['POST', 'b', 'k', 'uploads', false, 'CreateMultipartUpload'],
    ['POST', 'b', 'k', 'uploadId=u', false, 'CompleteMultipartUpload'],
    ['DELETE', 'b', 'k', 'uploadId=u', false, 'AbortMultipartUpload'],
    ['GET', 'b', 'k', 'uploadId=u', false, 'ListParts'],
    ['GET', 'b', 'k', 'attributes', false, 'GetObjectAttributes'],
    ['GET', 'b', 'k', 'partNumber=2', false, 'GetObject'],
    ['HEAD', 'b', 'k', '', false, 'HeadObject'],
    ['DELETE', 'b', 'k', '', false, 'DeleteObject'],
    ['GET', 'b', 'k', 'tagging', false, 'GetObjectTagging'],
  ];
  for (const [method, bucket, key, query, copy, expected] of cases) {
    assert.deepEqual(
      classify(method, bucket, key, query, copy),
      { operation: expected },
      `${method} ${bucket}/${key}?${query}`,
    );
  }
});

test('unknown sub-resources and methods are refused, not misrouted', () => {
  assert.deepEqual(classify('GET', 'b', undefined, 'acl'), { unsupported: 'acl' });
  assert.deepEqual(classify('PUT', 'b', 'k', 'tagging'), { unsupported: 'tagging' });
  assert.deepEqual(classify('POST', 'b', 'k'), { methodNotAllowed: true });
  assert.deepEqual(classify('PATCH', 'b', 'k'), { methodNotAllowed: true });
  assert.deepEqual(classify('PUT', undefined, undefined), { methodNotAllowed: true });
});

test('each operation maps to its documented IAM action', () => {
  assert.equal(S3_OPERATIONS.UploadPart.action, 's3:PutObject');
  assert.equal(S3_OPERATIONS.CompleteMultipartUpload.action, 's3:PutObject');
  assert.equal(S3_OPERATIONS.ListParts.action, 's3:ListMultipartUploadParts');
  assert.equal(S3_OPERATIONS.ListObjectsV2.action, 's3:ListBucket');
  assert.equal(S3_OPERATIONS.ListObjectsV2.resource, 'bucket');
  assert.equal(S3_OPERATIONS.AbortMultipartUpload.action, 's3:AbortMultipartUpload');
});
