/**
 * The element's settings as attributes (strings) and properties (typed): parsed and checked in
 * one place, every mistake a TypeError that names the attribute.
 */

import { normalizeBrokerUrl as normalizeUrl } from '@hoist/client/core';
import { MiB, S3_LIMITS } from '@hoist/protocol';
import { parseSize } from './format.ts';

const MAX_CONCURRENCY = 64;

/** The broker URL the way the engine writes it in resume records (no trailing slash). */
export function normalizeBrokerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value, globalThis.location?.href);
  } catch {
    throw new TypeError(`hoist-uploader: broker-url must be a URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`hoist-uploader: broker-url must be http(s), got ${JSON.stringify(value)}`);
  return normalizeUrl(url);
}

/** `concurrency`: parallel part requests, 1..64; undefined = the engine's default. */
export function parseConcurrency(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
    throw new TypeError(
      `hoist-uploader: concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${value}`,
    );
  return n;
}

/** `max-size`: bytes or a size such as `5GiB`; undefined = no local limit (the broker's applies). */
export function parseMaxSize(value: string | number | null | undefined): number | undefined {
  return bytes('max-size', value);
}

/** `part-size`: whole MiB from 5 MiB to 5 GiB; the broker has the last word. */
export function parsePartSize(value: string | number | null | undefined): number | undefined {
  const size = bytes('part-size', value);
  if (size === undefined) return undefined;
  if (size < S3_LIMITS.minPartSize || size > S3_LIMITS.maxPartSize || size % MiB !== 0)
    throw new TypeError(
      `hoist-uploader: part-size must be a whole number of MiB from 5MiB to 5GiB, got ${value}`,
    );
  return size;
}

function bytes(name: string, value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const size = typeof value === 'number' ? value : parseSize(value);
  if (size === undefined || !Number.isSafeInteger(size) || size < 0)
    throw new TypeError(
      `hoist-uploader: ${name} must be a number of bytes or a size such as 5GiB, got ${value}`,
    );
  return size;
}
