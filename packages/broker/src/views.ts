/** Pure helpers of the lifecycle: API views of records, ids, and how objects are compared. */
import { createHash, randomBytes } from 'node:crypto';
import type { UploadPartView, UploadView } from '@hoist/protocol';
import { type ChecksumAlgorithm, type ChecksumType, supportsFullObject } from '@hoist/protocol';
import type { ListedPart } from './aws.ts';
import type { UploadRecord } from './types.ts';

/** 128 random bits as 25 base36 characters: URL-safe, never starting with `-`. */
export function randomId(): string {
  return BigInt(`0x${randomBytes(16).toString('hex')}`)
    .toString(36)
    .padStart(25, '0');
}

/**
 * How S3 checksums an upload's object. CRC multipart uploads are created FULL_OBJECT (the CRC of
 * all the bytes, which the client can send at completion); SHA ones can only be COMPOSITE; a
 * single PutObject's checksum is always of the whole object.
 */
export function uploadChecksumType(algorithm: ChecksumAlgorithm, multipart: boolean): ChecksumType {
  return !multipart || supportsFullObject(algorithm) ? 'FULL_OBJECT' : 'COMPOSITE';
}

export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** S3's multipart ETag: MD5 of the parts' binary MD5s, then `-N`. */
export function multipartEtag(parts: readonly { etag: string }[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(Buffer.from(normalizeEtag(part.etag), 'hex'));
  return `${hash.digest('hex')}-${parts.length}`;
}

/** Media types compare case-insensitively and without whitespace around parameters. */
export function sameType(actual: string | undefined, declared: string): boolean {
  const norm = (t: string) =>
    t
      .toLowerCase()
      .replace(/\s*;\s*/g, ';')
      .trim();
  return actual !== undefined && norm(actual) === norm(declared);
}

export function partView(part: ListedPart): UploadPartView {
  const view: UploadPartView = { partNumber: part.partNumber, size: part.size, etag: part.etag };
  if (part.checksum) view.checksum = part.checksum;
  return view;
}

const ENDED: ReadonlySet<string> = new Set(['rejected', 'aborted', 'expired']);

export function toView(record: UploadRecord, parts?: UploadPartView[]): UploadView {
  const view: UploadView = {
    id: record.id,
    status: record.status,
    filename: record.filename,
    key: record.key,
    size: record.size,
    contentType: record.contentType,
    mode: record.mode,
    uploadId: record.uploadId,
    partSize: record.partSize,
    checksumAlgorithm: record.checksumAlgorithm,
    createdAt: new Date(record.createdAt).toISOString(),
  };
  if (record.checksum) view.checksum = record.checksum;
  if (record.etag) view.etag = record.etag;
  if (record.completedAt !== undefined) view.completedAt = new Date(record.completedAt).toISOString();
  // Why it ended; a create retried after a failure keeps the old reason, which no longer applies.
  if (record.reason && ENDED.has(record.status)) view.reason = record.reason;
  if (parts) view.parts = parts;
  return view;
}
