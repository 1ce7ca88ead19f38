/**
 * The Storage implementation: blob files (blobs.ts) + SQLite metadata (meta.ts).
 *
 * Commit protocol, for every mutation:
 *   1. the blobs a commit will reference are already durable (writeBlob syncs);
 *   2. one BEGIN IMMEDIATE … COMMIT applies every row change and every check
 *      (bucket exists, If-None-Match, upload still there, parts unchanged);
 *   3. only after COMMIT, blobs no row references any more are unlinked, in the
 *      background. A crash between 2 and 3 leaves orphans, removed at open.
 *
 * Who removes which blob: the caller owns a blob from writeBlob/copyToBlob
 * until a commit that references it succeeds; when that commit throws (e.g.
 * PreconditionFailed, NoSuchUpload) the caller calls discardBlob. From a
 * successful commit on, storage owns it and removes it when a later commit
 * releases it. discardBlob never removes a blob a row references, so calling
 * it by mistake after a success is harmless.
 */
import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { Readable, Writable } from 'node:stream';
import type { BlobStore } from './blobs.ts';
import {
  type BucketRow,
  type CompletedRow,
  encodeHeaders,
  type ObjectRow,
  type PartRow,
  row,
  rows,
  type SegmentRow,
  type Statements,
  toBucket,
  toCompleted,
  toObjectRecord,
  toPart,
  toSegment,
  toUpload,
  transaction,
  type UploadRow,
} from './meta.ts';
import { completeUploadRows, insertObject, removeObject, replaceExisting } from './object-rows.ts';
import { listObjectsPage, listUploadsPage } from './queries.ts';
import { checkRange, readSegments } from './read.ts';
import { sendSegments } from './send.ts';
import {
  type BlobRef,
  type BucketRecord,
  type CompletedUploadRecord,
  type CorsRule,
  type LifecycleRule,
  type ListObjectsQuery,
  type ListObjectsResult,
  type ListUploadsQuery,
  type ListUploadsResult,
  type MultipartUploadRecord,
  type NewObject,
  type ObjectRecord,
  type ObjectSegment,
  type PartRecord,
  type Storage,
  StorageError,
  type WriteBlobOptions,
  type WriteConditions,
} from './types.ts';
import { checkKey, checkListing, checkNewObject } from './validate.ts';
import type { WalSync } from './wal-sync.ts';

export interface RecoveryReport {
  /** Files removed from `blobs/`: blobs no row references, crash leftovers, anything foreign. */
  orphansRemoved: number;
  /** Completed-upload records older than the retention. */
  completedUploadsPruned: number;
}

export class FsSqliteStorage implements Storage {
  readonly #db: DatabaseSync;
  readonly #sql: Statements;
  readonly #blobs: BlobStore;
  readonly #clock: () => number;
  /** Syncs the WAL after commits run without SQLite's own sync; absent when not durable. */
  readonly #wal: WalSync | undefined;
  #closed = false;
  /** What the open cleaned up, for logs. */
  readonly recovered: RecoveryReport;

  constructor(
    db: DatabaseSync,
    sql: Statements,
    blobs: BlobStore,
    clock: () => number,
    recovered: RecoveryReport,
    wal?: WalSync,
  ) {
    this.recovered = recovered;
    this.#wal = wal;
    this.#db = db;
    this.#sql = sql;
    this.#blobs = blobs;
    this.#clock = clock;
  }

  // Buckets

  createBucket(name: string, region: string): BucketRecord {
    return this.#write(() => {
      if (row(this.#sql.getBucket, name) !== undefined) {
        throw new StorageError('BucketAlreadyOwnedByYou', `bucket ${name} already exists`);
      }
      const createdAt = this.#clock();
      this.#sql.insertBucket.run(name, region, createdAt);
      return { name, region, createdAt, cors: null };
    });
  }

  getBucket(name: string): BucketRecord | undefined {
    this.#assertOpen();
    const r = row<BucketRow>(this.#sql.getBucket, name);
    return r === undefined ? undefined : toBucket(r);
  }

  listBuckets(): BucketRecord[] {
    this.#assertOpen();
    return rows<BucketRow>(this.#sql.listBuckets).map(toBucket);
  }

  /**
   * BucketNotEmpty while objects remain. AWS documents the no-uploads rule for
   * directory buckets only; a general purpose bucket holding only in-progress
   * uploads is deleted, and its uploads with it (issue 13), so here too.
   */
  deleteBucket(name: string): void {
    this.#mutate(() => {
      this.#requireBucket(name);
      if (row(this.#sql.anyObject, name) !== undefined) {
        throw new StorageError('BucketNotEmpty', `bucket ${name} still holds objects`);
      }
      // A general purpose bucket goes with its in-progress uploads (S3 deletes them too).
      const released: string[] = [];
      for (const { upload_id } of rows<{ upload_id: string }>(this.#sql.uploadIdsOfBucket, name)) {
        for (const part of rows<{ blob_id: string }>(this.#sql.deleteParts, upload_id))
          released.push(part.blob_id);
        this.#sql.deleteUpload.run(upload_id);
      }
      this.#sql.deleteCompletedOfBucket.run(name);
      this.#sql.deleteBucket.run(name);
      return { result: undefined, released };
    });
  }

  setBucketCors(name: string, rules: CorsRule[] | null): void {
    this.#write(() => {
      this.#requireBucket(name);
      this.#sql.setCors.run(rules === null ? null : JSON.stringify(rules), name);
    });
  }

  getBucketLifecycle(name: string): LifecycleRule[] | null {
    this.#assertOpen();
    const r = row<{ lifecycle: string | null }>(this.#sql.getLifecycle, name);
    if (r === undefined) throw new StorageError('NoSuchBucket', `bucket ${name} does not exist`);
    return r.lifecycle === null ? null : (JSON.parse(r.lifecycle) as LifecycleRule[]);
  }

  setBucketLifecycle(name: string, rules: LifecycleRule[] | null): void {
    this.#write(() => {
      this.#requireBucket(name);
      this.#sql.setLifecycle.run(rules === null ? null : JSON.stringify(rules), name);
    });
  }

  // Blobs

  async writeBlob(chunks: AsyncIterable<Uint8Array>, options?: WriteBlobOptions): Promise<BlobRef> {
    this.#assertOpen();
    return this.#blobs.write(chunks, options);
  }

  /**
   * Never removes a blob a row references. After close() it leaves the file
   * alone (references can no longer be checked): the next open removes it.
   */
  async discardBlob(blobId: string): Promise<void> {
    this.#blobs.pathOf(blobId);
    if (this.#closed || this.#referenced(blobId)) return;
    await this.#blobs.remove(blobId);
  }

  async copyToBlob(
    segments: readonly ObjectSegment[],
    start: number,
    endInclusive: number,
  ): Promise<BlobRef> {
    this.#assertOpen();
    checkRange(segments, start, endInclusive);
    let offset = 0;
    for (const segment of segments) {
      if (segment.size > 0 && offset === start && offset + segment.size - 1 === endInclusive) {
        return this.#blobs.copy(segment.blobId);
      }
      offset += segment.size;
    }
    return this.#blobs.write(this.readRange(segments, start, endInclusive));
  }

  readRange(segments: readonly ObjectSegment[], start: number, endInclusive: number): Readable {
    this.#assertOpen();
    return readSegments((id) => this.#blobs.pathOf(id), segments, start, endInclusive);
  }

  sendRange(
    segments: readonly ObjectSegment[],
    start: number,
    endInclusive: number,
    out: Writable,
  ): Promise<void> {
    this.#assertOpen();
    return sendSegments((id) => this.#blobs.pathOf(id), segments, start, endInclusive, out);
  }

  // Objects

  putObject(bucket: string, key: string, object: NewObject, options?: WriteConditions): ObjectRecord {
    checkKey(key);
    checkNewObject(object);
    return this.#mutate(() => {
      this.#requireBucket(bucket);
      const released = replaceExisting(this.#sql, bucket, key, options);
      const record = insertObject(this.#sql, this.#clock(), bucket, key, object);
      return { result: record, released };
    });
  }

  getObject(bucket: string, key: string): ObjectRecord | undefined {
    this.#assertOpen();
    this.#requireBucket(bucket);
    const r = row<ObjectRow>(this.#sql.getObject, bucket, key);
    if (r === undefined) return undefined;
    return toObjectRecord(r, rows<SegmentRow>(this.#sql.getSegments, r.id).map(toSegment));
  }

  deleteObject(bucket: string, key: string): boolean {
    return this.#mutate(() => {
      this.#requireBucket(bucket);
      const existing = row<{ id: number }>(this.#sql.objectId, bucket, key);
      return {
        result: existing !== undefined,
        released: existing ? removeObject(this.#sql, existing.id) : [],
      };
    });
  }

  listObjects(bucket: string, query: ListObjectsQuery): ListObjectsResult {
    this.#assertOpen();
    checkListing(query.prefix, query.delimiter, query.after, query.maxKeys, 'maxKeys');
    this.#requireBucket(bucket);
    return listObjectsPage(this.#sql, bucket, query);
  }

  // Multipart

  createMultipartUpload(init: Omit<MultipartUploadRecord, 'uploadId' | 'initiated'>): MultipartUploadRecord {
    checkKey(init.key);
    return this.#write(() => {
      this.#requireBucket(init.bucket);
      // 256 random bits, URL-safe: unguessable, and usable as-is in a query string.
      const uploadRow: UploadRow = {
        // Hex: an id starting with '-' would read as an option to command-line clients.
        upload_id: randomBytes(32).toString('hex'),
        bucket: init.bucket,
        key: init.key,
        initiated: this.#clock(),
        headers: encodeHeaders(init, init.userMetadata),
        checksum_algorithm: init.checksumAlgorithm ?? null,
        checksum_type: init.checksumType ?? null,
      };
      this.#sql.insertUpload.run(uploadRow);
      return toUpload(uploadRow);
    });
  }

  getMultipartUpload(bucket: string, key: string, uploadId: string): MultipartUploadRecord | undefined {
    this.#assertOpen();
    this.#requireBucket(bucket);
    const r = row<UploadRow>(this.#sql.getUpload, uploadId);
    return r === undefined || r.bucket !== bucket || r.key !== key ? undefined : toUpload(r);
  }

  /**
   * The busiest commit (one per part): its WAL sync runs on the threadpool, shared
   * with the parts committing meanwhile, instead of inside COMMIT on the event loop.
   * Resolves once the row is durable, as every other commit is when it returns.
   */
  async putPart(uploadId: string, part: Omit<PartRecord, 'lastModified'>): Promise<PartRecord> {
    if (!Number.isSafeInteger(part.partNumber) || part.partNumber < 1) {
      throw new TypeError(`partNumber must be a positive integer, got ${part.partNumber}`);
    }
    const record = this.#unsynced(() => this.#putPartRows(uploadId, part));
    await this.#wal?.sync();
    return record;
  }

  #putPartRows(uploadId: string, part: Omit<PartRecord, 'lastModified'>): PartRecord {
    return this.#mutate(() => {
      this.#requireUpload(uploadId);
      const previous = row<PartRow>(this.#sql.getPart, uploadId, part.partNumber);
      const partRow: PartRow = {
        part_number: part.partNumber,
        blob_id: part.blobId,
        size: part.size,
        etag: part.etag,
        checksum: part.checksum ?? null,
        last_modified: this.#clock(),
      };
      this.#sql.upsertPart.run({ upload_id: uploadId, ...partRow });
      const released = previous !== undefined && previous.blob_id !== part.blobId ? [previous.blob_id] : [];
      return { result: toPart(partRow), released };
    });
  }

  listParts(
    uploadId: string,
    marker: number,
    maxParts: number,
  ): { parts: PartRecord[]; isTruncated: boolean } {
    this.#assertOpen();
    if (!Number.isSafeInteger(maxParts) || maxParts < 0) {
      throw new TypeError('maxParts must be an integer >= 0');
    }
    this.#requireUpload(uploadId);
    const found = rows<PartRow>(this.#sql.partsAfter, uploadId, marker, maxParts + 1);
    return { parts: found.slice(0, maxParts).map(toPart), isTruncated: found.length > maxParts };
  }

  getParts(uploadId: string): Map<number, PartRecord> {
    this.#assertOpen();
    this.#requireUpload(uploadId);
    return new Map(rows<PartRow>(this.#sql.allParts, uploadId).map((r) => [r.part_number, toPart(r)]));
  }

  listMultipartUploads(bucket: string, query: ListUploadsQuery): ListUploadsResult {
    this.#assertOpen();
    checkListing(query.prefix, query.delimiter, query.keyMarker, query.maxUploads, 'maxUploads');
    this.#requireBucket(bucket);
    return listUploadsPage(this.#sql, bucket, query);
  }

  completeMultipartUpload(
    upload: MultipartUploadRecord,
    object: NewObject,
    options?: WriteConditions,
  ): ObjectRecord {
    checkNewObject(object);
    return this.#mutate(() => completeUploadRows(this.#sql, this.#clock(), upload, object, options));
  }

  getCompletedUpload(uploadId: string): CompletedUploadRecord | undefined {
    this.#assertOpen();
    const r = row<CompletedRow>(this.#sql.getCompleted, uploadId);
    return r === undefined ? undefined : toCompleted(r);
  }

  abortMultipartUpload(uploadId: string): void {
    this.#mutate(() => {
      this.#requireUpload(uploadId);
      const released = rows<{ blob_id: string }>(this.#sql.deleteParts, uploadId).map((r) => r.blob_id);
      this.#sql.deleteUpload.run(uploadId);
      return { result: undefined, released };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
    this.#wal?.close();
  }

  /** Resolves once blobs released by past commits have been unlinked (tests, graceful shutdown). */
  idle(): Promise<void> {
    return this.#blobs.idle();
  }

  // Internals

  /** One write transaction (BEGIN IMMEDIATE … COMMIT). */
  #write<T>(fn: () => T): T {
    this.#assertOpen();
    return transaction(this.#db, fn);
  }

  /**
   * Runs `fn`'s commits with synchronous=NORMAL: SQLite writes the WAL frames but
   * does not sync them; the caller awaits `#wal.sync()` before acknowledging.
   * Without a WalSync (not durable) the connection's setting (OFF) stays.
   */
  #unsynced<T>(fn: () => T): T {
    if (this.#wal === undefined) return fn();
    this.#assertOpen();
    this.#db.exec('PRAGMA synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.#db.exec('PRAGMA synchronous = FULL');
    }
  }

  /**
   * One write transaction that may release blobs: those no row references any
   * more once `fn` ran (checked inside the transaction, so a blob the new rows
   * reuse stays) are unlinked after COMMIT.
   */
  #mutate<T>(fn: () => { result: T; released: string[] }): T {
    const { result, released } = this.#write(() => {
      const outcome = fn();
      return { result: outcome.result, released: outcome.released.filter((id) => !this.#referenced(id)) };
    });
    if (released.length > 0) this.#blobs.release(released);
    return result;
  }

  #referenced(blobId: string): boolean {
    return (row<{ used: number }>(this.#sql.blobReferenced, { id: blobId })?.used ?? 0) === 1;
  }

  #requireBucket(name: string): void {
    if (row(this.#sql.getBucket, name) === undefined) {
      throw new StorageError('NoSuchBucket', `bucket ${name} does not exist`);
    }
  }

  #requireUpload(uploadId: string): void {
    if (row(this.#sql.getUpload, uploadId) === undefined) {
      throw new StorageError('NoSuchUpload', `upload ${uploadId} does not exist`);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('storage is closed');
  }
}
