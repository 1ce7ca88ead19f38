/**
 * Multipart uploads: Create, UploadPart, Abort, ListParts, ListMultipartUploads
 * (CompleteMultipartUpload is in complete-multipart.ts).
 */
import { S3Error, xmlTimestamp } from '@hoist/aws/s3';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  checksumHeaderName,
  defaultChecksumType,
  parseChecksumAlgorithm,
  S3_LIMITS,
  supportsFullObject,
} from '@hoist/protocol';
import type { MultipartUploadRecord } from '../storage/types.ts';
import { existingBucket, ownerOf } from './buckets.ts';
import { CHECKSUM_ELEMENT } from './checksum-element.ts';
import { header, requireBucketName, requireKey, type S3Context, sendEmpty, sendXml } from './context.ts';
import { listEncoder, parseMaxKeys } from './listing.ts';
import { SSE_S3_HEADER, storedHeadersFrom, userMetadataFrom } from './object-headers.ts';
import { receivePayload } from './payload.ts';

export { checksumElement } from './checksum-element.ts';
export { completeMultipartUpload } from './complete-multipart.ts';

function uploadChecksumSettings(ctx: S3Context): {
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
} {
  const algorithmHeader = header(ctx, 'x-amz-checksum-algorithm');
  const typeHeader = header(ctx, 'x-amz-checksum-type');
  if (algorithmHeader === undefined) {
    if (typeHeader !== undefined) {
      throw new S3Error(
        'InvalidRequest',
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      );
    }
    return {};
  }
  const algorithm = parseChecksumAlgorithm(algorithmHeader);
  if (!algorithm) {
    throw new S3Error(
      'InvalidRequest',
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    );
  }
  const type = typeHeader === undefined ? defaultChecksumType(algorithm) : typeHeader.toUpperCase();
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  }
  if (type === 'FULL_OBJECT' && !supportsFullObject(algorithm)) {
    throw new S3Error(
      'InvalidRequest',
      `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  }
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw new S3Error(
      'InvalidRequest',
      'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.',
    );
  }
  return { checksumAlgorithm: algorithm, checksumType: type };
}

function checksumHeaders(
  algorithm: ChecksumAlgorithm | undefined,
  type: ChecksumType | undefined,
): Record<string, string> {
  if (!algorithm) return {};
  const out: Record<string, string> = { 'x-amz-checksum-algorithm': algorithm };
  if (type) out['x-amz-checksum-type'] = type;
  return out;
}

export function createMultipartUpload(ctx: S3Context): void {
  existingBucket(ctx);
  const bucket = requireBucketName(ctx);
  const key = requireKey(ctx);
  const settings = uploadChecksumSettings(ctx);
  const upload = ctx.storage.createMultipartUpload({
    bucket,
    key,
    ...storedHeadersFrom(ctx),
    userMetadata: userMetadataFrom(ctx),
    ...settings,
  });
  sendXml(
    ctx,
    200,
    'InitiateMultipartUploadResult',
    { Bucket: bucket, Key: key, UploadId: upload.uploadId },
    { ...checksumHeaders(settings.checksumAlgorithm, settings.checksumType), ...SSE_S3_HEADER },
  );
}

/** The upload named by `uploadId` on this bucket and key, or NoSuchUpload. */
export function existingUpload(ctx: S3Context): MultipartUploadRecord {
  const uploadId = ctx.query.get('uploadId') ?? '';
  const upload = uploadId
    ? ctx.storage.getMultipartUpload(requireBucketName(ctx), requireKey(ctx), uploadId)
    : undefined;
  if (!upload) throw new S3Error('NoSuchUpload', undefined, { extra: { UploadId: uploadId } });
  return upload;
}

export function parseUploadPartNumber(ctx: S3Context): number {
  const value = ctx.query.get('partNumber') ?? '';
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > S3_LIMITS.maxParts) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      extra: { ArgumentName: 'partNumber', ArgumentValue: value },
    });
  }
  return Number(value);
}

export async function uploadPart(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  const partNumber = parseUploadPartNumber(ctx);
  const upload = existingUpload(ctx);
  const payload = receivePayload(
    ctx,
    upload.checksumAlgorithm
      ? { maxSize: S3_LIMITS.maxPartSize, requireAlgorithm: upload.checksumAlgorithm }
      : { maxSize: S3_LIMITS.maxPartSize },
  );
  const blob = await ctx.storage.writeBlob(payload.chunks, { ownedChunks: true });
  let etag: string;
  let checksum: string | undefined;
  try {
    const received = payload.result();
    etag = `"${received.md5.toString('hex')}"`;
    checksum = received.checksum?.base64;
    await ctx.storage.putPart(upload.uploadId, {
      partNumber,
      blobId: blob.blobId,
      size: blob.size,
      etag,
      ...(checksum ? { checksum } : {}),
    });
  } catch (error) {
    await ctx.storage.discardBlob(blob.blobId);
    throw error;
  }
  const out: Record<string, string> = { etag, ...SSE_S3_HEADER };
  const algorithm = payload.result().checksum?.algorithm;
  if (checksum && algorithm) out[checksumHeaderName(algorithm)] = checksum;
  sendEmpty(ctx, 200, out);
}

export function abortMultipartUpload(ctx: S3Context): void {
  existingBucket(ctx);
  const upload = existingUpload(ctx);
  ctx.storage.abortMultipartUpload(upload.uploadId);
  sendEmpty(ctx, 204);
}

export function listParts(ctx: S3Context): void {
  existingBucket(ctx);
  const upload = existingUpload(ctx);
  const maxParts = parseMaxKeys(ctx, 'max-parts');
  const markerText = ctx.query.get('part-number-marker') ?? '0';
  if (!/^\d{1,5}$/.test(markerText)) {
    throw new S3Error(
      'InvalidArgument',
      'Provided part-number-marker not an integer or within integer range',
      {
        extra: { ArgumentName: 'part-number-marker', ArgumentValue: markerText },
      },
    );
  }
  const marker = Number(markerText);
  const { parts, isTruncated } = ctx.storage.listParts(upload.uploadId, marker, maxParts);
  const owner = ownerOf(ctx);
  const algorithm = upload.checksumAlgorithm;
  sendXml(ctx, 200, 'ListPartsResult', {
    Bucket: upload.bucket,
    Key: upload.key,
    UploadId: upload.uploadId,
    Initiator: owner,
    Owner: owner,
    StorageClass: 'STANDARD',
    PartNumberMarker: marker,
    NextPartNumberMarker: parts.length > 0 ? parts[parts.length - 1]?.partNumber : undefined,
    MaxParts: maxParts,
    IsTruncated: isTruncated,
    ChecksumAlgorithm: algorithm,
    ChecksumType: upload.checksumType,
    Part: parts.map((part) => ({
      PartNumber: part.partNumber,
      LastModified: xmlTimestamp(part.lastModified),
      ETag: part.etag,
      Size: part.size,
      ...(algorithm && part.checksum ? { [CHECKSUM_ELEMENT[algorithm]]: part.checksum } : {}),
    })),
  });
}

export function listMultipartUploads(ctx: S3Context): void {
  existingBucket(ctx);
  const encode = listEncoder(ctx);
  const maxUploads = parseMaxKeys(ctx, 'max-uploads');
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const uploadIdMarker = keyMarker ? (ctx.query.get('upload-id-marker') ?? '') : '';
  const result = ctx.storage.listMultipartUploads(requireBucketName(ctx), {
    prefix,
    delimiter,
    keyMarker,
    uploadIdMarker,
    maxUploads,
  });
  const owner = ownerOf(ctx);
  sendXml(ctx, 200, 'ListMultipartUploadsResult', {
    Bucket: requireBucketName(ctx),
    KeyMarker: encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: result.nextKeyMarker !== undefined ? encode(result.nextKeyMarker) : undefined,
    NextUploadIdMarker: result.nextUploadIdMarker,
    Prefix: encode(prefix),
    Delimiter: delimiter ? encode(delimiter) : undefined,
    MaxUploads: maxUploads,
    EncodingType: ctx.query.get('encoding-type') ?? undefined,
    IsTruncated: result.isTruncated,
    Upload: result.uploads.map((upload) => ({
      Key: encode(upload.key),
      UploadId: upload.uploadId,
      Initiator: owner,
      Owner: owner,
      StorageClass: 'STANDARD',
      Initiated: xmlTimestamp(upload.initiated),
      ChecksumAlgorithm: upload.checksumAlgorithm,
      ChecksumType: upload.checksumType,
    })),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
}
