/**
 * The element's settings as attributes (strings) and properties (typed): parsed and checked in
 * one place, every mistake a TypeError that names the attribute.
 */

import { normalizeBrokerUrl as normalizeUrl } from '@hoist/client/core';
import {
  concurrencyProblem,
  parseSize,
  partSizeFromText,
  partSizeProblem,
  SIZE_SYNTAX,
} from '@hoist/protocol';

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
  const problem = concurrencyProblem(n);
  if (problem) throw new TypeError(`hoist-uploader: concurrency ${problem}, got ${value}`);
  return n;
}

/** `max-size`: bytes or a size such as `5GiB`; undefined = no local limit (the broker's applies). */
export function parseMaxSize(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const size = typeof value === 'number' ? value : parseSize(value);
  if (size === undefined || !Number.isSafeInteger(size) || size < 0)
    throw new TypeError(`hoist-uploader: max-size must be ${SIZE_SYNTAX}, got ${value}`);
  return size;
}

/**
 * `part-size`: whole MiB from 5 MiB to 5 GiB (the broker has the last word). Text is read like
 * the CLI's `--part-size`, rounded up to whole MiB (`8MB` is 8 MiB); a number must already be one.
 */
export function parsePartSize(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const size = typeof value === 'number' ? value : partSizeFromText(value);
  if (size === undefined)
    throw new TypeError(`hoist-uploader: part-size must be ${SIZE_SYNTAX}, got ${value}`);
  const problem = partSizeProblem(size);
  if (problem)
    throw new TypeError(`hoist-uploader: part-size ${problem} (whole MiB from 5MiB to 5GiB), got ${value}`);
  return size;
}
