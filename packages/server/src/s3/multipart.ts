/**
 * Multipart uploads. Completion never copies bytes: the object becomes a manifest
 * of its parts' blobs, so completing 10,000 parts costs one SQLite transaction.
 */
import { nodesOf, parseXmlBody, S3Error, textOf, xmlTimestamp } from '@hoist/aws/s3';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  checksumHeaderName,
  defaultChecksumType,
  parseChecksumAlgorithm,
  S3_LIMITS,
  supportsFullObject,
} from '@hoist/protocol';
import { combineCrcs, compositeChecksum, multipartEtag } from '../checksum/index.ts';
import type { MultipartUploadRecord, ObjectChecksum, ObjectSegment } from '../storage/types.ts';
import { existingBucket, ownerOf } from './buckets.ts';
import { header, requireBucketName, requireKey, type S3Context, sendEmpty, sendXml } from './context.ts';
import { listEncoder, parseMaxKeys } from './listing.ts';
import { contentHeadersOf, SSE_S3_HEADER, storedHeadersFrom, userMetadataFrom } from './object-headers.ts';
import { conditionalCreate, conditionalReplace, preconditionFailedForExisting } from './objects.ts';
import { readSmallBody, receivePayload } from './payload.ts';

/**
 * The largest valid Complete document, with room: 10,000 parts, each with a quoted ETag
 * written as entities, every checksum element and pretty-printing, is under 512 bytes a
 * part. Parsing is then bounded too: eight elements a part, short texts.
 */
const MAX_COMPLETE_BODY = S3_LIMITS.maxParts * 512 + 4096;
const COMPLETE_XML_LIMITS = { maxElements: 1 + S3_LIMITS.maxParts * 8, maxTextChars: 1024 };
const CHECKSUM_ELEMENT: Record<ChecksumAlgorithm, string> = {
  CRC32: 'ChecksumCRC32',
  CRC32C: 'ChecksumCRC32C',
  CRC64NVME: 'ChecksumCRC64NVME',
  SHA1: 'ChecksumSHA1',
  SHA256: 'ChecksumSHA256',
};

export function checksumElement(algorithm: ChecksumAlgorithm): string {
  return CHECKSUM_ELEMENT[algorithm];
}

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
    ctx.storage.putPart(upload.uploadId, {
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

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

function parseCompleteBody(text: string): RequestedPart[] {
  const doc = parseXmlBody(text, 'CompleteMultipartUpload', COMPLETE_XML_LIMITS);
  const parts = nodesOf(doc, 'Part');
  if (parts.length === 0) throw new S3Error('MalformedXML', 'You must specify at least one part');
  if (parts.length > S3_LIMITS.maxParts) throw new S3Error('MalformedXML', 'Too many parts.');
  return parts.map((node) => {
    const number = textOf(node, 'PartNumber') ?? '';
    const etag = textOf(node, 'ETag');
    if (!/^\d{1,5}$/.test(number) || etag === undefined) throw new S3Error('MalformedXML');
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
    for (const [algorithm, element] of Object.entries(CHECKSUM_ELEMENT) as [ChecksumAlgorithm, string][]) {
      const value = textOf(node, element);
      if (value !== undefined) checksums[algorithm] = value;
    }
    return { partNumber: Number(number), etag: etag.replace(/^"|"$/g, ''), checksums };
  });
}

function completeResult(
  ctx: S3Context,
  bucket: string,
  key: string,
  etag: string,
  checksum: ObjectChecksum | undefined,
) {
  const host = ctx.req.headers.host ?? `${ctx.options.host}`;
  const location = `http://${host}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const body: Record<string, string> = { Location: location, Bucket: bucket, Key: key, ETag: etag };
  if (checksum) {
    body[CHECKSUM_ELEMENT[checksum.algorithm]] = checksum.value;
    body.ChecksumType = checksum.type;
  }
  sendXml(ctx, 200, 'CompleteMultipartUploadResult', body, SSE_S3_HEADER);
}

export async function completeMultipartUpload(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  const bucket = requireBucketName(ctx);
  const key = requireKey(ctx);
  const ifNoneMatch = conditionalCreate(ctx);
  const uploadId = ctx.query.get('uploadId') ?? '';
  const body = await readSmallBody(ctx, MAX_COMPLETE_BODY, { checksumHeadersDescribeObject: true });
  const upload = uploadId ? ctx.storage.getMultipartUpload(bucket, key, uploadId) : undefined;
  if (!upload) {
    // A retried Complete of an upload that did finish gets the same answer, while the object it made is still there.
    const done = uploadId ? ctx.storage.getCompletedUpload(uploadId) : undefined;
    const current =
      done && done.bucket === bucket && done.key === key ? ctx.storage.getObject(bucket, key) : undefined;
    if (done && current && current.etag === done.etag) {
      completeResult(ctx, bucket, key, done.etag, done.checksum);
      return;
    }
    throw new S3Error('NoSuchUpload', undefined, { extra: { UploadId: uploadId } });
  }
  const ifMatch = conditionalReplace(ctx, bucket, key);
  const requested = parseCompleteBody(body.toString('utf8'));
  const stored = ctx.storage.getParts(upload.uploadId);
  const segments: ObjectSegment[] = [];
  let previous = 0;
  let size = 0;
  for (const [index, part] of requested.entries()) {
    if (part.partNumber <= previous)
      throw new S3Error('InvalidPartOrder', undefined, { extra: { UploadId: upload.uploadId } });
    previous = part.partNumber;
    const record = stored.get(part.partNumber);
    const invalid = () =>
      new S3Error('InvalidPart', undefined, {
        extra: { UploadId: upload.uploadId, PartNumber: String(part.partNumber), ETag: part.etag },
      });
    if (!record || record.etag.replace(/"/g, '') !== part.etag) throw invalid();
    for (const [algorithm, value] of Object.entries(part.checksums) as [ChecksumAlgorithm, string][]) {
      if (algorithm !== upload.checksumAlgorithm || value !== record.checksum) throw invalid();
    }
    const isLast = index === requested.length - 1;
    if (!isLast && record.size < S3_LIMITS.minPartSize) {
      throw new S3Error('EntityTooSmall', undefined, {
        extra: {
          ProposedSize: String(record.size),
          MinSizeAllowed: String(S3_LIMITS.minPartSize),
          PartNumber: String(part.partNumber),
          ETag: record.etag.replace(/"/g, ''),
        },
      });
    }
    size += record.size;
    segments.push({
      blobId: record.blobId,
      size: record.size,
      partNumber: record.partNumber,
      etag: record.etag,
      ...(record.checksum ? { checksum: record.checksum } : {}),
    });
  }
  if (size > S3_LIMITS.maxObjectSize) throw new S3Error('EntityTooLarge');
  const etag = multipartEtag(
    segments.map((segment) => Buffer.from((segment.etag ?? '').replace(/"/g, ''), 'hex')),
  );
  const checksum = objectChecksum(upload, segments);
  if (checksum) {
    const claimed = header(ctx, checksumHeaderName(checksum.algorithm));
    if (
      claimed !== undefined &&
      claimed !== checksum.value &&
      `${claimed}-${segments.length}` !== checksum.value
    ) {
      throw new S3Error(
        'BadDigest',
        `The ${checksum.algorithm} you specified did not match the calculated checksum.`,
      );
    }
  }
  if (ifNoneMatch && ctx.storage.getObject(bucket, key)) throw preconditionFailedForExisting();
  ctx.storage.completeMultipartUpload(
    upload,
    {
      ...contentHeadersOf(upload),
      size,
      etag,
      userMetadata: upload.userMetadata,
      segments,
      partsCount: segments.length,
      ...(checksum ? { checksum } : {}),
    },
    { ifNoneMatch, ...(ifMatch ? { ifMatch } : {}) },
  );
  completeResult(ctx, bucket, key, etag, checksum);
}

/** The object's checksum: composite over part digests, or the CRC of all bytes folded from part CRCs. */
function objectChecksum(
  upload: MultipartUploadRecord,
  segments: ObjectSegment[],
): ObjectChecksum | undefined {
  const algorithm = upload.checksumAlgorithm;
  if (!algorithm) return undefined;
  const digests = segments.map((segment) => Buffer.from(segment.checksum ?? '', 'base64'));
  if (digests.some((digest) => digest.length === 0)) return undefined;
  const type = upload.checksumType ?? defaultChecksumType(algorithm);
  if (
    type === 'FULL_OBJECT' &&
    (algorithm === 'CRC32' || algorithm === 'CRC32C' || algorithm === 'CRC64NVME')
  ) {
    const folded = combineCrcs(
      algorithm,
      segments.map((segment, i) => ({ crc: digests[i] as Buffer, length: segment.size })),
    );
    return { algorithm, type, value: folded.toString('base64') };
  }
  return { algorithm, type: 'COMPOSITE', value: compositeChecksum(algorithm, digests) };
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
