/**
 * A byte range of an open file, handed around as a Blob: the Node file source gives the engine
 * these instead of bytes, and the Node hasher and transport read them chunk by chunk into
 * reused buffers. A part is then hashed and sent without ever being held whole in memory, so
 * the process allocates nothing per part (no GC, no page faults) and its RSS does not grow
 * with the part size. Any other code gets a real file-backed Blob and can read it as usual.
 */
import type { FileHandle } from 'node:fs/promises';
import { UploadError } from '../errors.ts';

export interface FileRange {
  readonly path: string;
  readonly handle: FileHandle;
  readonly start: number;
  readonly end: number;
  /** Rejects with UploadError('read-failed') when the file changed since it was opened. */
  checkUnchanged(): Promise<void>;
  /** Wraps a failed read in UploadError('read-failed'). */
  readFailed(reason: string, cause?: unknown): UploadError;
}

const ranges = new WeakMap<Blob, FileRange>();

/** `blob` (a slice of the file as a Blob), remembered as the file range it is. */
export function asFileRange(blob: Blob, range: FileRange): Blob {
  ranges.set(blob, range);
  return blob;
}

/** The file range behind a Blob from the Node file source, else undefined. */
export function fileRangeOf(blob: Blob): FileRange | undefined {
  return ranges.get(blob);
}

/**
 * Chunk size: big enough that per-read and per-write overhead vanishes, small enough that a
 * chunk is still in the CPU cache when the hasher reads it right after the kernel wrote it.
 * Measured (512 MiB to the sink, medians of 5 interleaved runs): 256 KiB 1.46, 512 KiB 1.38,
 * 1 MiB 1.23, 2 MiB 1.30 CPU-s/GiB.
 */
export const CHUNK_BYTES = 1024 * 1024;
/** Idle chunks kept for reuse: a few per request in flight, at 16 requests. */
const MAX_IDLE_CHUNKS = 32;
const idle: Buffer[] = [];

/** A chunk buffer from the pool (its content is whatever the last user left). */
export function takeChunk(): Buffer {
  // Not from Node's shared slab: each chunk owns its memory, so handing it back is safe.
  return idle.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

/** Gives a chunk back once nothing refers to its bytes any more (e.g. its socket write is done). */
export function giveBackChunk(chunk: Buffer): void {
  if (idle.length < MAX_IDLE_CHUNKS && chunk.byteLength === CHUNK_BYTES) idle.push(chunk);
}

/**
 * Reads the range in order, one chunk ahead of `consume`, each into a pooled buffer. `consume`
 * gets a view of the bytes and the buffer to give back with `giveBackChunk` once done with it.
 * Rejects with UploadError('read-failed') when the file is shorter than the range.
 */
export async function readFileRange(
  range: FileRange,
  consume: (bytes: Buffer, chunk: Buffer) => void | Promise<void>,
): Promise<void> {
  const readAt = async (position: number): Promise<[Buffer, Buffer]> => {
    const chunk = takeChunk();
    const length = Math.min(CHUNK_BYTES, range.end - position);
    let filled = 0;
    try {
      while (filled < length) {
        const { bytesRead } = await range.handle.read(chunk, filled, length - filled, position + filled);
        if (bytesRead === 0) throw range.readFailed('the file is shorter than it was (truncated?)');
        filled += bytesRead;
      }
    } catch (error) {
      giveBackChunk(chunk);
      throw error instanceof UploadError ? error : range.readFailed('read failed', error);
    }
    return [chunk.subarray(0, length), chunk];
  };
  // The next chunk is read while `consume` works on this one. Its failure is handled when it
  // is awaited; until then it must not count as an unhandled rejection.
  const ahead = (position: number) => {
    const read = readAt(position);
    read.catch(() => {});
    return read;
  };
  let position = range.start;
  let next = position < range.end ? ahead(position) : undefined;
  while (next !== undefined) {
    const [bytes, chunk] = await next;
    position += bytes.byteLength;
    next = position < range.end ? ahead(position) : undefined;
    try {
      await consume(bytes, chunk);
    } catch (error) {
      // The chunk read ahead is not wanted any more: give it back.
      next?.then(
        ([, unused]) => giveBackChunk(unused),
        () => {},
      );
      throw error;
    }
  }
}
