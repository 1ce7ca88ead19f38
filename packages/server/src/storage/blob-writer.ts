/**
 * The upload hot path: gathers a stream of (often small) chunks into batches and
 * writes each with one positional writev, a few batches in flight while the
 * source keeps being read. Memory is bounded by (MAX_IN_FLIGHT + 1) × WRITE_SIZE
 * per writer, whatever the size of the blob.
 *
 * Measured (bench:server, perf): copying every chunk into 1 MiB buffers and
 * writing those from the threadpool cost more than the kernel's own copy into
 * the page cache; chunks a source hands over for good are now written as they
 * are, and larger writes mean fewer threadpool round trips (each wakes a thread).
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered per writev: large writes amortise the syscall and threadpool round trip. */
export const WRITE_SIZE = 2 * 1024 * 1024;
/** Writes outstanding while the source keeps being read. */
export const MAX_IN_FLIGHT = 2;
/** Chunks per writev (IOV_MAX on Linux), so tiny chunks still make one system call per batch. */
const MAX_BUFFERS = 1024;
/**
 * A background fdatasync every so many bytes starts the disk writeback while the
 * upload is still arriving, so the final sync has little left to flush, and it
 * bounds the dirty page cache one upload can build up. 16 MiB matches the ceiling
 * server of bench:server, where it was measured best on this kind of machine.
 */
export const SYNC_EVERY = 16 * 1024 * 1024;

export interface WriteOptions {
  /** Background fdatasync interval in bytes; Infinity for none (the caller does the final sync). */
  syncEvery?: number;
  /**
   * The source hands each chunk over for good: it never reuses, changes or reads
   * a chunk once yielded (each is a fresh buffer, as node:http's request chunks
   * are). Chunks are then written as they are instead of copied, and a chunk
   * that is a whole ArrayBuffer is freed as soon as it is written. Default false:
   * a source may reuse its buffer.
   */
  ownedChunks?: boolean;
}

/**
 * Writes every chunk of `source` to `file` from offset 0 and resolves with the
 * byte count once all writes have completed (the caller does the final sync).
 * When the source or a write fails, it waits for outstanding writes to settle,
 * then rethrows, so the caller may close and unlink the file safely.
 */
export async function writeCoalesced(
  file: FileHandle,
  source: AsyncIterable<Uint8Array>,
  syncEvery = SYNC_EVERY,
  { ownedChunks = false }: Pick<WriteOptions, 'ownedChunks'> = {},
): Promise<number> {
  const inFlight: Promise<void>[] = [];
  let batch: Uint8Array[] = [];
  let batched = 0;
  let position = 0;
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  let syncError: unknown;

  const flush = async (): Promise<void> => {
    const written = batch;
    const pending = writevFully(file, written, batched, position);
    if (ownedChunks)
      void pending.then(
        () => written.forEach(release),
        () => {},
      );
    // Observed below or in `finally`; this only silences the unhandled-rejection check.
    pending.catch(() => {});
    inFlight.push(pending);
    position += batched;
    unsynced += batched;
    batch = [];
    batched = 0;
    if (unsynced >= syncEvery && syncing === undefined) {
      unsynced = 0;
      // Never rejects; a failure is rethrown once the writes are done.
      syncing = file.datasync().then(
        () => {
          syncing = undefined;
        },
        (error: unknown) => {
          syncing = undefined;
          syncError ??= error;
        },
      );
    }
    if (inFlight.length > MAX_IN_FLIGHT) await inFlight.shift();
  };

  try {
    for await (const chunk of source) {
      if (chunk.byteLength === 0) continue;
      // A copy (never the chunk itself) when the source may reuse its buffer.
      batch.push(ownedChunks ? chunk : Buffer.from(chunk));
      batched += chunk.byteLength;
      if (batched >= WRITE_SIZE || batch.length === MAX_BUFFERS) await flush();
    }
    if (batched > 0) await flush();
    while (inFlight.length > 0) await inFlight.shift();
    await syncing;
    if (syncError !== undefined) throw syncError;
    return position;
  } finally {
    await Promise.allSettled(inFlight);
    await syncing;
  }
}

/**
 * Frees a written chunk's memory now rather than at the next major GC, when the
 * chunk is a whole ArrayBuffer of its own (node:http's are). Without this, a
 * request's already-written chunks pile up as external memory until V8 collects
 * them, which costs peak RSS and, since that pressure is what triggers full
 * collections of the whole heap, GC time per GiB (measured with bench:server).
 */
function release(chunk: Uint8Array): void {
  const { buffer } = chunk;
  if (!(buffer instanceof ArrayBuffer) || chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength) {
    return;
  }
  try {
    // Detaching hands the memory back; the zero-length result is all that is left for the GC.
    buffer.transfer(0);
  } catch {
    // Not detachable (some buffers are not): the GC frees it as before.
  }
}

/** Positional writev of `buffers` (`length` bytes) at `position`, continuing after short writes. */
async function writevFully(
  file: FileHandle,
  buffers: Uint8Array[],
  length: number,
  position: number,
): Promise<void> {
  let rest = buffers;
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await file.writev(rest, position + done);
    done += bytesWritten;
    if (done < length) rest = remainder(rest, bytesWritten);
  }
}

function remainder(buffers: Uint8Array[], skip: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let left = skip;
  for (const buffer of buffers) {
    if (left >= buffer.byteLength) left -= buffer.byteLength;
    else {
      rest.push(left > 0 ? buffer.subarray(left) : buffer);
      left = 0;
    }
  }
  return rest;
}
