/** Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects. */
import { s3ObjectArn } from '@hoist/aws/policy';
import { nodesOf, parseXmlBody, S3Error, textOf } from '@hoist/aws/s3';
import { checksumHeaderName, S3_LIMITS } from '@hoist/protocol';
import type { ObjectRecord } from '../storage/types.ts';
import { existingBucket } from './buckets.ts';
import { header, requireBucketName, requireKey, type S3Context, sendEmpty, sendXml } from './context.ts';
import {
  checkConditions,
  etagMatches,
  objectResponseHeaders,
  parseRange,
  SSE_S3_HEADER,
  storedHeadersFrom,
  userMetadataFrom,
} from './object-headers.ts';
import { hasIntegrityHeader, readSmallBody, receivePayload } from './payload.ts';

/** `If-None-Match: *` is the only conditional S3 accepts on writes; anything else is not implemented. */
export function conditionalCreate(ctx: S3Context): boolean {
  const value = header(ctx, 'if-none-match');
  if (value === undefined) return false;
  if (value.trim() !== '*') {
    throw new S3Error(
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
      {
        extra: { Header: 'If-None-Match' },
      },
    );
  }
  return true;
}

/**
 * `If-Match` on a write (S3 since November 2024): the key must exist (else NoSuchKey) with
 * a matching ETag (else PreconditionFailed). Checked before the body is read; the commit
 * re-checks atomically, and a change in between is ConditionalRequestConflict.
 */
export function conditionalReplace(
  ctx: S3Context,
  bucket: string,
  key: string,
): ((currentEtag: string) => boolean) | undefined {
  const value = header(ctx, 'if-match');
  if (value === undefined) return undefined;
  const matches = (currentEtag: string) => etagMatches(value, currentEtag);
  const current = ctx.storage.getObject(bucket, key);
  if (!current) throw new S3Error('NoSuchKey', undefined, { extra: { Key: key } });
  if (!matches(current.etag))
    throw new S3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-Match' } });
  return matches;
}

export function preconditionFailedForExisting(): S3Error {
  return new S3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-None-Match' } });
}

export async function putObject(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  const bucket = requireBucketName(ctx);
  const key = requireKey(ctx);
  const ifNoneMatch = conditionalCreate(ctx);
  const ifMatch = conditionalReplace(ctx, bucket, key);
  const headers = storedHeadersFrom(ctx);
  const userMetadata = userMetadataFrom(ctx);
  const payload = receivePayload(ctx, { maxSize: S3_LIMITS.maxPutObjectSize });
  // Fail fast on an existing key; the commit re-checks atomically.
  if (ifNoneMatch && ctx.storage.getObject(bucket, key)) throw preconditionFailedForExisting();
  const blob = await ctx.storage.writeBlob(payload.chunks, { ownedChunks: true });
  let committed: ObjectRecord;
  try {
    const received = payload.result();
    const etag = `"${received.md5.toString('hex')}"`;
    committed = ctx.storage.putObject(
      bucket,
      key,
      {
        ...headers,
        size: received.size,
        etag,
        userMetadata,
        segments: [{ blobId: blob.blobId, size: blob.size }],
        ...(received.checksum
          ? {
              checksum: {
                algorithm: received.checksum.algorithm,
                type: 'FULL_OBJECT' as const,
                value: received.checksum.base64,
              },
            }
          : {}),
      },
      { ifNoneMatch, ...(ifMatch ? { ifMatch } : {}) },
    );
  } catch (error) {
    await ctx.storage.discardBlob(blob.blobId);
    throw error;
  }
  const out: Record<string, string> = { etag: committed.etag, ...SSE_S3_HEADER };
  if (committed.checksum) {
    out[checksumHeaderName(committed.checksum.algorithm)] = committed.checksum.value;
    out['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  sendEmpty(ctx, 200, out);
}

export function existingObject(ctx: S3Context, bucket: string, key: string): ObjectRecord {
  const object = ctx.storage.getObject(bucket, key);
  if (!object) throw new S3Error('NoSuchKey', undefined, { extra: { Key: key } });
  return object;
}

function parsePartNumber(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > S3_LIMITS.maxParts) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      extra: { ArgumentName: 'partNumber', ArgumentValue: value },
    });
  }
  return Number(value);
}

/** Byte span of part `n` of an object; single-PUT objects have one part, the whole object. */
function partSpan(object: ObjectRecord, partNumber: number): { start: number; end: number } {
  const count = object.partsCount ?? 1;
  if (partNumber > count)
    throw new S3Error('InvalidPartNumber', undefined, {
      extra: { PartNumberRequested: String(partNumber), ActualPartCount: String(count) },
    });
  if (object.partsCount === undefined) return { start: 0, end: object.size - 1 };
  let start = 0;
  for (let i = 0; i < partNumber - 1; i++) start += object.segments[i]?.size ?? 0;
  const size = object.segments[partNumber - 1]?.size ?? 0;
  return { start, end: start + size - 1 };
}

const RESPONSE_OVERRIDES: [string, string][] = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

/** GetObject and HeadObject share everything but the body. */
export async function getObject(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  const object = existingObject(ctx, requireBucketName(ctx), requireKey(ctx));
  const partNumber = parsePartNumber(ctx.query.get('partNumber'));
  const rangeHeader = header(ctx, 'range');
  if (partNumber !== undefined && rangeHeader !== undefined) {
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  }
  checkConditions(object, (name) => header(ctx, name));
  const range =
    partNumber !== undefined ? partSpan(object, partNumber) : parseRange(rangeHeader, object.size);
  const checksumMode =
    header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' &&
    (range === undefined || partNumber !== undefined);
  const out: Record<string, string> = {
    ...ctx.responseHeaders,
    ...objectResponseHeaders(
      object,
      partNumber === undefined ? { checksumMode } : { checksumMode, partNumber },
    ),
  };
  for (const [param, name] of RESPONSE_OVERRIDES) {
    const value = ctx.query.get(param);
    if (value !== null) out[name] = value;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? object.size - 1;
  const length = Math.max(0, end - start + 1);
  out['content-length'] = String(length);
  const partial = range !== undefined && (partNumber === undefined ? true : object.partsCount !== undefined);
  if (partial) out['content-range'] = `bytes ${start}-${end}/${object.size}`;
  ctx.res.writeHead(partial ? 206 : 200, out);
  if (ctx.req.method === 'HEAD' || length === 0) {
    ctx.res.end();
    return;
  }
  try {
    await ctx.storage.sendRange(object.segments, start, end, ctx.res);
  } catch (error) {
    // A client that stops reading (a cancelled or ranged download) is not a server failure.
    if (ctx.res.destroyed) return;
    throw error;
  }
  ctx.res.end();
}

/**
 * GetObjectTagging. Tags cannot be set here (PutObjectTagging and `x-amz-tagging` are
 * NotImplemented), so every object's tag set is empty — which is all the AWS CLI v2
 * needs to copy objects between S3 locations (it reads tags on every multipart copy).
 */
export function getObjectTagging(ctx: S3Context): void {
  existingBucket(ctx);
  existingObject(ctx, requireBucketName(ctx), requireKey(ctx));
  sendXml(ctx, 200, 'Tagging', { TagSet: {} });
}

export function deleteObject(ctx: S3Context): void {
  existingBucket(ctx);
  ctx.storage.deleteObject(requireBucketName(ctx), requireKey(ctx));
  sendEmpty(ctx, 204);
}

const MAX_DELETE_BODY = 2 * 1024 * 1024;

export async function deleteObjects(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  const bucket = requireBucketName(ctx);
  if (!hasIntegrityHeader(ctx)) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const body = await readSmallBody(ctx, MAX_DELETE_BODY);
  const doc = parseXmlBody(body.toString('utf8'), 'Delete');
  const quiet = textOf(doc, 'Quiet')?.toLowerCase() === 'true';
  const objects = nodesOf(doc, 'Object');
  if (objects.length === 0 || objects.length > S3_LIMITS.maxDeleteObjects) throw new S3Error('MalformedXML');
  const keys = objects.map((node) => {
    const key = textOf(node, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML', 'Each Object needs a Key.');
    return key;
  });
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const key of keys) {
    if (Buffer.byteLength(key) > S3_LIMITS.maxKeyBytes) {
      errors.push({ Key: key, Code: 'KeyTooLongError', Message: 'Your key is too long' });
      continue;
    }
    // Each key is authorized on its own, and refusals are reported per key, as S3 does.
    if (!ctx.authorize('s3:DeleteObject', s3ObjectArn(bucket, key))) {
      errors.push({ Key: key, Code: 'AccessDenied', Message: 'Access Denied' });
      continue;
    }
    ctx.storage.deleteObject(bucket, key);
    if (!quiet) deleted.push({ Key: key });
  }
  sendXml(ctx, 200, 'DeleteResult', { Deleted: deleted, Error: errors });
}
