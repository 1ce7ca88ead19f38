/**
 * Blob files: `<root>/xx/<32 hex>`, where `xx` is the id's first byte. Ids are
 * random, so object keys never reach the filesystem. A blob is written straight
 * to its final name (no rename): until a commit references it, it is an orphan
 * that the next open removes.
 */
import { randomBytes } from 'node:crypto';
import { constants, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { copyFile, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SYNC_EVERY, type WriteOptions, writeCoalesced } from './blob-writer.ts';
import type { BlobRef } from './types.ts';

const BLOB_ID = /^[0-9a-f]{32}$/;
/** Post-commit unlinks run in the background, a few at a time so uploads keep the threadpool. */
const UNLINK_CONCURRENCY = 4;

export function isBlobId(value: string): boolean {
  return BLOB_ID.test(value);
}

export function fanoutDirs(): string[] {
  return Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
}

export class BlobStore {
  readonly root: string;
  readonly #queue: string[] = [];
  #unlinking = 0;
  #idle: (() => void)[] = [];

  /** Whether the constructor had to create directories (which the caller then syncs). */
  readonly created: boolean;

  /** Whether writes are synced to disk; false only trades power-loss safety for speed (tests). */
  readonly durable: boolean;

  /** Creates `root` and its 256 fan-out directories when missing. */
  constructor(root: string, durable = true) {
    this.root = root;
    this.durable = durable;
    let created = mkdirSync(root, { recursive: true }) !== undefined;
    for (const dir of fanoutDirs())
      created = mkdirSync(join(root, dir), { recursive: true }) !== undefined || created;
    this.created = created;
  }

  /** The file of a blob; throws on anything but a well-formed id, so ids can never name other paths. */
  pathOf(blobId: string): string {
    if (!isBlobId(blobId)) throw new TypeError(`invalid blobId ${JSON.stringify(blobId)}`);
    return join(this.root, blobId.slice(0, 2), blobId);
  }

  /** Streams `chunks` into a new blob, durable (data and directory entry synced) on resolve. */
  async write(
    chunks: AsyncIterable<Uint8Array>,
    options: Pick<WriteOptions, 'ownedChunks'> = {},
  ): Promise<BlobRef> {
    const blobId = newBlobId();
    const path = this.pathOf(blobId);
    const file = await open(path, 'wx');
    try {
      const size = await writeCoalesced(file, chunks, this.durable ? SYNC_EVERY : Infinity, options);
      if (this.durable) await file.datasync();
      await file.close();
      if (this.durable) await syncDir(join(this.root, blobId.slice(0, 2)));
      return { blobId, size };
    } catch (error) {
      await file.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw error;
    }
  }

  /** Copies a whole blob into a new durable one (a reflink where the filesystem can). */
  async copy(sourceId: string): Promise<BlobRef> {
    const source = this.pathOf(sourceId);
    const blobId = newBlobId();
    const path = this.pathOf(blobId);
    try {
      await copyFile(source, path, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      const file = await open(path, 'r+');
      try {
        if (this.durable) await file.datasync();
        const { size } = await file.stat();
        if (this.durable) await syncDir(join(this.root, blobId.slice(0, 2)));
        return { blobId, size };
      } finally {
        await file.close();
      }
    } catch (error) {
      await unlink(path).catch(() => {});
      throw error;
    }
  }

  /** Removes a blob file now; a missing file is not an error. */
  async remove(blobId: string): Promise<void> {
    await unlink(this.pathOf(blobId)).catch(ignoreMissing);
  }

  /**
   * Schedules the removal of blobs a commit released. Runs in the background:
   * if the process dies first they are orphans, removed at the next open.
   */
  release(blobIds: Iterable<string>): void {
    for (const id of blobIds) this.#queue.push(id);
    while (this.#unlinking < UNLINK_CONCURRENCY && this.#queue.length > 0) {
      this.#unlinking++;
      void this.#drain();
    }
  }

  /** Resolves once every released blob has been unlinked. */
  idle(): Promise<void> {
    if (this.#unlinking === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    for (let id = this.#queue.shift(); id !== undefined; id = this.#queue.shift()) {
      await this.remove(id).catch(() => {});
    }
    if (--this.#unlinking === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /**
   * Removes every file under `root` that is not a referenced blob: crash
   * leftovers, blobs written but never committed, blobs released by a commit
   * whose unlink did not run, and anything foreign. `referenced(dir)` returns
   * the referenced ids of one fan-out directory, so memory stays bounded.
   * Synchronous: it runs once at open, before any request.
   */
  removeOrphans(referenced: (dir: string) => Set<string>): number {
    const dirs = new Set(fanoutDirs());
    let removed = 0;
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (entry.isDirectory() && dirs.has(entry.name)) continue;
      rmSync(join(this.root, entry.name), { recursive: true, force: true });
      removed++;
    }
    for (const dir of dirs) {
      const keep = referenced(dir);
      for (const entry of readdirSync(join(this.root, dir), { withFileTypes: true })) {
        if (entry.isFile() && keep.has(entry.name)) continue;
        rmSync(join(this.root, dir, entry.name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }
}

function newBlobId(): string {
  return randomBytes(16).toString('hex');
}

/** fsync a directory so a new entry in it survives a power loss. */
export async function syncDir(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

/** Throws a clear error when `path` exists but is not a directory. */
export function assertDirectoryOrMissing(path: string, what: string): void {
  try {
    if (!statSync(path).isDirectory()) throw new Error(`${what} ${path} exists and is not a directory`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
