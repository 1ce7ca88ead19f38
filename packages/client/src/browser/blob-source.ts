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
  const isFile = typeof File !== 'undefined' && file instanceof File;
  const size = file.size;
  return {
    name: name ?? (isFile ? (file as File).name : ''),
    size,
    type: file.type,
    lastModified: isFile ? (file as File).lastModified : 0,
    blob: (start: number, end: number): Blob => file.slice(start, end),
    async read(start: number, end: number): Promise<Uint8Array> {
      if (
        !Number.isSafeInteger(start) ||
        !Number.isSafeInteger(end) ||
        start < 0 ||
        start > end ||
        end > size
      ) {
        throw new RangeError(`blobSource: invalid range [${start}, ${end}) of a ${size}-byte file`);
      }
      let buffer: ArrayBuffer;
      try {
        buffer = await file.slice(start, end).arrayBuffer();
      } catch (cause) {
        // Chromium: NotReadableError/NotFoundError once the file on disk changed or is gone.
        throw new UploadError('read-failed', `Could not read the file: ${(cause as Error)?.name ?? cause}`, {
          cause,
        });
      }
      if (buffer.byteLength !== end - start) {
        throw new UploadError(
          'read-failed',
          `The file is shorter than expected (read ${buffer.byteLength} of ${end - start} bytes at ${start})`,
        );
      }
      return new Uint8Array(buffer);
    },
  };
}
