/**
 * The local server's crash-safe storage: blob files under `<dataDir>/blobs/`,
 * metadata in `<dataDir>/meta.sqlite`. See types.ts for the contract and
 * fs-sqlite.ts for the commit protocol.
 *
 * @module
 */
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assertDirectoryOrMissing, BlobStore } from './blobs.ts';
import { FsSqliteStorage } from './fs-sqlite.ts';
import { prepareStatements, rows } from './meta.ts';
import { openDatabase } from './schema.ts';
import { WalSync } from './wal-sync.ts';

export { FsSqliteStorage, type RecoveryReport } from './fs-sqlite.ts';
export * from './types.ts';

export interface StorageOptions {
  /** Directory holding `meta.sqlite` and `blobs/`; created when missing. */
  dataDir: string;
  /**
   * Milliseconds since the epoch, for createdAt/lastModified/initiated and the
   * retention of completed uploads.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Sync blobs and commits to disk before acknowledging them. `false` keeps
   * every guarantee against a process crash but not against a power loss or
   * kernel crash: for tests and throwaway data only.
   * @default true
   */
  durable?: boolean;
}

/** How long a completed upload is remembered to answer a repeated CompleteMultipartUpload. */
export const COMPLETED_UPLOAD_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Opens (creating when needed) the storage in `dataDir`, then recovers from any
 * crash: blob files no metadata references are deleted, and completed-upload
 * records older than {@link COMPLETED_UPLOAD_RETENTION_MS} are pruned.
 * Throws when `dataDir` is a file or is in use by another process.
 *
 * @example
 * const storage = openStorage({ dataDir: '.hoist-data' });
 */
export function openStorage(options: StorageOptions): FsSqliteStorage {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { dataDir, clock = Date.now, durable = true } = options;
  if (typeof dataDir !== 'string' || dataDir === '') {
    throw new TypeError('options.dataDir must be a non-empty path');
  }
  if (typeof clock !== 'function') throw new TypeError('options.clock must be a function');
  if (typeof durable !== 'boolean') throw new TypeError('options.durable must be a boolean');

  const root = resolve(dataDir);
  assertDirectoryOrMissing(root, 'dataDir');
  mkdirSync(root, { recursive: true });
  const dbPath = join(root, 'meta.sqlite');
  const db = openDatabase(dbPath, durable);
  let wal: WalSync | undefined;
  try {
    // The schema check at open wrote to the WAL, so the file exists from here on.
    if (durable) wal = new WalSync(`${dbPath}-wal`);
    const sql = prepareStatements(db);
    const blobs = new BlobStore(join(root, 'blobs'), durable);
    if (blobs.created && durable) {
      syncDirectory(blobs.root);
      syncDirectory(root);
    }
    const pruned = sql.pruneCompleted.run(clock() - COMPLETED_UPLOAD_RETENTION_MS);
    // The database is locked by this process from here on, so nothing else writes blobs.
    const orphansRemoved = blobs.removeOrphans((dir) => {
      const ids = rows<{ blob_id: string }>(sql.blobsBetween, { lower: dir, upper: `${dir}g` });
      return new Set(ids.map((r) => r.blob_id));
    });
    const recovered = { orphansRemoved, completedUploadsPruned: Number(pruned.changes) };
    return new FsSqliteStorage(db, sql, blobs, clock, recovered, wal);
  } catch (error) {
    db.close();
    wal?.close();
    throw error;
  }
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
