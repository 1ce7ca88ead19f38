/**
 * Streams a byte range of an object across its segment files, opening each file
 * only when the range reaches it, with backpressure and ~1 MiB reads.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ObjectSegment } from './types.ts';

const READ_SIZE = 1024 * 1024;

/** Validates `[start, endInclusive]` against the segments' total size; `end = start - 1` is an empty range. */
export function checkRange(segments: readonly ObjectSegment[], start: number, endInclusive: number): void {
  const total = segments.reduce((sum, segment) => sum + segment.size, 0);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(endInclusive)) {
    throw new RangeError('start and endInclusive must be integers');
  }
  if (start < 0 || endInclusive < start - 1 || endInclusive >= total) {
    throw new RangeError(`range ${start}-${endInclusive} is outside 0-${total - 1}`);
  }
}

/**
 * A blob deleted before the stream reaches it (the object was overwritten or
 * deleted meanwhile) errors the stream with ENOENT; a file shorter than its
 * recorded size errors it too, so a reader never gets silently short bytes.
 */
export function readSegments(
  pathOf: (blobId: string) => string,
  segments: readonly ObjectSegment[],
  start: number,
  endInclusive: number,
): Readable {
  checkRange(segments, start, endInclusive);
  const paths = segments.map((segment) => pathOf(segment.blobId));
  return Readable.from(pieces(paths, segments, start, endInclusive), {
    objectMode: false,
    highWaterMark: READ_SIZE,
  });
}

async function* pieces(
  paths: readonly string[],
  segments: readonly ObjectSegment[],
  start: number,
  endInclusive: number,
): AsyncGenerator<Buffer> {
  if (endInclusive < start) return;
  let segmentStart = 0;
  for (const [i, segment] of segments.entries()) {
    const segmentEnd = segmentStart + segment.size - 1;
    if (segment.size > 0 && segmentEnd >= start && segmentStart <= endInclusive) {
      const from = Math.max(start, segmentStart) - segmentStart;
      const to = Math.min(endInclusive, segmentEnd) - segmentStart;
      const file = createReadStream(paths[i]!, { start: from, end: to, highWaterMark: READ_SIZE });
      let read = 0;
      // Leaving the loop early (the consumer destroyed the stream) destroys `file`.
      for await (const chunk of file as AsyncIterable<Buffer>) {
        read += chunk.length;
        yield chunk;
      }
      if (read !== to - from + 1) {
        throw new Error(`blob ${segment.blobId} is shorter than its recorded size ${segment.size}`);
      }
    }
    segmentStart += segment.size;
    if (segmentStart > endInclusive) return;
  }
}
