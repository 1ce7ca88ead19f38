/**
 * Prepared statements over the metadata database and the mapping between rows
 * and the records of types.ts. No policy here: fs-sqlite.ts decides what runs in
 * which transaction.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { ChecksumAlgorithm, ChecksumType } from '../../protocol/checksum.ts';
import type {
  BucketRecord,
  CompletedUploadRecord,
  CorsRule,
  MultipartUploadRecord,
  ObjectChecksum,
  ObjectHeaders,
  ObjectRecord,
  ObjectSegment,
  ObjectSummary,
  PartRecord,
} from './types.ts';

const HEADER_FIELDS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'expires',
] as const satisfies readonly (keyof ObjectHeaders)[];

interface StoredHeaders extends ObjectHeaders {
  userMetadata: Record<string, string>;
}

export type BucketRow = {
  name: string;
  region: string;
  created_at: number;
  cors: string | null;
};

export type ObjectRow = {
  id: number;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  last_modified: number;
  headers: string;
  checksum_algorithm: string | null;
  checksum_type: string | null;
  checksum_value: string | null;
  parts_count: number | null;
};

export type SummaryRow = Pick<
  ObjectRow,
  'key' | 'size' | 'etag' | 'last_modified' | 'checksum_algorithm' | 'checksum_type'
>;

export type SegmentRow = {
  blob_id: string;
  size: number;
  part_number: number | null;
  etag: string | null;
  checksum: string | null;
};

export type UploadRow = {
  upload_id: string;
  bucket: string;
  key: string;
  initiated: number;
  headers: string;
  checksum_algorithm: string | null;
  checksum_type: string | null;
};

export type PartRow = {
  part_number: number;
  blob_id: string;
  size: number;
  etag: string;
  checksum: string | null;
  last_modified: number;
};

export type CompletedRow = {
  upload_id: string;
  bucket: string;
  key: string;
  etag: string;
  checksum_algorithm: string | null;
  checksum_type: string | null;
  checksum_value: string | null;
  completed_at: number;
};

const OBJECT_COLUMNS =
  'id, bucket, key, size, etag, last_modified, headers, checksum_algorithm, checksum_type, checksum_value, parts_count';
const SUMMARY_COLUMNS = 'key, size, etag, last_modified, checksum_algorithm, checksum_type';
const UPLOAD_COLUMNS = 'upload_id, bucket, key, initiated, headers, checksum_algorithm, checksum_type';
const PART_COLUMNS = 'part_number, blob_id, size, etag, checksum, last_modified';

/** Every statement, prepared once at open. */
export function prepareStatements(db: DatabaseSync) {
  const q = (sql: string): StatementSync => db.prepare(sql);
  return {
    insertBucket: q('INSERT INTO buckets (name, region, created_at, cors) VALUES (?, ?, ?, NULL)'),
    getBucket: q('SELECT name, region, created_at, cors FROM buckets WHERE name = ?'),
    listBuckets: q('SELECT name, region, created_at, cors FROM buckets ORDER BY name'),
    deleteBucket: q('DELETE FROM buckets WHERE name = ?'),
    setCors: q('UPDATE buckets SET cors = ? WHERE name = ?'),
    getLifecycle: q('SELECT lifecycle FROM buckets WHERE name = ?'),
    setLifecycle: q('UPDATE buckets SET lifecycle = ? WHERE name = ?'),
    anyObject: q('SELECT 1 AS found FROM objects WHERE bucket = ? LIMIT 1'),
    anyUpload: q('SELECT 1 AS found FROM uploads WHERE bucket = ? LIMIT 1'),
    uploadIdsOfBucket: q('SELECT upload_id FROM uploads WHERE bucket = ?'),

    getObject: q(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?`),
    objectId: q('SELECT id FROM objects WHERE bucket = ? AND key = ?'),
    insertObject: q(
      `INSERT INTO objects (bucket, key, size, etag, last_modified, headers,
         checksum_algorithm, checksum_type, checksum_value, parts_count)
       VALUES (:bucket, :key, :size, :etag, :last_modified, :headers,
         :checksum_algorithm, :checksum_type, :checksum_value, :parts_count) RETURNING id`,
    ),
    deleteObject: q('DELETE FROM objects WHERE id = ?'),
    getSegments: q(
      'SELECT blob_id, size, part_number, etag, checksum FROM segments WHERE object_id = ? ORDER BY idx',
    ),
    insertSegment: q(
      `INSERT INTO segments (object_id, idx, blob_id, size, part_number, etag, checksum)
       VALUES (:object_id, :idx, :blob_id, :size, :part_number, :etag, :checksum)`,
    ),
    deleteSegments: q('DELETE FROM segments WHERE object_id = ? RETURNING blob_id'),
    objectsFrom: q(
      `SELECT ${SUMMARY_COLUMNS} FROM objects WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`,
    ),
    objectsBetween: q(
      `SELECT ${SUMMARY_COLUMNS} FROM objects WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
    ),

    blobReferenced: q(
      `SELECT EXISTS (SELECT 1 FROM segments WHERE blob_id = :id)
           OR EXISTS (SELECT 1 FROM parts WHERE blob_id = :id) AS used`,
    ),
    blobsBetween: q(
      `SELECT blob_id FROM segments WHERE blob_id >= :lower AND blob_id < :upper
       UNION ALL SELECT blob_id FROM parts WHERE blob_id >= :lower AND blob_id < :upper`,
    ),

    insertUpload: q(
      `INSERT INTO uploads (upload_id, bucket, key, initiated, headers, checksum_algorithm, checksum_type)
       VALUES (:upload_id, :bucket, :key, :initiated, :headers, :checksum_algorithm, :checksum_type)`,
    ),
    getUpload: q(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?`),
    deleteUpload: q('DELETE FROM uploads WHERE upload_id = ?'),
    uploadsFrom: q(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND key >= ?
       ORDER BY key, initiated, upload_id LIMIT ?`,
    ),
    uploadsBetween: q(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND key >= ? AND key < ?
       ORDER BY key, initiated, upload_id LIMIT ?`,
    ),
    uploadsOfKeyAfter: q(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND key = ? AND (initiated, upload_id) > (?, ?)
       ORDER BY initiated, upload_id LIMIT ?`,
    ),

    getPart: q(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? AND part_number = ?`),
    upsertPart: q(
      `INSERT INTO parts (upload_id, part_number, blob_id, size, etag, checksum, last_modified)
       VALUES (:upload_id, :part_number, :blob_id, :size, :etag, :checksum, :last_modified)
       ON CONFLICT (upload_id, part_number) DO UPDATE SET blob_id = excluded.blob_id, size = excluded.size,
         etag = excluded.etag, checksum = excluded.checksum, last_modified = excluded.last_modified`,
    ),
    partsAfter: q(
      `SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?`,
    ),
    allParts: q(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? ORDER BY part_number`),
    deleteParts: q('DELETE FROM parts WHERE upload_id = ? RETURNING blob_id'),

    insertCompleted: q(
      `INSERT OR REPLACE INTO completed_uploads (upload_id, bucket, key, etag,
         checksum_algorithm, checksum_type, checksum_value, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getCompleted: q('SELECT * FROM completed_uploads WHERE upload_id = ?'),
    deleteCompletedOfBucket: q('DELETE FROM completed_uploads WHERE bucket = ?'),
    pruneCompleted: q('DELETE FROM completed_uploads WHERE completed_at < ?'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** Runs `fn` in one write transaction (BEGIN IMMEDIATE … COMMIT); rolls back if it or COMMIT throws. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** Positional parameters, or named ones (`:name`) as an object. */
type Params = SQLInputValue[] | [Record<string, SQLInputValue>];

export function row<T>(statement: StatementSync, ...params: Params): T | undefined {
  return Reflect.apply(statement.get, statement, params) as T | undefined;
}

export function rows<T>(statement: StatementSync, ...params: Params): T[] {
  return Reflect.apply(statement.all, statement, params) as T[];
}

// Row → record. Optional properties are set only when present (exactOptionalPropertyTypes).

export function toBucket(r: BucketRow): BucketRecord {
  return {
    name: r.name,
    region: r.region,
    createdAt: r.created_at,
    cors: r.cors === null ? null : (JSON.parse(r.cors) as CorsRule[]),
  };
}

export function encodeHeaders(headers: ObjectHeaders, userMetadata: Record<string, string>): string {
  const stored: Record<string, unknown> = {};
  for (const field of HEADER_FIELDS) if (headers[field] !== undefined) stored[field] = headers[field];
  stored.userMetadata = userMetadata;
  return JSON.stringify(stored);
}

export function decodeHeaders(json: string): StoredHeaders {
  return JSON.parse(json) as StoredHeaders;
}

export function toChecksum(r: {
  checksum_algorithm: string | null;
  checksum_type: string | null;
  checksum_value: string | null;
}): ObjectChecksum | undefined {
  if (r.checksum_algorithm === null || r.checksum_type === null || r.checksum_value === null) {
    return undefined;
  }
  return {
    algorithm: r.checksum_algorithm as ChecksumAlgorithm,
    type: r.checksum_type as ChecksumType,
    value: r.checksum_value,
  };
}

export function toSummary(r: SummaryRow): ObjectSummary {
  const summary: ObjectSummary = { key: r.key, size: r.size, etag: r.etag, lastModified: r.last_modified };
  if (r.checksum_algorithm !== null) summary.checksumAlgorithm = r.checksum_algorithm as ChecksumAlgorithm;
  if (r.checksum_type !== null) summary.checksumType = r.checksum_type as ChecksumType;
  return summary;
}

export function toSegment(r: SegmentRow): ObjectSegment {
  const segment: ObjectSegment = { blobId: r.blob_id, size: r.size };
  if (r.part_number !== null) segment.partNumber = r.part_number;
  if (r.etag !== null) segment.etag = r.etag;
  if (r.checksum !== null) segment.checksum = r.checksum;
  return segment;
}

export function toUpload(r: UploadRow): MultipartUploadRecord {
  const upload: MultipartUploadRecord = {
    ...decodeHeaders(r.headers),
    uploadId: r.upload_id,
    bucket: r.bucket,
    key: r.key,
    initiated: r.initiated,
  };
  if (r.checksum_algorithm !== null) upload.checksumAlgorithm = r.checksum_algorithm as ChecksumAlgorithm;
  if (r.checksum_type !== null) upload.checksumType = r.checksum_type as ChecksumType;
  return upload;
}

export function toPart(r: PartRow): PartRecord {
  const part: PartRecord = {
    partNumber: r.part_number,
    blobId: r.blob_id,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
  };
  if (r.checksum !== null) part.checksum = r.checksum;
  return part;
}

export function toCompleted(r: CompletedRow): CompletedUploadRecord {
  const completed: CompletedUploadRecord = {
    uploadId: r.upload_id,
    bucket: r.bucket,
    key: r.key,
    etag: r.etag,
    completedAt: r.completed_at,
  };
  const checksum = toChecksum(r);
  if (checksum !== undefined) completed.checksum = checksum;
  return completed;
}

export function toObjectRecord(r: ObjectRow, segments: ObjectSegment[]): ObjectRecord {
  const record: ObjectRecord = {
    ...decodeHeaders(r.headers),
    bucket: r.bucket,
    key: r.key,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    segments,
  };
  const checksum = toChecksum(r);
  if (checksum !== undefined) record.checksum = checksum;
  if (r.parts_count !== null) record.partsCount = r.parts_count;
  return record;
}
