/**
 * The registry for several brokers behind a load balancer: PostgreSQL through a
 * `pg.Pool`. Every query is parameterized. Migrations run inside one transaction
 * holding a transaction-scoped advisory lock, so brokers starting together apply
 * each migration once; transition() is one `UPDATE … RETURNING`, so of two brokers
 * racing on one upload exactly one wins.
 */

import type { UploadStatus } from '@hoist/protocol';
import type pg from 'pg';
import type { ListUploadsPage, Registry, UploadRecord } from '../types.ts';
import { MIGRATIONS_TABLE_POSTGRES, pending } from './migrations.ts';
import {
  COLUMN_LIST,
  checkInteger,
  checkLimit,
  checkRecord,
  checkStatuses,
  checkString,
  decodeCursor,
  duplicate,
  duplicateKey,
  encodeCursor,
  type IdempotencyLookup,
  type KeyedUploadRecord,
  MAX_IDEMPOTENCY_KEY,
  OPEN_STATUSES,
  type Row,
  recordValues,
  rowToRecord,
  type TransitionChanges,
  transitionAssignments,
} from './record.ts';

export interface PostgresRegistryOptions {
  /** ms since epoch; stamps applied migrations. @default Date.now */
  clock?: () => number;
  /** Pool size. @default 10 */
  maxConnections?: number;
  /** Errors of idle pooled connections (the pool replaces them). @default process.emitWarning */
  onError?: (error: Error) => void;
}

/** `pg` is an optional peer dependency: loaded when a PostgreSQL registry is first used. */
async function loadPg(): Promise<typeof pg> {
  try {
    return (await import('pg')).default;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error('a postgres:// registry needs the pg package: npm install pg', { cause: error });
  }
}

/** Key of the advisory lock that serialises migrations: a fixed number private to Hoist's registry. */
const MIGRATION_LOCK = '1752727923303437159';

export class PostgresRegistry implements Registry, IdempotencyLookup {
  readonly #pool: Promise<pg.Pool>;
  readonly #clock: () => number;
  #ready: Promise<void> | undefined;
  #closed = false;

  /** `url` is a `postgres://` connection string. Migrations run on the first call (or migrate()). */
  constructor(url: string, options: PostgresRegistryOptions = {}) {
    checkString('url', url);
    const { clock = Date.now, maxConnections = 10, onError } = options;
    if (typeof clock !== 'function') throw new TypeError('options.clock must be a function');
    checkInteger('options.maxConnections', maxConnections, 1);
    if (onError !== undefined && typeof onError !== 'function') {
      throw new TypeError('options.onError must be a function');
    }
    this.#clock = clock;
    this.#pool = loadPg().then((driver) => {
      const pool = new driver.Pool({ connectionString: url, max: maxConnections });
      // Without a listener an idle connection's error (server restart) would crash the process.
      pool.on(
        'error',
        onError ??
          ((error) => process.emitWarning(`registry connection error: ${error.message}`, 'HoistRegistry')),
      );
      return pool;
    });
    // Reported by the first query; not an unhandled rejection before it.
    this.#pool.catch(() => {});
  }

  migrate(): Promise<void> {
    this.#ready ??= this.#migrate().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async insert(record: KeyedUploadRecord): Promise<void> {
    checkRecord(record);
    const values = recordValues(record);
    try {
      await this.#query(
        `INSERT INTO uploads (${COLUMN_LIST}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
        values,
      );
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && constraint === 'uploads_by_idempotency_key') throw duplicateKey(error);
      if (code === '23505') throw duplicate(record.id, error);
      throw error;
    }
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    checkString('id', id);
    const rows = await this.#query(`SELECT ${COLUMN_LIST} FROM uploads WHERE id = $1`, [id]);
    return rows[0] ? rowToRecord(rows[0]) : undefined;
  }

  async getByUploadId(uploadId: string): Promise<UploadRecord | undefined> {
    checkString('uploadId', uploadId);
    const rows = await this.#query(
      `SELECT ${COLUMN_LIST} FROM uploads WHERE upload_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [uploadId],
    );
    return rows[0] ? rowToRecord(rows[0]) : undefined;
  }

  async getByIdempotencyKey(userId: string, key: string): Promise<KeyedUploadRecord | undefined> {
    checkString('userId', userId);
    checkString('key', key, MAX_IDEMPOTENCY_KEY);
    const rows = await this.#query(
      `SELECT ${COLUMN_LIST} FROM uploads WHERE user_id = $1 AND idempotency_key = $2`,
      [userId, key],
    );
    return rows[0] ? rowToRecord(rows[0]) : undefined;
  }

  async transition(
    id: string,
    from: readonly UploadStatus[],
    changes: TransitionChanges,
    now: number,
  ): Promise<UploadRecord | undefined> {
    checkString('id', id);
    checkStatuses('from', from);
    const assignments = transitionAssignments(changes, now);
    const values = assignments.map(([, value]) => value);
    const n = values.length;
    const rows = await this.#query(
      `UPDATE uploads SET ${assignments.map(([column], i) => `${column} = $${i + 1}`).join(', ')} ` +
        `WHERE id = $${n + 1} AND status = ANY($${n + 2}::text[]) RETURNING ${COLUMN_LIST}`,
      [...values, id, [...from]],
    );
    return rows[0] ? rowToRecord(rows[0]) : undefined;
  }

  async listByUser(userId: string, options: { limit: number; cursor?: string }): Promise<ListUploadsPage> {
    checkString('userId', userId);
    const limit = checkLimit(options?.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const rows = after
      ? await this.#query(
          `SELECT ${COLUMN_LIST} FROM uploads WHERE user_id = $1 AND (created_at, id) < ($2, $3)
           ORDER BY created_at DESC, id DESC LIMIT $4`,
          [userId, after.createdAt, after.id, limit + 1],
        )
      : await this.#query(
          `SELECT ${COLUMN_LIST} FROM uploads WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
          [userId, limit + 1],
        );
    const uploads = rows.slice(0, limit).map((row) => rowToRecord(row));
    const last = uploads.at(-1);
    return { uploads, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async countActive(userId: string): Promise<number> {
    checkString('userId', userId);
    const rows = await this.#query(
      'SELECT count(*) AS n FROM uploads WHERE user_id = $1 AND status = ANY($2::text[])',
      [userId, [...OPEN_STATUSES]],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async bytesSince(userId: string, since: number): Promise<number> {
    checkString('userId', userId);
    checkInteger('since', since);
    const rows = await this.#query(
      'SELECT coalesce(sum(size), 0) AS n FROM uploads WHERE user_id = $1 AND created_at >= $2',
      [userId, since],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async listStale(before: number, limit: number): Promise<UploadRecord[]> {
    checkInteger('before', before);
    checkLimit(limit);
    const rows = await this.#query(
      `SELECT ${COLUMN_LIST} FROM uploads WHERE status = ANY($1::text[]) AND expires_at < $2
       ORDER BY expires_at, id LIMIT $3`,
      [[...OPEN_STATUSES], before, limit],
    );
    return rows.map((row) => rowToRecord(row));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ready?.catch(() => {});
    await (await this.#pool.catch(() => undefined))?.end();
  }

  async #query(sql: string, values: unknown[]): Promise<Row[]> {
    if (this.#closed) throw new Error('the registry is closed');
    await this.migrate();
    const result = await (await this.#pool).query<Row>(sql, values);
    return result.rows;
  }

  async #migrate(): Promise<void> {
    if (this.#closed) throw new Error('the registry is closed');
    const client = await (await this.#pool).connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // Taken before anything else, so even CREATE TABLE IF NOT EXISTS never races.
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
      await client.query(MIGRATIONS_TABLE_POSTGRES);
      const { rows } = await client.query<{ v: number }>(
        'SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations',
      );
      for (const migration of pending(rows[0]?.v ?? 0)) {
        await client.query(migration.postgres);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          this.#clock(),
        ]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError; // the connection is unusable: drop it rather than pool it
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
