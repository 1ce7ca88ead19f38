import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3_OPERATIONS, type S3Operation } from '@hoist/aws/internal/s3/operations';
import { type S3RequestFacts, s3ConditionKeys } from './authz-requests.ts';

function facts(operation: S3Operation, headers: Record<string, string> = {}): S3RequestFacts {
  return {
    operation,
    bucket: 'b',
    key: 'k',
    query: new URLSearchParams(),
    headers,
    presigned: false,
    payloadHash: 'UNSIGNED-PAYLOAD',
    signatureAgeMs: 0,
  };
}

test('s3:ObjectCreationOperation: true for creations, false for the multipart steps, absent elsewhere', () => {
  const expected: Partial<Record<S3Operation, string>> = {
    PutObject: 'true',
    CopyObject: 'true',
    CompleteMultipartUpload: 'true',
    CreateMultipartUpload: 'false',
    UploadPart: 'false',
    UploadPartCopy: 'false',
  };
  for (const operation of Object.keys(S3_OPERATIONS) as S3Operation[]) {
    const value = s3ConditionKeys(facts(operation))['s3:ObjectCreationOperation'];
    assert.equal(value, expected[operation], operation);
    // Every s3:PutObject operation says which it is: a policy's Bool test never sees it missing.
    if (S3_OPERATIONS[operation].action === 's3:PutObject') assert.ok(value, operation);
  }
});

test('If-None-Match reaches policies as s3:if-none-match', () => {
  const context = s3ConditionKeys(facts('PutObject', { 'if-none-match': '*' }));
  assert.equal(context['s3:if-none-match'], '*');
  assert.equal(s3ConditionKeys(facts('PutObject'))['s3:if-none-match'], undefined);
});
