/**
 * Part-size math: exact MiB arithmetic within S3's limits (≥ 5 MiB per part but the
 * last, ≤ 10,000 parts, ≤ 5 GiB per part).
 */
import { MiB, S3_LIMITS } from './limits.ts';
import { parseSize } from './size.ts';

/** The default part size for files that fit in 10,000 of them. */
export const DEFAULT_PART_SIZE = 8 * MiB;

/** The broker's default single-request size: files up to it go as one PutObject or POST form. */
export const DEFAULT_SINGLE_REQUEST_MAX_SIZE = 8 * MiB;

/**
 * The part size for a file: `preferred` (default 8 MiB) rounded to whole MiB and kept in
 * S3's bounds, grown to the smallest whole-MiB size that keeps the file within 10,000 parts.
 * @throws {RangeError} for sizes S3 cannot store in one object.
 */
export function choosePartSize(size: number, preferred = DEFAULT_PART_SIZE): number {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`size must be a non-negative integer, got ${size}`);
  if (size > S3_LIMITS.maxObjectSize) throw new RangeError(`size ${size} exceeds S3's maximum object size`);
  const floor = Math.max(S3_LIMITS.minPartSize, Math.ceil(preferred / MiB) * MiB);
  const needed = Math.ceil(Math.ceil(size / S3_LIMITS.maxParts) / MiB) * MiB;
  return Math.min(S3_LIMITS.maxPartSize, Math.max(floor, needed));
}

/** Number of parts a file of `size` bytes has with `partSize` (at least 1). */
export function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

/** Byte range [start, end) of part `partNumber` (1-based). */
export function partRange(
  size: number,
  partSize: number,
  partNumber: number,
): { start: number; end: number } {
  const start = (partNumber - 1) * partSize;
  return { start, end: Math.min(size, start + partSize) };
}

/** Why `bytes` cannot be a part size (whole MiB from 5 MiB to 5 GiB), or undefined when it can. */
export function partSizeProblem(bytes: unknown): string | undefined {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes)) return 'must be a whole number of bytes';
  if (bytes < S3_LIMITS.minPartSize) return 'must be at least 5 MiB';
  if (bytes > S3_LIMITS.maxPartSize) return 'must be at most 5 GiB';
  if (bytes % MiB !== 0) return 'must be a whole number of MiB';
  return undefined;
}

/**
 * A part size written as text (`16MiB`, `8MB`, `5242880`), rounded up to whole MiB: part sizes
 * are whole MiB, and `8MB` (8,000,000 bytes) means 8 MiB the way people use it. Undefined when
 * the text is not a size; check the result with `partSizeProblem`.
 */
export function partSizeFromText(text: string): number | undefined {
  const bytes = parseSize(text);
  return bytes === undefined ? undefined : Math.ceil(bytes / MiB) * MiB;
}
