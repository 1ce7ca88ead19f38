/** CopyObject and UploadPartCopy: bytes copied server-side, digests recomputed on the way. */
import { S3Error, xmlTimestamp } from '@hoist/aws/s3';
import { type ChecksumAlgorithm, parseChecksumAlgorithm, S3_LIMITS } from '@hoist/protocol';
import { createChecksumHasher, createMd5Hasher } from '../checksum/index.ts';
import type { ObjectRecord } from '../storage/types.ts';
import { existingBucket } from './buckets.ts';
import { header, requireBucketName, requireKey, type S3Context, sendXml } from './context.ts';
import { checksumElement, existingUpload, parseUploadPartNumber } from './multipart.ts';
import {
  checkConditions,
  contentHeadersOf,
  SSE_S3_HEADER,
  storedHeadersFrom,
  userMetadataFrom,
} from './object-headers.ts';
import { conditionalCreate, existingObject } from './objects.ts';

interface CopySource {
  bucket: string;
  key: string;
  object: ObjectRecord;
}

function copySource(ctx: S3Context): CopySource {
  const raw = header(ctx, 'x-amz-copy-source') ?? '';
  const [path = '', query = ''] = raw.split('?', 2);
  const version = new URLSearchParams(query).get('versionId');
  if (version !== null && version !== 'null') {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', {
      extra: { ArgumentName: 'x-amz-copy-source' },
    });
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw new S3Error(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
    );
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      {
        extra: { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw },
      },
    );
  }
  const bucket = decoded.slice(0, slash);
  const key = decoded.slice(slash + 1);
  if (!ctx.storage.getBucket(bucket))
    throw new S3Error('NoSuchBucket', undefined, { extra: { BucketName: bucket } });
  const object = existingObject(ctx, bucket, key);
  checkConditions(object, (name) => header(ctx, name), {
    prefix: 'x-amz-copy-source-',
    notModifiedIsError: true,
  });
  return { bucket, key, object };
}

/** Copies [start, end] of the source into a new blob, hashing MD5 (and a checksum) as it goes. */
async function copyBytes(
  ctx: S3Context,
  object: ObjectRecord,
  start: number,
  end: number,
  algorithm: ChecksumAlgorithm | undefined,
) {
  const md5 = createMd5Hasher();
  const checksum = algorithm ? createChecksumHasher(algorithm) : undefined;
  async function* hashed(): AsyncGenerator<Buffer> {
    if (end < start) return;
    for await (const chunk of ctx.storage.readRange(object.segments, start, end)) {
      const buffer = chunk as Buffer;
      md5.update(buffer);
      checksum?.update(buffer);
      yield buffer;
    }
  }
  const blob = await ctx.storage.writeBlob(hashed());
  return { blob, md5: md5.digest(), checksum: checksum?.digest() };
}

function requestedAlgorithm(
  ctx: S3Context,
  fallback: ChecksumAlgorithm | undefined,
): ChecksumAlgorithm | undefined {
  const value = header(ctx, 'x-amz-checksum-algorithm');
  if (value === undefined) return fallback;
  const algorithm = parseChecksumAlgorithm(value);
  if (!algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');
  return algorithm;
}

export async function copyObject(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  const bucket = requireBucketName(ctx);
  const key = requireKey(ctx);
  const ifNoneMatch = conditionalCreate(ctx);
  const source = copySource(ctx);
  const directive = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', {
      extra: { ArgumentName: 'x-amz-metadata-directive' },
    });
  }
  if (source.bucket === bucket && source.key === key && directive === 'COPY') {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  if (source.object.size > S3_LIMITS.maxPutObjectSize) {
    throw new S3Error(
      'InvalidRequest',
      `The specified copy source is larger than the maximum allowable size for a copy source: ${S3_LIMITS.maxPutObjectSize}`,
    );
  }
  const algorithm = requestedAlgorithm(ctx, source.object.checksum?.algorithm);
  const headers = directive === 'REPLACE' ? storedHeadersFrom(ctx) : contentHeadersOf(source.object);
  const userMetadata = directive === 'REPLACE' ? userMetadataFrom(ctx) : source.object.userMetadata;
  const copied = await copyBytes(ctx, source.object, 0, source.object.size - 1, algorithm);
  const checksumValue = copied.checksum?.toString('base64');
  let committed: ObjectRecord;
  try {
    committed = ctx.storage.putObject(
      bucket,
      key,
      {
        ...headers,
        size: copied.blob.size,
        etag: `"${copied.md5.toString('hex')}"`,
        userMetadata,
        segments: [{ blobId: copied.blob.blobId, size: copied.blob.size }],
        ...(algorithm && checksumValue
          ? { checksum: { algorithm, type: 'FULL_OBJECT' as const, value: checksumValue } }
          : {}),
      },
      { ifNoneMatch },
    );
  } catch (error) {
    await ctx.storage.discardBlob(copied.blob.blobId);
    throw error;
  }
  const result: Record<string, string> = {
    ETag: committed.etag,
    LastModified: xmlTimestamp(committed.lastModified),
  };
  if (committed.checksum) {
    result[checksumElement(committed.checksum.algorithm)] = committed.checksum.value;
    result.ChecksumType = committed.checksum.type;
  }
  sendXml(ctx, 200, 'CopyObjectResult', result, SSE_S3_HEADER);
}

export async function uploadPartCopy(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  const partNumber = parseUploadPartNumber(ctx);
  const upload = existingUpload(ctx);
  const source = copySource(ctx);
  const size = source.object.size;
  let start = 0;
  let end = size - 1;
  const rangeHeader = header(ctx, 'x-amz-copy-source-range');
  if (rangeHeader !== undefined) {
    const match = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader);
    if (!match || Number(match[1]) > Number(match[2]) || Number(match[2]) >= size) {
      throw new S3Error(
        'InvalidArgument',
        `Range specified is not valid for source object of size: ${size}`,
        {
          extra: { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: rangeHeader },
        },
      );
    }
    start = Number(match[1]);
    end = Number(match[2]);
  }
  if (end - start + 1 > S3_LIMITS.maxPartSize)
    throw new S3Error('InvalidRequest', 'The specified copy range is larger than 5 GiB.');
  const copied = await copyBytes(ctx, source.object, start, end, upload.checksumAlgorithm);
  const etag = `"${copied.md5.toString('hex')}"`;
  const checksum = copied.checksum?.toString('base64');
  let lastModified: number;
  try {
    const part = await ctx.storage.putPart(upload.uploadId, {
      partNumber,
      blobId: copied.blob.blobId,
      size: copied.blob.size,
      etag,
      ...(checksum ? { checksum } : {}),
    });
    lastModified = part.lastModified;
  } catch (error) {
    await ctx.storage.discardBlob(copied.blob.blobId);
    throw error;
  }
  const result: Record<string, string> = { ETag: etag, LastModified: xmlTimestamp(lastModified) };
  if (upload.checksumAlgorithm && checksum) result[checksumElement(upload.checksumAlgorithm)] = checksum;
  sendXml(ctx, 200, 'CopyPartResult', result, SSE_S3_HEADER);
}
