/**
 * The default registry: one node:sqlite file in WAL mode. Several processes may open
 * the same file (writers wait up to `busyTimeoutMs`), and transition() is a single
 * `UPDATE … WHERE status IN (…) RETURNING *`, so of two concurrent transitions exactly
 * one applies.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { UploadStatus } from '@hoist/protocol';
import type { ListUploadsPage, Registry, UploadRecord } from '../types.ts';
import { MIGRATIONS_TABLE_SQLITE, pending } from './migrations.ts';
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
  recordValues,
  rowToRecord,
  type TransitionChanges,
  transitionAssignments,
} from './record.ts';

export interface SqliteRegistryOptions {
  /** ms since epoch; stamps applied migrations. @default Date.now */
  clock?: () => number;
  /** How long a writer waits for another process's write lock. @default 5000 */
  busyTimeoutMs?: number;
}

const OPEN = OPEN_STATUSES.map((s) => `'${s}'`).join(', ');

export class SqliteRegistry implements Registry, IdempotencyLookup {
  readonly #db: DatabaseSync;
  readonly #clock: () => number;
  readonly #statements = new Map<string, StatementSync>();
  #ready: Promise<void> | undefined;
  #closed = false;

  /**
   * `path` is a file path (its directory is created when missing) or `:memory:`. Migrations
   * run on the first call (or migrate()).
   */
  constructor(path: string, options: SqliteRegistryOptions = {}) {
    checkString('path', path);
    const { clock = Date.now, busyTimeoutMs = 5000 } = options;
    if (typeof clock !== 'function') throw new TypeError('options.clock must be a function');
    checkInteger('options.busyTimeoutMs', busyTimeoutMs);
    this.#clock = clock;
    // The default, .hoist-data/broker.sqlite, must work in a fresh directory.
    if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path, { timeout: busyTimeoutMs });
    try {
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('PRAGMA synchronous = FULL');
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  migrate(): Promise<void> {
    this.#ready ??= Promise.resolve()
      .then(() => this.#migrate())
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }

  async insert(record: KeyedUploadRecord): Promise<void> {
    checkRecord(record);
    await this.#open();
    const values = recordValues(record);
    // A new upload's row need not wait for the disk (an fsync that blocks the event loop for
    // every create): WAL commits without a sync, and the row is on disk at the next state
    // change (a FULL commit syncs the log up to it) or checkpoint. A power cut before that
    // forgets the upload: it cannot be completed (fails closed), and the sweeper aborts its
    // multipart upload as an orphan. A process crash loses nothing.
    this.#db.exec('PRAGMA synchronous = NORMAL');
    try {
      this.#run(`INSERT INTO uploads (${COLUMN_LIST}) VALUES (${values.map(() => '?').join(', ')})`, values);
    } catch (error) {
      const code = (error as { errcode?: number }).errcode;
      if (code === 2067 && /idempotency_key/.test(String((error as Error).message)))
        throw duplicateKey(error);
      if (code === 1555 || code === 2067) throw duplicate(record.id, error);
      throw error;
    } finally {
      this.#db.exec('PRAGMA synchronous = FULL');
    }
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    checkString('id', id);
    await this.#open();
    const row = this.#statement(`SELECT ${COLUMN_LIST} FROM uploads WHERE id = ?`).get(id);
    return row ? rowToRecord(row) : undefined;
  }

  async getByUploadId(uploadId: string): Promise<UploadRecord | undefined> {
    checkString('uploadId', uploadId);
    await this.#open();
    const row = this.#statement(
      `SELECT ${COLUMN_LIST} FROM uploads WHERE upload_id = ? ORDER BY created_at DESC LIMIT 1`,
    ).get(uploadId);
    return row ? rowToRecord(row) : undefined;
  }

  async getByIdempotencyKey(userId: string, key: string): Promise<KeyedUploadRecord | undefined> {
    checkString('userId', userId);
    checkString('key', key, MAX_IDEMPOTENCY_KEY);
    await this.#open();
    const row = this.#statement(
      `SELECT ${COLUMN_LIST} FROM uploads WHERE user_id = ? AND idempotency_key = ?`,
    ).get(userId, key);
    return row ? rowToRecord(row) : undefined;
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
    await this.#open();
    const sql =
      `UPDATE uploads SET ${assignments.map(([column]) => `${column} = ?`).join(', ')} ` +
      `WHERE id = ? AND status IN (${from.map(() => '?').join(', ')}) RETURNING ${COLUMN_LIST}`;
    const row = this.#statement(sql).get(...assignments.map(([, value]) => value), id, ...from);
    return row ? rowToRecord(row) : undefined;
  }

  async listByUser(userId: string, options: { limit: number; cursor?: string }): Promise<ListUploadsPage> {
    checkString('userId', userId);
    const limit = checkLimit(options?.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    await this.#open();
    const rows = after
      ? this.#statement(
          `SELECT ${COLUMN_LIST} FROM uploads WHERE user_id = ? AND (created_at, id) < (?, ?)
           ORDER BY created_at DESC, id DESC LIMIT ?`,
        ).all(userId, after.createdAt, after.id, limit + 1)
      : this.#statement(
          `SELECT ${COLUMN_LIST} FROM uploads WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
        ).all(userId, limit + 1);
    const uploads = rows.slice(0, limit).map((row) => rowToRecord(row));
    const last = uploads.at(-1);
    return { uploads, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async countActive(userId: string): Promise<number> {
    checkString('userId', userId);
    await this.#open();
    const row = this.#statement(
      `SELECT count(*) AS n FROM uploads WHERE user_id = ? AND status IN (${OPEN})`,
    ).get(userId) as { n: number };
    return Number(row.n);
  }

  async bytesSince(userId: string, since: number): Promise<number> {
    checkString('userId', userId);
    checkInteger('since', since);
    await this.#open();
    const row = this.#statement(
      'SELECT coalesce(sum(size), 0) AS n FROM uploads WHERE user_id = ? AND created_at >= ?',
    ).get(userId, since) as { n: number };
    return Number(row.n);
  }

  async listStale(before: number, limit: number): Promise<UploadRecord[]> {
    checkInteger('before', before);
    checkLimit(limit);
    await this.#open();
    return this.#statement(
      `SELECT ${COLUMN_LIST} FROM uploads WHERE status IN (${OPEN}) AND expires_at < ?
       ORDER BY expires_at, id LIMIT ?`,
    )
      .all(before, limit)
      .map((row) => rowToRecord(row));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ready?.catch(() => {});
    this.#statements.clear();
    this.#db.close();
  }

  async #open(): Promise<void> {
    if (this.#closed) throw new Error('the registry is closed');
    await this.migrate();
  }

  #migrate(): void {
    if (this.#closed) throw new Error('the registry is closed');
    // BEGIN IMMEDIATE takes the write lock first, so two processes never both migrate.
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db.exec(MIGRATIONS_TABLE_SQLITE);
      const row = this.#db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as {
        v: number;
      };
      for (const migration of pending(row.v)) {
        this.#db.exec(migration.sqlite);
        this.#db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, this.#clock());
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(sql: string, values: SQLInputValue[]): void {
    this.#statement(sql).run(...values);
  }
}
