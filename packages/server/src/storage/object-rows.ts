/**
 * Row changes shared by the commits that write objects (PutObject, CompleteMultipartUpload,
 * and the deletes they imply). Each runs inside the caller's transaction and returns the
 * blobs it stopped referencing, for the caller to release after COMMIT.
 */
import {
  encodeHeaders,
  type ObjectRow,
  type PartRow,
  row,
  rows,
  type SegmentRow,
  type Statements,
  toObjectRecord,
  toSegment,
  type UploadRow,
} from './meta.ts';
import {
  type MultipartUploadRecord,
  type NewObject,
  type ObjectRecord,
  type ObjectSegment,
  StorageError,
  type WriteConditions,
} from './types.ts';

/** Deletes the object at `key` if any, once the write's conditions hold (inside the commit); returns its blobs. */
export function replaceExisting(
  sql: Statements,
  bucket: string,
  key: string,
  conditions: WriteConditions = {},
): string[] {
  const existing = row<{ id: number; etag: string }>(sql.getObject, bucket, key);
  if (conditions.ifMatch && (existing === undefined || !conditions.ifMatch(existing.etag))) {
    throw new StorageError('ConditionalRequestConflict', `${key} changed during the conditional write`);
  }
  if (existing === undefined) return [];
  if (conditions.ifNoneMatch) throw new StorageError('PreconditionFailed', `${key} already exists`);
  return removeObject(sql, existing.id);
}

export function removeObject(sql: Statements, id: number): string[] {
  const blobs = rows<{ blob_id: string }>(sql.deleteSegments, id).map((r) => r.blob_id);
  sql.deleteObject.run(id);
  return blobs;
}

export function insertObject(
  sql: Statements,
  lastModified: number,
  bucket: string,
  key: string,
  object: NewObject,
): ObjectRecord {
  const objectRow: Omit<ObjectRow, 'id'> = {
    bucket,
    key,
    size: object.size,
    etag: object.etag,
    last_modified: lastModified,
    headers: encodeHeaders(object, object.userMetadata),
    checksum_algorithm: object.checksum?.algorithm ?? null,
    checksum_type: object.checksum?.type ?? null,
    checksum_value: object.checksum?.value ?? null,
    parts_count: object.partsCount ?? null,
  };
  const { id } = sql.insertObject.get(objectRow) as { id: number };
  const segments: ObjectSegment[] = [];
  for (const [idx, s] of object.segments.entries()) {
    const segmentRow: SegmentRow = {
      blob_id: s.blobId,
      size: s.size,
      part_number: s.partNumber ?? null,
      etag: s.etag ?? null,
      checksum: s.checksum ?? null,
    };
    sql.insertSegment.run({ object_id: id, idx, ...segmentRow });
    segments.push(toSegment(segmentRow));
  }
  return toObjectRecord({ id, ...objectRow }, segments);
}

/**
 * CompleteMultipartUpload's rows: checks the upload is still there with the parts the
 * caller read (one may have been re-uploaded since), replaces any object at the key,
 * turns the parts into the object's segments and remembers the completion.
 */
export function completeUploadRows(
  sql: Statements,
  lastModified: number,
  upload: MultipartUploadRecord,
  object: NewObject,
  options: WriteConditions | undefined,
): { result: ObjectRecord; released: string[] } {
  const current = row<UploadRow>(sql.getUpload, upload.uploadId);
  if (current === undefined || current.bucket !== upload.bucket || current.key !== upload.key) {
    throw new StorageError('NoSuchUpload', `upload ${upload.uploadId} does not exist`);
  }
  // The parts as committed now: one may have been re-uploaded since the caller read them.
  const partBlobs = new Map(rows<PartRow>(sql.allParts, upload.uploadId).map((r) => [r.blob_id, r] as const));
  for (const segment of object.segments) {
    const part = partBlobs.get(segment.blobId);
    if (part === undefined || part.size !== segment.size) {
      throw new StorageError(
        'InvalidPart',
        `part ${segment.partNumber ?? '?'} is no longer the uploaded one`,
      );
    }
  }
  const released = replaceExisting(sql, upload.bucket, upload.key, options);
  const used = new Set(object.segments.map((segment) => segment.blobId));
  for (const r of rows<{ blob_id: string }>(sql.deleteParts, upload.uploadId)) {
    if (!used.has(r.blob_id)) released.push(r.blob_id);
  }
  sql.deleteUpload.run(upload.uploadId);
  const record = insertObject(sql, lastModified, upload.bucket, upload.key, object);
  const checksum = object.checksum;
  sql.insertCompleted.run(
    upload.uploadId,
    upload.bucket,
    upload.key,
    object.etag,
    checksum?.algorithm ?? null,
    checksum?.type ?? null,
    checksum?.value ?? null,
    record.lastModified,
  );
  return { result: record, released };
}
