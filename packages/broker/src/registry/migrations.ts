/**
 * The registry schema, one entry per version, in both dialects. Migrations only ever
 * append: a released entry is never edited. `schema_migrations` records which ran.
 *
 * Indexes: (user_id, created_at DESC, id DESC) serves listByUser's keyset pages,
 * and bytesSince; (user_id, status) serves countActive; (status, expires_at) serves the sweeper's listStale;
 * upload_id lets the sweeper match S3's multipart uploads to records; the partial unique
 * (user_id, idempotency_key) makes a key name one upload per user, and serves its lookup.
 */

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

const STATUS_CHECK = `CHECK (status IN ('created', 'uploading', 'completed', 'rejected', 'aborted', 'expired'))`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'uploads',
    sqlite: `
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        status TEXT NOT NULL ${STATUS_CHECK},
        mode TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        part_size INTEGER NOT NULL,
        checksum_algorithm TEXT NOT NULL,
        upload_id TEXT,
        metadata TEXT NOT NULL CHECK (json_valid(metadata)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        completed_at INTEGER,
        etag TEXT,
        checksum TEXT,
        reason TEXT
      ) STRICT;
      CREATE INDEX uploads_by_user ON uploads (user_id, created_at DESC, id DESC);
      CREATE INDEX uploads_by_status_expiry ON uploads (status, expires_at);
      CREATE INDEX uploads_by_upload_id ON uploads (upload_id) WHERE upload_id IS NOT NULL;
    `,
    // COLLATE "C": ids compare bytewise, as in SQLite, whatever the database's locale.
    postgres: `
      CREATE TABLE uploads (
        id TEXT COLLATE "C" PRIMARY KEY,
        user_id TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL ${STATUS_CHECK},
        mode TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size BIGINT NOT NULL,
        part_size BIGINT NOT NULL,
        checksum_algorithm TEXT NOT NULL,
        upload_id TEXT,
        metadata JSONB NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        completed_at BIGINT,
        etag TEXT,
        checksum TEXT,
        reason TEXT
      );
      CREATE INDEX uploads_by_user ON uploads (user_id, created_at DESC, id DESC);
      CREATE INDEX uploads_by_status_expiry ON uploads (status, expires_at);
      CREATE INDEX uploads_by_upload_id ON uploads (upload_id) WHERE upload_id IS NOT NULL;
    `,
  },
  {
    // countActive ran over every upload a user ever made; this keeps it to the open ones.
    version: 2,
    name: 'uploads_by_user_status',
    sqlite: 'CREATE INDEX uploads_by_user_status ON uploads (user_id, status);',
    postgres: 'CREATE INDEX uploads_by_user_status ON uploads (user_id, status);',
  },
  {
    // A retried create (its answer lost) names the upload it already made instead of making another.
    version: 3,
    name: 'uploads_idempotency_key',
    sqlite: `
      ALTER TABLE uploads ADD COLUMN idempotency_key TEXT;
      CREATE UNIQUE INDEX uploads_by_idempotency_key ON uploads (user_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    `,
    postgres: `
      ALTER TABLE uploads ADD COLUMN idempotency_key TEXT COLLATE "C";
      CREATE UNIQUE INDEX uploads_by_idempotency_key ON uploads (user_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    `,
  },
];

export const SCHEMA_VERSION: number = MIGRATIONS.length;

export const MIGRATIONS_TABLE_SQLITE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

export const MIGRATIONS_TABLE_POSTGRES = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/** The migrations still to run after `current`; refuses a database newer than this code. */
export function pending(current: number): readonly Migration[] {
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `registry schema version ${current} is newer than this Hoist supports (${SCHEMA_VERSION})`,
    );
  }
  return MIGRATIONS.slice(current);
}
