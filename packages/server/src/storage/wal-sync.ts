/**
 * Makes commits durable off the event loop: an fdatasync of the database's WAL
 * file on the threadpool, shared by every commit waiting at the same time (group
 * commit).
 *
 * Why: with synchronous=FULL, SQLite fsyncs the WAL inside COMMIT, on the event
 * loop; under a stream of part uploads that sync waits behind the disk's
 * writeback of the part data and blocked every request for 3–4 ms per part
 * (bench:server). A commit run with synchronous=NORMAL writes its WAL frames
 * without syncing; syncing the WAL file afterwards, before the answer, gives the
 * same guarantee as FULL: fsync is per file, whichever descriptor it goes
 * through, and the WAL is append-only between checkpoints (which NORMAL still
 * syncs), so one sync covers every commit written before it started.
 */
import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';

export class WalSync {
  readonly #fd: number;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #closed = false;

  /** Opens the WAL file, which the connection keeps (same inode) until it closes. */
  constructor(walPath: string) {
    this.#fd = openSync(walPath, 'r');
  }

  /** The WAL file's inode, for tests that check SQLite kept writing to the same file. */
  get inode(): number {
    return fstatSync(this.#fd).ino;
  }

  /** Resolves once an fdatasync that started after this call has completed. */
  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    if (this.#running === undefined) {
      this.#running = this.#run();
      return this.#running;
    }
    // The running sync may have started before the caller's frames were written:
    // wait for the next one, which everyone arriving meanwhile shares.
    this.#queued ??= this.#running
      .catch(() => {})
      .then(() => {
        this.#queued = undefined;
        this.#running ??= this.#run();
        return this.#running;
      });
    return this.#queued;
  }

  /** Closes the file (after syncs under way, so their descriptor stays this file's); call after the database is closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#queued ?? this.#running;
    if (pending === undefined) closeSync(this.#fd);
    else void pending.catch(() => {}).then(() => closeSync(this.#fd));
  }

  async #run(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) =>
        fdatasync(this.#fd, (error) => (error ? reject(error) : resolve())),
      );
    } finally {
      this.#running = undefined;
    }
  }
}
