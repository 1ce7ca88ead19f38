/**
 * CompleteMultipartUpload. Completion never copies bytes: the object becomes a
 * manifest of its parts' blobs, so completing 10,000 parts costs one SQLite transaction.
 */
import { nodesOf, parseXmlBody, S3Error, textOf } from '@hoist/aws/s3';
import { type ChecksumAlgorithm, checksumHeaderName, defaultChecksumType, S3_LIMITS } from '@hoist/protocol';
import { combineCrcs, compositeChecksum, multipartEtag } from '../checksum/index.ts';
import type { MultipartUploadRecord, ObjectChecksum, ObjectSegment } from '../storage/types.ts';
import { existingBucket } from './buckets.ts';
import { CHECKSUM_ELEMENT } from './checksum-element.ts';
import { header, requireBucketName, requireKey, type S3Context, sendXml } from './context.ts';
import { contentHeadersOf, SSE_S3_HEADER } from './object-headers.ts';
import { conditionalCreate, conditionalReplace, preconditionFailedForExisting } from './objects.ts';
import { readSmallBody } from './payload.ts';

/**
 * The largest valid Complete document, with room: 10,000 parts, each with a quoted ETag
 * written as entities, every checksum element and pretty-printing, is under 512 bytes a
 * part. Parsing is then bounded too: eight elements a part, short texts.
 */
const MAX_COMPLETE_BODY = S3_LIMITS.maxParts * 512 + 4096;
const COMPLETE_XML_LIMITS = { maxElements: 1 + S3_LIMITS.maxParts * 8, maxTextChars: 1024 };

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
