/** UploadSource over a browser Blob or File, read lazily one range at a time. */
import { UploadError } from '../errors.ts';
import type { UploadSource } from '../types.ts';

/**
 * An upload source for a `File` (from a picker or a drop) or any `Blob`.
 * Ranges are read with `Blob.slice().arrayBuffer()`: `Blob.stream()` fails on large files in
 * Safari, and a slice keeps memory at one part per request.
 * @param name Defaults to the File's name ('' for a plain Blob).
 */
export function blobSource(file: Blob, name?: string): UploadSource {
  if (!(file instanceof Blob)) throw new TypeError('blobSource: `file` must be a Blob or File');
  const size = file.size;
  // A plain Blob has neither: '' and 0.
  const { name: fileName = '', lastModified = 0 } = file as Partial<File>;
  return {
    name: name ?? fileName,
    size,
    type: file.type,
    lastModified,
    blob: (start: number, end: number): Blob => file.slice(start, end),
    async read(start: number, end: number): Promise<Uint8Array> {
      if (
        !Number.isSafeInteger(start) ||
        !Number.isSafeInteger(end) ||
        start < 0 ||
        start > end ||
        end > size
      )
        throw new RangeError(`blobSource: invalid range [${start}, ${end}) of a ${size}-byte file`);
      return readBlob(file.slice(start, end));
    },
  };
}

/**
 * A Blob's bytes (on the page, or in the hash worker for a File slice). Rejects with
 * UploadError('read-failed') when the file behind it changed, shrank or is gone.
 */
export async function readBlob(blob: Blob): Promise<Uint8Array> {
  let buffer: ArrayBuffer;
  try {
    buffer = await blob.arrayBuffer();
  } catch (cause) {
    // Chromium: NotReadableError/NotFoundError once the file on disk changed or is gone.
    throw new UploadError('read-failed', `Could not read the file: ${(cause as Error)?.name ?? cause}`, {
      cause,
    });
  }
  if (buffer.byteLength !== blob.size)
    throw new UploadError(
      'read-failed',
      `The file is shorter than expected (read ${buffer.byteLength} of ${blob.size} bytes)`,
    );
  return new Uint8Array(buffer);
}
