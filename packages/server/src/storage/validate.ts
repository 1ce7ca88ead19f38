/** Misuse checks at the storage edge: a TypeError naming what is wrong, before any I/O. */
import type { NewObject } from './types.ts';

/** Keys are stored as UTF-8: a lone surrogate would come back as U+FFFD, another key. */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || !key.isWellFormed()) throw new TypeError('key must be a well-formed string');
}

/** Segment sizes must add up to the object size, and no blob may appear twice. */
export function checkNewObject(object: NewObject): void {
  let total = 0;
  const seen = new Set<string>();
  for (const segment of object.segments) {
    if (!Number.isSafeInteger(segment.size) || segment.size < 0) {
      throw new TypeError('segment size must be an integer >= 0');
    }
    if (seen.has(segment.blobId)) throw new TypeError(`blob ${segment.blobId} is used twice`);
    seen.add(segment.blobId);
    total += segment.size;
  }
  if (total !== object.size) {
    throw new TypeError(`object size ${object.size} is not the sum of its segment sizes ${total}`);
  }
}

export function checkListing(
  prefix: string,
  delimiter: string,
  after: string,
  max: number,
  name: string,
): void {
  for (const value of [prefix, delimiter, after]) {
    if (typeof value !== 'string' || !value.isWellFormed()) {
      throw new TypeError('prefix, delimiter and markers must be well-formed strings');
    }
  }
  if (!Number.isSafeInteger(max) || max < 0 || max > 1000) throw new TypeError(`${name} must be 0..1000`);
}
