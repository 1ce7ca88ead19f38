/**
 * What an S3 request asks IAM for: each (action, resource ARN) it needs and the
 * request's condition keys, as AWS documents them per operation. CopyObject also
 * reads its source; DeleteObjects is authorized key by key in its handler.
 */
import { s3BucketArn, s3ObjectArn } from '@hoist/aws/policy';
import { S3_OPERATIONS, type S3Operation } from '@hoist/aws/s3';
import type { ConditionContext } from '../authz.ts';

export interface AuthorizationRequest {
  action: string;
  resource: string;
}

export interface S3RequestFacts {
  operation: S3Operation;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  presigned: boolean;
  payloadHash: string;
  /** ms since the request was signed (presigned URLs). */
  signatureAgeMs: number;
}

function header(facts: S3RequestFacts, name: string): string | undefined {
  const value = facts.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The copy source of CopyObject/UploadPartCopy as `bucket/key`, decoded, or undefined. */
export function copySourcePath(facts: S3RequestFacts): string | undefined {
  const raw = header(facts, 'x-amz-copy-source');
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw.split('?')[0] ?? '').replace(/^\//, '');
  } catch {
    return undefined;
  }
}

export function s3AuthorizationRequests(facts: S3RequestFacts): AuthorizationRequest[] {
  const { action, resource } = S3_OPERATIONS[facts.operation];
  if (facts.operation === 'DeleteObjects') return [];
  const target =
    resource === 'all'
      ? 'arn:aws:s3:::*'
      : resource === 'bucket' || facts.key === undefined
        ? s3BucketArn(facts.bucket ?? '')
        : s3ObjectArn(facts.bucket ?? '', facts.key);
  const requests: AuthorizationRequest[] = [{ action, resource: target }];
  // A write with If-Match reveals the current ETag, so AWS also requires s3:GetObject on the key.
  if (
    (facts.operation === 'PutObject' || facts.operation === 'CompleteMultipartUpload') &&
    header(facts, 'if-match') !== undefined
  ) {
    requests.push({ action: 's3:GetObject', resource: target });
  }
  if (facts.operation === 'CopyObject' || facts.operation === 'UploadPartCopy') {
    const source = copySourcePath(facts);
    if (source !== undefined) requests.push({ action: 's3:GetObject', resource: `arn:aws:s3:::${source}` });
  }
  return requests;
}

/**
 * `s3:ObjectCreationOperation` of each operation authorized as s3:PutObject: "true" for those
 * that create the object, "false" for the multipart steps that do not (AWS: "Enforce
 * conditional writes on Amazon S3 buckets"), so a policy can demand If-None-Match of creations.
 */
const OBJECT_CREATION: Partial<Record<S3Operation, 'true' | 'false'>> = {
  PutObject: 'true',
  CopyObject: 'true',
  CompleteMultipartUpload: 'true',
  CreateMultipartUpload: 'false',
  UploadPart: 'false',
  UploadPartCopy: 'false',
};

/** The keys every signed S3 request carries, whatever its operation. */
export function requestConditionKeys(
  presigned: boolean,
  payloadHash: string,
  signatureAgeMs: number,
): ConditionContext {
  const context: ConditionContext = {
    's3:authType': presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:x-amz-content-sha256': payloadHash,
  };
  if (presigned) context['s3:signatureAge'] = String(signatureAgeMs);
  return context;
}

/** The request-level condition keys S3 documents (principal keys are added by the authorizer). */
export function s3ConditionKeys(facts: S3RequestFacts): ConditionContext {
  const context = requestConditionKeys(facts.presigned, facts.payloadHash, facts.signatureAgeMs);
  if (
    facts.operation === 'ListObjects' ||
    facts.operation === 'ListObjectsV2' ||
    facts.operation === 'ListObjectVersions'
  ) {
    context['s3:prefix'] = facts.query.get('prefix') ?? '';
    const delimiter = facts.query.get('delimiter');
    if (delimiter !== null) context['s3:delimiter'] = delimiter;
    const maxKeys = facts.query.get('max-keys');
    if (maxKeys !== null) context['s3:max-keys'] = maxKeys;
  }
  for (const name of [
    'x-amz-metadata-directive',
    'x-amz-copy-source',
    'x-amz-storage-class',
    'x-amz-server-side-encryption',
    'if-none-match',
  ]) {
    const value = header(facts, name);
    if (value !== undefined) context[`s3:${name}`] = value;
  }
  const ifMatch = header(facts, 'if-match');
  // On reads If-Match is a plain HTTP conditional; the key describes conditional writes.
  if (
    ifMatch !== undefined &&
    (facts.operation === 'PutObject' || facts.operation === 'CompleteMultipartUpload')
  )
    context['s3:if-match'] = ifMatch;
  const creation = OBJECT_CREATION[facts.operation];
  if (creation !== undefined) context['s3:ObjectCreationOperation'] = creation;
  const contentType = header(facts, 'content-type');
  if (
    contentType !== undefined &&
    (facts.operation === 'PutObject' || facts.operation === 'CreateMultipartUpload')
  ) {
    context['s3:content-type'] = contentType;
  }
  return context;
}
