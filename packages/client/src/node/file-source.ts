/**
 * A Node file as an UploadSource: one FileHandle opened once, positional reads of exact
 * ranges, and a refusal to hand out bytes once the file changed under the upload. Parts go to
 * the engine as file ranges (`blob()`), which the Node hasher and transport read in reused
 * chunks; `read()` is for what must be held whole (a small file's single request).
 */
import { openAsBlob, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { UploadError } from '../errors.ts';
import type { UploadSource } from '../types.ts';
import { asFileRange } from './file-range.ts';

export interface NodeFileSource extends UploadSource {
  readonly path: string;
  /** Closes the file handle; later reads reject with 'read-failed'. Idempotent. */
  close(): Promise<void>;
}

/** Common types by extension; anything else is left '' for the engine's default. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.parquet': 'application/vnd.apache.parquet',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
};

export function guessContentType(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? '';
}

/** Linux returns at most ~2 GiB per read(2); larger parts take several calls. */
const MAX_READ = 0x7fff_f000;
/** Errors that say the machine is busy, not that the file is bad. */
const TRANSIENT = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);
/** Errors that say the path itself is not something we can upload. */
const BAD_PATH = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG']);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function readFailed(path: string, reason: string, cause?: unknown): UploadError {
  const code = errorCode(cause);
  return new UploadError('read-failed', `Cannot read ${path}: ${reason}`, {
    retryable: code !== undefined && TRANSIENT.has(code),
    cause,
  });
}

/**
 * Opens `path` for upload. Rejects with UploadError 'invalid-options' when it is missing,
 * unreadable or not a regular file.
 */
export async function openFileSource(path: string): Promise<NodeFileSource> {
  if (typeof path !== 'string' || path === '')
    throw new TypeError('openFileSource: path must be a non-empty string');
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && BAD_PATH.has(code))
      throw new UploadError('invalid-options', `Cannot open ${path} (${code})`, { cause: error });
    throw readFailed(path, `open failed${code ? ` (${code})` : ''}`, error);
  }
  let stats: Stats;
  try {
    // fstat of the handle, not stat of the path: the file we checked is the file we read.
    stats = await handle.stat();
  } catch (error) {
    await handle.close().catch(() => {});
    throw readFailed(path, 'stat failed', error);
  }
  if (!stats.isFile()) {
    await handle.close().catch(() => {});
    throw new UploadError('invalid-options', `${path} is not a regular file`);
  }

  const size = stats.size;
  const mtimeMs = stats.mtimeMs;
  let closed: Promise<void> | undefined;
  let whole: Blob;
  try {
    // A real file-backed Blob, for code that reads ranges as Blobs; ours reads them from `handle`.
    whole = await openAsBlob(path);
  } catch (error) {
    await handle.close().catch(() => {});
    throw readFailed(path, 'open failed', error);
  }

  /** Rejects when size or mtime moved since open: the bytes would not be the file's. */
  async function checkUnchanged(): Promise<void> {
    let now: Stats;
    try {
      now = await handle.stat();
    } catch (error) {
      throw readFailed(path, 'stat failed', error);
    }
    if (now.size !== size || now.mtimeMs !== mtimeMs)
      throw readFailed(path, `the file changed while uploading (size ${size} -> ${now.size})`);
  }

  function checkRange(start: number, end: number): void {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > size)
      throw new RangeError(`read(${start}, ${end}) is outside 0..${size}`);
  }

  async function read(start: number, end: number): Promise<Uint8Array> {
    checkRange(start, end);
    if (closed) throw readFailed(path, 'the source is closed');
    const length = end - start;
    // Not pooled: the caller owns (and may transfer) the whole ArrayBuffer.
    const buffer = Buffer.allocUnsafeSlow(length);
    let filled = 0;
    try {
      while (filled < length) {
        const { bytesRead } = await handle.read(
          buffer,
          filled,
          Math.min(length - filled, MAX_READ),
          start + filled,
        );
        if (bytesRead === 0) throw readFailed(path, `the file is shorter than ${size} bytes (truncated?)`);
        filled += bytesRead;
      }
    } catch (error) {
      if (error instanceof UploadError) throw error;
      throw readFailed(path, `read failed${errorCode(error) ? ` (${errorCode(error)})` : ''}`, error);
    }
    // After the read, so a change during it is caught too.
    await checkUnchanged();
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  }

  return {
    path,
    name: basename(path),
    size,
    type: guessContentType(path),
    lastModified: mtimeMs,
    read,
    blob(start: number, end: number): Blob {
      checkRange(start, end);
      return asFileRange(whole.slice(start, end), {
        path,
        handle,
        start,
        end,
        checkUnchanged: async () => {
          if (closed) throw readFailed(path, 'the source is closed');
          await checkUnchanged();
        },
        readFailed: (reason, cause) =>
          readFailed(path, `${reason}${errorCode(cause) ? ` (${errorCode(cause)})` : ''}`, cause),
      });
    },
    close() {
      closed ??= handle.close();
      return closed;
    },
  };
}
