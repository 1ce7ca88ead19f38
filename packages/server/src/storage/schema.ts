/**
 * The metadata database: opening it with crash-safe settings and bringing its
 * schema to the current version.
 *
 * Keys are TEXT with the default BINARY collation, which compares the UTF-8
 * bytes, so `ORDER BY key` is S3's order. Every blob id column is UNIQUE: one
 * blob belongs to at most one segment and at most one part, and the index is
 * what the orphan scan and the release check seek on.
 */
import { DatabaseSync } from 'node:sqlite';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    cors TEXT
  ) STRICT;

  CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    headers TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    checksum_value TEXT,
    parts_count INTEGER,
    UNIQUE (bucket, key)
  ) STRICT;

  CREATE TABLE segments (
    object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    blob_id TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    part_number INTEGER,
    etag TEXT,
    checksum TEXT,
    PRIMARY KEY (object_id, idx)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT NOT NULL,
    initiated INTEGER NOT NULL,
    headers TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT
  ) STRICT;
  CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated, upload_id);

  CREATE TABLE parts (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    blob_id TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    checksum TEXT,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE completed_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    etag TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    checksum_value TEXT,
    completed_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX completed_uploads_by_time ON completed_uploads (completed_at);
  CREATE INDEX completed_uploads_by_bucket ON completed_uploads (bucket);
  `,
  // 2: bucket lifecycle configuration (JSON rules), stored like CORS.
  `
  ALTER TABLE buckets ADD COLUMN lifecycle TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating when missing) the database at `path`. WAL with
 * synchronous=FULL makes every COMMIT durable before it returns (unless
 * `durable` is false). The exclusive
 * locking mode keeps the file locked until close, so a second process on the
 * same data directory fails here instead of deleting our uncommitted blobs as
 * orphans.
 */
export function openDatabase(path: string, durable: boolean): DatabaseSync {
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 1000 });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    // OFF still survives a process crash (the OS keeps the written pages), not a power loss.
    db.exec(`PRAGMA synchronous = ${durable ? 'FULL' : 'OFF'}`);
    migrate(db);
  } catch (error) {
    db.close();
    if (isBusy(error)) throw new Error(`${path} is in use by another process`, { cause: error });
    throw error;
  }
  return db;
}

function migrate(db: DatabaseSync): void {
  // BEGIN IMMEDIATE also takes the write lock that exclusive mode then keeps.
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`metadata schema version ${current} is newer than this Hoist (${SCHEMA_VERSION})`);
    }
    for (let version = current; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]!);
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
    else db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function isBusy(error: unknown): boolean {
  const { errcode, message } = error as { errcode?: number; message?: string };
  return (errcode !== undefined && (errcode & 0xff) === 5) || /database is locked/.test(message ?? '');
}
