/** ListObjectsV2, ListObjects (v1) and ListObjectVersions (for never-versioned buckets). */
import { S3Error } from '../../aws/s3/errors.ts';
import { xmlTimestamp } from '../../aws/s3/xml.ts';
import { S3_LIMITS } from '../../protocol/limits.ts';
import type { ListObjectsResult, ObjectSummary } from '../storage/types.ts';
import { existingBucket, ownerOf } from './buckets.ts';
import { requireBucketName, type S3Context, sendXml } from './context.ts';

/**
 * `encoding-type=url`: S3 percent-encodes keys so any byte survives XML, but keeps `/`
 * (prefixes stay readable) and writes a space as `+` (so a literal `+` is `%2B`), as
 * measured against S3 (botocore decodes with unquote_plus accordingly).
 */
export function listEncoder(ctx: S3Context): (value: string) => string {
  const type = ctx.query.get('encoding-type');
  if (type === null) return (value) => value;
  if (type !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      extra: { ArgumentName: 'encoding-type', ArgumentValue: type },
    });
  }
  return (value) => encodeURIComponent(value).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export function parseMaxKeys(ctx: S3Context, name = 'max-keys'): number {
  const value = ctx.query.get(name);
  if (value === null) return S3_LIMITS.maxKeysPerList;
  if (!/^-?\d{1,10}$/.test(value) || Number(value) < 0 || Number(value) > 2147483647) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      extra: { ArgumentName: name, ArgumentValue: value },
    });
  }
  return Math.min(Number(value), S3_LIMITS.maxKeysPerList);
}

function encodeToken(key: string): string {
  return Buffer.from(`v1:${key}`, 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(token) ? Buffer.from(token, 'base64').toString('utf8') : '';
  if (!decoded.startsWith('v1:')) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      extra: { ArgumentName: 'continuation-token' },
    });
  }
  return decoded.slice(3);
}

function list(
  ctx: S3Context,
  after: string,
  maxKeys: number,
): { prefix: string; delimiter: string; result: ListObjectsResult } {
  existingBucket(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const result = ctx.storage.listObjects(requireBucketName(ctx), { prefix, delimiter, after, maxKeys });
  return { prefix, delimiter, result };
}

function contentsEntry(
  summary: ObjectSummary,
  encode: (v: string) => string,
  owner?: { ID: string; DisplayName: string },
) {
  return {
    Key: encode(summary.key),
    LastModified: xmlTimestamp(summary.lastModified),
    ETag: summary.etag,
    ChecksumAlgorithm: summary.checksumAlgorithm,
    ChecksumType: summary.checksumType,
    Size: summary.size,
    Owner: owner,
    StorageClass: 'STANDARD',
  };
}

export function listObjectsV2(ctx: S3Context): void {
  const encode = listEncoder(ctx);
  const maxKeys = parseMaxKeys(ctx);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? '';
  const after = token !== null ? decodeToken(token) : startAfter;
  const { prefix, delimiter, result } = list(ctx, after, maxKeys);
  const owner = ctx.query.get('fetch-owner') === 'true' ? ownerOf(ctx) : undefined;
  sendXml(ctx, 200, 'ListBucketResult', {
    Name: requireBucketName(ctx),
    Prefix: encode(prefix),
    Delimiter: delimiter ? encode(delimiter) : undefined,
    MaxKeys: maxKeys,
    EncodingType: ctx.query.get('encoding-type') ?? undefined,
    KeyCount: result.contents.length + result.commonPrefixes.length,
    IsTruncated: result.isTruncated,
    ContinuationToken: token ?? undefined,
    NextContinuationToken:
      result.isTruncated && result.lastReturned !== undefined ? encodeToken(result.lastReturned) : undefined,
    StartAfter: startAfter ? encode(startAfter) : undefined,
    Contents: result.contents.map((summary) => contentsEntry(summary, encode, owner)),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
}

export function listObjects(ctx: S3Context): void {
  const encode = listEncoder(ctx);
  const maxKeys = parseMaxKeys(ctx);
  const marker = ctx.query.get('marker') ?? '';
  const { prefix, delimiter, result } = list(ctx, marker, maxKeys);
  const owner = ownerOf(ctx);
  sendXml(ctx, 200, 'ListBucketResult', {
    Name: requireBucketName(ctx),
    Prefix: encode(prefix),
    Marker: encode(marker),
    NextMarker:
      result.isTruncated && delimiter && result.lastReturned !== undefined
        ? encode(result.lastReturned)
        : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter ? encode(delimiter) : undefined,
    EncodingType: ctx.query.get('encoding-type') ?? undefined,
    IsTruncated: result.isTruncated,
    Contents: result.contents.map((summary) => contentsEntry(summary, encode, owner)),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
}

/** Every object of an unversioned bucket is its own latest version, with version id "null". */
export function listObjectVersions(ctx: S3Context): void {
  const encode = listEncoder(ctx);
  const maxKeys = parseMaxKeys(ctx);
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const { prefix, delimiter, result } = list(ctx, keyMarker, maxKeys);
  const owner = ownerOf(ctx);
  sendXml(ctx, 200, 'ListVersionsResult', {
    Name: requireBucketName(ctx),
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker),
    VersionIdMarker: ctx.query.get('version-id-marker') ?? '',
    NextKeyMarker:
      result.isTruncated && result.lastReturned !== undefined ? encode(result.lastReturned) : undefined,
    NextVersionIdMarker: result.isTruncated ? 'null' : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter ? encode(delimiter) : undefined,
    EncodingType: ctx.query.get('encoding-type') ?? undefined,
    IsTruncated: result.isTruncated,
    Version: result.contents.map((summary) => ({
      Key: encode(summary.key),
      VersionId: 'null',
      IsLatest: true,
      LastModified: xmlTimestamp(summary.lastModified),
      ETag: summary.etag,
      Size: summary.size,
      Owner: owner,
      StorageClass: 'STANDARD',
    })),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
}
