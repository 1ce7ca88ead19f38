/**
 * The local server's storage contract. Object keys are data, never paths:
 * bytes live in content-addressed-by-id blob files, everything else in SQLite.
 * Every mutation commits in one SQLite transaction after the blob files it
 * references are durable, so a crash leaves either the old or the new state;
 * unreferenced blob files are orphans and are removed at open.
 */
import type { Readable, Writable } from 'node:stream';
import type { ChecksumAlgorithm, ChecksumType } from '@hoist/protocol';
import { ServerError } from '../errors.ts';

/** A durable file of bytes, not yet or already referenced by metadata. */
export interface BlobRef {
  readonly blobId: string;
  readonly size: number;
}

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** One rule of a bucket lifecycle configuration (stored; the local server does not act on it). */
export interface LifecycleRule {
  id?: string;
  status: 'Enabled' | 'Disabled';
  /** The rule's scope; `legacyPrefix` when the rule used the top-level `Prefix` element. */
  filter: LifecycleFilter;
  legacyPrefix?: boolean;
  /** Expiration.Days */
  expirationDays?: number;
  /** Expiration.Date (ISO 8601, midnight UTC). */
  expirationDate?: string;
  expiredObjectDeleteMarker?: boolean;
  /** AbortIncompleteMultipartUpload.DaysAfterInitiation */
  abortIncompleteMultipartUploadDays?: number;
}

export interface LifecycleFilter {
  prefix?: string;
  tags?: { key: string; value: string }[];
  objectSizeGreaterThan?: number;
  objectSizeLessThan?: number;
}

export interface BucketRecord {
  name: string;
  region: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  cors: CorsRule[] | null;
}

/** Headers S3 stores with an object and returns on GET/HEAD. */
export interface ObjectHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
}

export interface ObjectChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
  /** base64 digest; composite multipart values carry the `-N` suffix. */
  value: string;
}

/** One stored piece of an object: the whole object for PutObject, a part for multipart. */
export interface ObjectSegment extends BlobRef {
  /** Part number as completed (multipart objects only). */
  partNumber?: number;
  /** The part's own ETag, quoted (multipart objects only). */
  etag?: string;
  /** The part's checksum (base64), when the upload had an algorithm. */
  checksum?: string;
}

export interface NewObject extends ObjectHeaders {
  size: number;
  /** Quoted ETag: `"md5hex"` or `"md5hex-N"`. */
  etag: string;
  userMetadata: Record<string, string>;
  checksum?: ObjectChecksum;
  segments: ObjectSegment[];
  /** Number of parts for multipart objects; absent for single PUTs. */
  partsCount?: number;
}

export interface ObjectRecord extends NewObject {
  bucket: string;
  key: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

/** Summary row for listings: no segments loaded. */
export interface ObjectSummary {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface ListObjectsQuery {
  prefix: string;
  delimiter: string;
  /** Exclusive lower bound (StartAfter, Marker, or a decoded continuation token). */
  after: string;
  /** 0..1000 */
  maxKeys: number;
}

export interface ListObjectsResult {
  /** Objects and common prefixes merged in key order, at most maxKeys entries in all. */
  contents: ObjectSummary[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned, to continue after. */
  lastReturned?: string;
}

export interface MultipartUploadRecord extends ObjectHeaders {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  userMetadata: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface PartRecord extends BlobRef {
  partNumber: number;
  etag: string;
  lastModified: number;
  checksum?: string;
}

export interface ListUploadsQuery {
  prefix: string;
  delimiter: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
}

export interface ListUploadsResult {
  uploads: MultipartUploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/** What a finished CompleteMultipartUpload returned, kept to answer a repeated Complete. */
export interface CompletedUploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  etag: string;
  checksum?: ObjectChecksum;
  completedAt: number;
}

export type StorageErrorCode =
  | 'NoSuchBucket'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'NoSuchKey'
  | 'NoSuchUpload'
  /** CompleteMultipartUpload: a segment's part was re-uploaded or removed since the caller read the parts. */
  | 'InvalidPart'
  | 'PreconditionFailed'
  /** An `ifMatch` write whose object changed (or went away) since the caller checked it. */
  | 'ConditionalRequestConflict';

/**
 * Conditions a commit re-checks atomically: `ifNoneMatch` (the key must not exist) and
 * `ifMatch` (the key must exist and its current ETag satisfy the predicate).
 */
export interface WriteConditions {
  ifNoneMatch?: boolean;
  ifMatch?: (currentEtag: string) => boolean;
}

/** Domain failure; the S3 layer maps `code` to status and XML. */
export class StorageError extends ServerError<StorageErrorCode> {}

export interface WriteBlobOptions {
  /** Each chunk is a buffer the source never touches again (node:http request chunks are). */
  ownedChunks?: boolean;
}

export interface Storage {
  // Buckets
  createBucket(name: string, region: string): BucketRecord;
  getBucket(name: string): BucketRecord | undefined;
  listBuckets(): BucketRecord[];
  /** Throws BucketNotEmpty while objects remain; in-progress multipart uploads (and their parts) go with it. */
  deleteBucket(name: string): void;
  setBucketCors(name: string, rules: CorsRule[] | null): void;
  /** The bucket's lifecycle rules; null when it has none. Throws NoSuchBucket. */
  getBucketLifecycle(name: string): LifecycleRule[] | null;
  setBucketLifecycle(name: string, rules: LifecycleRule[] | null): void;

  // Blobs
  /**
   * Streams bytes into a new durable blob file (data synced before it resolves).
   * The blob is unreferenced until a commit below uses it; on error it is removed.
   * With `ownedChunks`, the source promises never to reuse or change a chunk it
   * yielded, so chunks are written as they are rather than copied first.
   */
  writeBlob(chunks: AsyncIterable<Uint8Array>, options?: WriteBlobOptions): Promise<BlobRef>;
  /**
   * Removes a blob that no commit will reference. The caller owns a blob from
   * writeBlob/copyToBlob until a commit using it succeeds, and discards it when
   * that commit throws. A blob some row references is never removed (no-op).
   */
  discardBlob(blobId: string): Promise<void>;
  /** Copies a byte range of an object's segments into a new durable blob (CopyObject, UploadPartCopy). */
  copyToBlob(segments: readonly ObjectSegment[], start: number, endInclusive: number): Promise<BlobRef>;
  /** Reads bytes [start, endInclusive] of an object across its segments. */
  readRange(segments: readonly ObjectSegment[], start: number, endInclusive: number): Readable;
  /**
   * Writes bytes [start, endInclusive] to `out` (GetObject) through a few reused
   * buffers, and resolves once every write has completed; never ends `out`. Rejects
   * on a read error, or when `out` closes first (code ERR_STREAM_PREMATURE_CLOSE).
   */
  sendRange(
    segments: readonly ObjectSegment[],
    start: number,
    endInclusive: number,
    out: Writable,
  ): Promise<void>;

  // Objects
  /**
   * Commits an object atomically, replacing any previous version (whose blobs are
   * then removed). With `ifNoneMatch`, throws PreconditionFailed when the key
   * exists at commit time: of two racing writers exactly one wins. With `ifMatch`,
   * throws ConditionalRequestConflict when the key is gone or its ETag no longer matches.
   */
  putObject(bucket: string, key: string, object: NewObject, options?: WriteConditions): ObjectRecord;
  /** With segments loaded. */
  getObject(bucket: string, key: string): ObjectRecord | undefined;
  /** Returns whether a key existed. Deleting a missing key is not an error (as S3). */
  deleteObject(bucket: string, key: string): boolean;
  listObjects(bucket: string, query: ListObjectsQuery): ListObjectsResult;

  // Multipart
  createMultipartUpload(init: Omit<MultipartUploadRecord, 'uploadId' | 'initiated'>): MultipartUploadRecord;
  getMultipartUpload(bucket: string, key: string, uploadId: string): MultipartUploadRecord | undefined;
  /**
   * Replaces any earlier upload of the same part number (its blob is removed).
   * Resolves once the row is durable; the row is visible to reads as soon as it
   * is committed, before that.
   */
  putPart(uploadId: string, part: Omit<PartRecord, 'lastModified'>): Promise<PartRecord>;
  /** Parts with partNumber > marker, ascending, at most maxParts (+ whether more exist). */
  listParts(
    uploadId: string,
    marker: number,
    maxParts: number,
  ): { parts: PartRecord[]; isTruncated: boolean };
  /** All parts by number, for completion. */
  getParts(uploadId: string): Map<number, PartRecord>;
  listMultipartUploads(bucket: string, query: ListUploadsQuery): ListUploadsResult;
  /**
   * Atomically turns the upload into the object `object` (whose segments are blobs
   * of this upload's parts, never copied), removes the upload, removes blobs of
   * parts not used, and records the result for repeated Completes.
   * Conditions as for putObject. Throws
   * InvalidPart when a segment is no longer the blob of a current part (the part
   * was re-uploaded since the caller read it); nothing changes then.
   */
  completeMultipartUpload(
    upload: MultipartUploadRecord,
    object: NewObject,
    options?: WriteConditions,
  ): ObjectRecord;
  getCompletedUpload(uploadId: string): CompletedUploadRecord | undefined;
  /** Throws NoSuchUpload when unknown. Removes all part blobs. */
  abortMultipartUpload(uploadId: string): void;

  close(): void;
}
