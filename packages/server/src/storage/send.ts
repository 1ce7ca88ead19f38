/**
 * GET's send path: reads a byte range of an object's segment files into a few
 * reused buffers and writes each to the response, taking a buffer back only once
 * its write has completed. Memory stays at SEND_BUFFERS × SEND_SIZE per request
 * whatever the object's size.
 *
 * Measured (bench:server, 1 GiB GET): a stream of fresh per-read buffers (what
 * createReadStream allocates) became garbage faster than the GC collected it,
 * ~110 MiB of peak RSS above idle, and the page faults of new memory plus the GC
 * cost CPU per GiB the ceiling didn't pay.
 */
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { checkRange } from './read.ts';
import type { ObjectSegment } from './types.ts';

/** Bytes per read and per response write. */
export const SEND_SIZE = 1024 * 1024;
/** Buffers per request: one being read into while the others are being sent. */
export const SEND_BUFFERS = 4;

/** `out` closed (the client went away) before every byte was written. */
export class SendClosedError extends Error {
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE';
  constructor() {
    super('the response closed before the range was sent');
  }
}

/**
 * Writes bytes [start, endInclusive] of the segments to `out` (never ends it) and
 * resolves once every write has completed. Rejects with the read error (ENOENT
 * when a blob was deleted meanwhile, or a blob shorter than recorded) or with
 * SendClosedError when `out` closes first; the caller then destroys `out`.
 */
export async function sendSegments(
  pathOf: (blobId: string) => string,
  segments: readonly ObjectSegment[],
  start: number,
  endInclusive: number,
  out: Writable,
): Promise<void> {
  checkRange(segments, start, endInclusive);
  if (endInclusive < start) return;
  // A small range needs no full-size buffer.
  const pool = new SendBuffers(out, Math.min(SEND_SIZE, endInclusive - start + 1));
  try {
    let segmentStart = 0;
    for (const segment of segments) {
      const segmentEnd = segmentStart + segment.size - 1;
      if (segment.size > 0 && segmentEnd >= start && segmentStart <= endInclusive) {
        const from = Math.max(start, segmentStart) - segmentStart;
        const to = Math.min(endInclusive, segmentEnd) - segmentStart;
        await sendFile(pathOf(segment.blobId), segment, from, to, pool);
      }
      segmentStart += segment.size;
      if (segmentStart > endInclusive) break;
    }
    await pool.drained();
  } finally {
    pool.dispose();
  }
}

async function sendFile(
  path: string,
  segment: ObjectSegment,
  from: number,
  to: number,
  pool: SendBuffers,
): Promise<void> {
  const file = await open(path, 'r');
  try {
    for (let position = from; position <= to; ) {
      const buffer = await pool.take();
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, to - position + 1), position);
      if (bytesRead === 0) {
        pool.give(buffer);
        throw new Error(`blob ${segment.blobId} is shorter than its recorded size ${segment.size}`);
      }
      position += bytesRead;
      pool.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), buffer);
    }
  } finally {
    await file.close();
  }
}

/** The request's buffers: free ones, and a wait for one whose write completed. */
class SendBuffers {
  readonly #out: Writable;
  readonly #size: number;
  readonly #free: Buffer[] = [];
  #allocated = 0;
  #writing = 0;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #onClose = (): void => {
    this.#failure ??= new SendClosedError();
    this.#notify();
  };

  constructor(out: Writable, size: number) {
    this.#out = out;
    this.#size = size;
    out.once('close', this.#onClose);
  }

  /** A buffer free to read into; waits while every buffer is still being written. */
  async take(): Promise<Buffer> {
    for (;;) {
      if (this.#failure === undefined && this.#out.destroyed) this.#failure = new SendClosedError();
      if (this.#failure !== undefined) throw this.#failure;
      const buffer = this.#free.pop();
      if (buffer !== undefined) return buffer;
      if (this.#allocated < SEND_BUFFERS) {
        this.#allocated++;
        // Not from Node's shared pool: each buffer is this request's for its whole life.
        return Buffer.allocUnsafeSlow(this.#size);
      }
      await this.#next();
    }
  }

  give(buffer: Buffer): void {
    this.#free.push(buffer);
    this.#notify();
  }

  /** Writes `chunk` (a view of `buffer`) and takes `buffer` back once the write has completed. */
  write(chunk: Buffer, buffer: Buffer): void {
    this.#writing++;
    this.#out.write(chunk, (error) => {
      this.#writing--;
      if (error) this.#failure ??= error;
      else this.#free.push(buffer);
      this.#notify();
    });
  }

  /** Resolves once every write has completed; rejects if one failed or `out` closed. */
  async drained(): Promise<void> {
    while (this.#writing > 0 && this.#failure === undefined) await this.#next();
    if (this.#failure !== undefined) throw this.#failure;
  }

  dispose(): void {
    this.#out.off('close', this.#onClose);
  }

  #next(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
