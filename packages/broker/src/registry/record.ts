/**
 * What both registry dialects share: input validation at the edge (misuse is a
 * TypeError naming the field), the opaque list cursor, the column list and the
 * row <-> UploadRecord mapping.
 */
import type { UploadMode, UploadStatus } from '@hoist/protocol';
import { CHECKSUM_ALGORITHMS } from '@hoist/protocol';
import { BrokerProblem } from '../errors.ts';
import type { Registry, UploadRecord } from '../types.ts';

export const UPLOAD_STATUSES = [
  'created',
  'uploading',
  'completed',
  'rejected',
  'aborted',
  'expired',
] as const satisfies readonly UploadStatus[];
/** Statuses in which an upload still holds an S3 multipart upload open. */
export const OPEN_STATUSES = ['created', 'uploading'] as const satisfies readonly UploadStatus[];
export const UPLOAD_MODES = ['sts', 'federation', 'presign'] as const satisfies readonly UploadMode[];

// Compile-time check that the lists above cover the unions (a new status must be added here).
type Missing<A, B> = Exclude<A, B> extends never ? true : never;
const _statusesComplete: Missing<UploadStatus, (typeof UPLOAD_STATUSES)[number]> = true;
const _modesComplete: Missing<UploadMode, (typeof UPLOAD_MODES)[number]> = true;
void _statusesComplete;
void _modesComplete;

/** Largest page `listByUser` returns. */
export const MAX_PAGE = 1000;
const MAX_ID = 256;
const MAX_KEY = 1024;
const MAX_TEXT = 4096;
const MAX_METADATA_JSON = 16 * 1024;

/** Longest Idempotency-Key. */
export const MAX_IDEMPOTENCY_KEY = 128;

/**
 * An upload record with the Idempotency-Key its create carried. The field belongs on
 * UploadRecord in ../types.ts; it lives here until that file takes it.
 */
export interface KeyedUploadRecord extends UploadRecord {
  idempotencyKey?: string;
}

/** What the registries offer beyond Registry for idempotent creates. */
export interface IdempotencyLookup {
  /** The user's upload created with `key`, if any. */
  getByIdempotencyKey(userId: string, key: string): Promise<KeyedUploadRecord | undefined>;
}

export type TransitionChanges = Parameters<Registry['transition']>[2];

/** Column name for each field, in table order. */
export const COLUMNS = {
  id: 'id',
  userId: 'user_id',
  status: 'status',
  mode: 'mode',
  bucket: 'bucket',
  key: 'key',
  filename: 'filename',
  contentType: 'content_type',
  size: 'size',
  partSize: 'part_size',
  checksumAlgorithm: 'checksum_algorithm',
  uploadId: 'upload_id',
  metadata: 'metadata',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  expiresAt: 'expires_at',
  completedAt: 'completed_at',
  etag: 'etag',
  checksum: 'checksum',
  reason: 'reason',
  idempotencyKey: 'idempotency_key',
} as const satisfies Record<keyof KeyedUploadRecord, string>;

const FIELDS = Object.keys(COLUMNS) as (keyof KeyedUploadRecord)[];
export const COLUMN_LIST: string = Object.values(COLUMNS).join(', ');
// `size` too: an upload created without one (Uppy's multipart create) is sized from its parts at completion.
const TRANSITION_FIELDS = [
  'status',
  'etag',
  'checksum',
  'reason',
  'completedAt',
  'uploadId',
  'size',
] as const;

export type Row = Record<string, unknown>;
export type SqlValue = string | number | null;

/** The values of a record in COLUMNS order, metadata as JSON text. */
export function recordValues(record: KeyedUploadRecord): SqlValue[] {
  return FIELDS.map((field) => {
    const value = record[field];
    if (field === 'metadata') return JSON.stringify(value);
    return (value ?? null) as SqlValue;
  });
}

/**
 * A database row back into a record. PostgreSQL returns BIGINT as strings and JSONB
 * as objects, SQLite numbers and JSON text: both are accepted.
 */
export function rowToRecord(row: Row): KeyedUploadRecord {
  const metadata = row.metadata;
  const record: KeyedUploadRecord = {
    id: String(row.id),
    userId: String(row.user_id),
    status: row.status as UploadStatus,
    mode: row.mode as UploadMode,
    bucket: String(row.bucket),
    key: String(row.key),
    filename: String(row.filename),
    contentType: String(row.content_type),
    size: Number(row.size),
    partSize: Number(row.part_size),
    checksumAlgorithm: row.checksum_algorithm as UploadRecord['checksumAlgorithm'],
    uploadId: row.upload_id === null ? null : String(row.upload_id),
    metadata: (typeof metadata === 'string' ? JSON.parse(metadata) : metadata) as Record<string, string>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expiresAt: Number(row.expires_at),
  };
  if (row.completed_at !== null && row.completed_at !== undefined)
    record.completedAt = Number(row.completed_at);
  if (row.etag !== null && row.etag !== undefined) record.etag = String(row.etag);
  if (row.checksum !== null && row.checksum !== undefined) record.checksum = String(row.checksum);
  if (row.reason !== null && row.reason !== undefined) record.reason = String(row.reason);
  if (row.idempotency_key !== null && row.idempotency_key !== undefined)
    record.idempotencyKey = String(row.idempotency_key);
  return record;
}

/** The list cursor: base64url of `[createdAt, id]` of the last record on the page. */
export function encodeCursor(record: Pick<UploadRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.id])).toString('base64url');
}

/** Cursors come from API clients: a bad one is their mistake (400), not ours. */
export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const invalid = () =>
    new BrokerProblem('invalid-request', 'The cursor is not valid', {
      errors: [{ path: 'cursor', message: 'is not a cursor returned by this API' }],
    });
  if (typeof cursor !== 'string' || cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== 'string' ||
    parsed[1].length === 0 ||
    parsed[1].length > MAX_ID
  ) {
    throw invalid();
  }
  return { createdAt: parsed[0] as number, id: parsed[1] as string };
}

// ---- validation at the edge -------------------------------------------------------------

function fail(field: string, message: string): never {
  throw new TypeError(`${field} ${message}`);
}

export function checkString(field: string, value: unknown, max = MAX_TEXT): string {
  if (typeof value !== 'string' || value.length === 0) fail(field, 'must be a non-empty string');
  if (value.length > max) fail(field, `must be at most ${max} characters`);
  return value;
}

export function checkInteger(field: string, value: unknown, min = 0): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) fail(field, `must be an integer >= ${min}`);
  return value as number;
}

export function checkStatuses(field: string, value: unknown): readonly UploadStatus[] {
  if (!Array.isArray(value) || value.length === 0) fail(field, 'must be a non-empty array of statuses');
  for (const status of value) checkStatus(field, status);
  return value as UploadStatus[];
}

function checkStatus(field: string, value: unknown): UploadStatus {
  if (!(UPLOAD_STATUSES as readonly unknown[]).includes(value)) {
    fail(field, `must be one of ${UPLOAD_STATUSES.join(', ')}`);
  }
  return value as UploadStatus;
}

export function checkRecord(record: unknown): KeyedUploadRecord {
  if (typeof record !== 'object' || record === null) fail('record', 'must be an object');
  const r = record as Record<string, unknown>;
  const unknownKeys = Object.keys(r).filter((k) => !(FIELDS as string[]).includes(k));
  if (unknownKeys.length > 0) fail('record', `has unknown fields: ${unknownKeys.join(', ')}`);
  checkString('record.id', r.id, MAX_ID);
  checkString('record.userId', r.userId, MAX_ID);
  checkStatus('record.status', r.status);
  if (!(UPLOAD_MODES as readonly unknown[]).includes(r.mode)) {
    fail('record.mode', `must be one of ${UPLOAD_MODES.join(', ')}`);
  }
  checkString('record.bucket', r.bucket, 255);
  checkString('record.key', r.key, MAX_KEY);
  checkString('record.filename', r.filename);
  checkString('record.contentType', r.contentType, 255);
  checkInteger('record.size', r.size);
  checkInteger('record.partSize', r.partSize);
  if (!(CHECKSUM_ALGORITHMS as readonly unknown[]).includes(r.checksumAlgorithm)) {
    fail('record.checksumAlgorithm', `must be one of ${CHECKSUM_ALGORITHMS.join(', ')}`);
  }
  if (r.uploadId !== null) checkString('record.uploadId', r.uploadId, MAX_KEY);
  checkMetadata(r.metadata);
  checkInteger('record.createdAt', r.createdAt);
  checkInteger('record.updatedAt', r.updatedAt);
  checkInteger('record.expiresAt', r.expiresAt);
  checkOptional(r as Partial<UploadRecord>);
  if (r.idempotencyKey !== undefined)
    checkString('record.idempotencyKey', r.idempotencyKey, MAX_IDEMPOTENCY_KEY);
  return record as KeyedUploadRecord;
}

function checkMetadata(value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('record.metadata', 'must be an object of strings');
  }
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string') fail(`record.metadata.${name}`, 'must be a string');
  }
  if (JSON.stringify(value).length > MAX_METADATA_JSON) {
    fail('record.metadata', `must be at most ${MAX_METADATA_JSON} characters as JSON`);
  }
}

function checkOptional(r: Partial<UploadRecord>, prefix = 'record.'): void {
  if (r.completedAt !== undefined) checkInteger(`${prefix}completedAt`, r.completedAt);
  if (r.etag !== undefined) checkString(`${prefix}etag`, r.etag, MAX_TEXT);
  if (r.checksum !== undefined) checkString(`${prefix}checksum`, r.checksum, MAX_TEXT);
  if (r.reason !== undefined) checkString(`${prefix}reason`, r.reason, MAX_TEXT);
}

/** The changes of a transition as [column, value] pairs (never empty: updated_at is always set). */
export function transitionAssignments(changes: unknown, now: unknown): [string, SqlValue][] {
  if (typeof changes !== 'object' || changes === null) fail('changes', 'must be an object');
  const c = changes as Record<string, unknown>;
  const unknownKeys = Object.keys(c).filter((k) => !(TRANSITION_FIELDS as readonly string[]).includes(k));
  if (unknownKeys.length > 0)
    fail('changes', `has fields a transition cannot change: ${unknownKeys.join(', ')}`);
  if (c.status !== undefined) checkStatus('changes.status', c.status);
  if (c.uploadId !== undefined && c.uploadId !== null) checkString('changes.uploadId', c.uploadId, MAX_KEY);
  if (c.size !== undefined) checkInteger('changes.size', c.size);
  checkOptional(c as Partial<UploadRecord>, 'changes.');
  checkInteger('now', now);
  const assignments: [string, SqlValue][] = [];
  for (const field of TRANSITION_FIELDS) {
    if (c[field] !== undefined) assignments.push([COLUMNS[field], c[field] as SqlValue]);
  }
  assignments.push([COLUMNS.updatedAt, now as number]);
  return assignments;
}

export function checkLimit(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_PAGE) {
    fail('limit', `must be an integer 1..${MAX_PAGE}`);
  }
  return value as number;
}

/** A second insert of one (user, Idempotency-Key): the caller replays the first. */
export function duplicateKey(cause: unknown): BrokerProblem {
  return new BrokerProblem('conflict', 'An upload with this Idempotency-Key already exists', { cause });
}

/** Turns a primary-key violation into the broker's conflict problem. */
export function duplicate(id: string, cause: unknown): BrokerProblem {
  return new BrokerProblem('conflict', `An upload with id ${id} already exists`, { cause });
}
