/**
 * Object headers in and out: stored content headers and x-amz-meta-* (bounded),
 * the response headers of GET/HEAD, conditional requests and byte ranges.
 */
import { S3Error } from '@hoist/aws/s3';
import { checksumHeaderName, S3_LIMITS } from '@hoist/protocol';
import type { ObjectHeaders, ObjectRecord } from '../storage/types.ts';
import { header, httpDate, type S3Context } from './context.ts';

const CONTENT_HEADERS: [keyof ObjectHeaders, string][] = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['contentDisposition', 'content-disposition'],
  ['contentLanguage', 'content-language'],
  ['cacheControl', 'cache-control'],
  ['expires', 'expires'],
];

/** S3's default when a writer sends no Content-Type. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** Content headers a writer asked S3 to keep; `aws-chunked` is transport framing, not content. */
export function storedHeadersFrom(ctx: S3Context): ObjectHeaders {
  const out: ObjectHeaders = {};
  for (const [field, name] of CONTENT_HEADERS) {
    let value = header(ctx, name);
    if (name === 'content-encoding' && value !== undefined) {
      // aws-chunked describes the transfer, not the object; the rest is kept as sent.
      value = value
        .replace(/(^|,)[ \t]*aws-chunked[ \t]*(?=,|$)/gi, '$1')
        .replace(/^[ \t]*,[ \t]*|[ \t]*,[ \t]*$/g, '')
        .replace(/,[ \t]*,/g, ',');
    }
    if (value) out[field] = value;
  }
  out.contentType ??= DEFAULT_CONTENT_TYPE;
  return out;
}

/** The stored content headers of an object or upload record, without the unset ones. */
export function contentHeadersOf(record: ObjectHeaders): ObjectHeaders {
  const out: ObjectHeaders = {};
  for (const [field] of CONTENT_HEADERS) {
    const value = record[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** x-amz-meta-* headers, names lowercased, at most 2 KB of names and values together. */
export function userMetadataFrom(ctx: S3Context): Record<string, string> {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  const raw = ctx.req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    if (!name.startsWith('x-amz-meta-')) continue;
    const key = name.slice('x-amz-meta-'.length);
    const value = raw[i + 1] ?? '';
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    metadata[key] = metadata[key] === undefined ? value : `${metadata[key]},${value}`;
  }
  if (bytes > S3_LIMITS.maxUserMetadataBytes) {
    throw new S3Error('MetadataTooLarge', undefined, {
      extra: { Size: String(bytes), MaxSizeAllowed: String(S3_LIMITS.maxUserMetadataBytes) },
    });
  }
  return metadata;
}

/**
 * Every object is encrypted with SSE-S3 since S3's default encryption (January 2023), and
 * S3 says so on each write and read. (Bytes here are not encrypted at rest; see README.)
 */
export const SSE_S3_HEADER: Readonly<Record<string, string>> = Object.freeze({
  'x-amz-server-side-encryption': 'AES256',
});

/** Headers of GET/HEAD responses (length and range handled by the caller). */
export function objectResponseHeaders(
  object: ObjectRecord,
  options: { checksumMode: boolean; partNumber?: number },
): Record<string, string> {
  const out: Record<string, string> = {
    etag: object.etag,
    'last-modified': httpDate(object.lastModified),
    'accept-ranges': 'bytes',
    ...SSE_S3_HEADER,
  };
  for (const [field, name] of CONTENT_HEADERS) {
    const value = object[field];
    if (value) out[name] = value;
  }
  for (const [name, value] of Object.entries(object.userMetadata)) out[`x-amz-meta-${name}`] = value;
  if (object.partsCount !== undefined && options.partNumber !== undefined) {
    out['x-amz-mp-parts-count'] = String(object.partsCount);
  }
  if (options.checksumMode && object.checksum) {
    // The GetObject/HeadObject reference describes x-amz-checksum-type as the object's type
    // (how its part checksums combine), with no exception for a `partNumber` read: it is sent
    // on every checksum-mode read, whole object or part.
    out['x-amz-checksum-type'] = object.checksum.type;
    if (options.partNumber === undefined) {
      out[checksumHeaderName(object.checksum.algorithm)] = object.checksum.value;
    } else {
      // Which checksum value a part read carries is not documented by AWS: only a COMPOSITE
      // object's part reports that part's own checksum (docs/server.md, "What differs").
      const segment = object.segments.find((s) => s.partNumber === options.partNumber);
      if (segment?.checksum && object.checksum.type === 'COMPOSITE') {
        out[checksumHeaderName(object.checksum.algorithm)] = segment.checksum;
      }
    }
  }
  return out;
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function etagMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/"/g, '');
  return list.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '').replace(/"/g, '') === bare;
  });
}

/**
 * If-Match / If-None-Match / If-(Un)Modified-Since, with S3's precedence:
 * If-Match true wins over If-Unmodified-Since false; If-None-Match false wins
 * over If-Modified-Since true (304).
 */
export function checkConditions(
  object: ObjectRecord,
  get: (name: string) => string | undefined,
  options: { prefix?: string; notModifiedIsError?: boolean } = {},
): void {
  const p = options.prefix ?? '';
  const ifMatch = get(`${p}if-match`);
  const ifNoneMatch = get(`${p}if-none-match`);
  const ifModifiedSince = parseHttpDate(get(`${p}if-modified-since`));
  const ifUnmodifiedSince = parseHttpDate(get(`${p}if-unmodified-since`));
  // HTTP dates have second precision.
  const modified = Math.floor(object.lastModified / 1000) * 1000;
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, object.etag))
      throw new S3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-Match' } });
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw new S3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-Unmodified-Since' } });
  }
  const notModified = options.notModifiedIsError ? 'PreconditionFailed' : 'NotModified';
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, object.etag)) {
      throw new S3Error(notModified, undefined, {
        headers: { etag: object.etag, 'last-modified': httpDate(object.lastModified) },
      });
    }
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    throw new S3Error(notModified, undefined, {
      headers: { etag: object.etag, 'last-modified': httpDate(object.lastModified) },
    });
  }
}

/** A satisfiable byte range [start, end] of a `size`-byte object, or undefined for the whole. */
export function parseRange(
  value: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  // S3 ignores ranges it cannot parse (and multi-range requests) and returns the whole object.
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw invalidRange(value, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) throw invalidRange(value, size);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

function invalidRange(range: string, size: number): S3Error {
  return new S3Error('InvalidRange', undefined, {
    extra: { RangeRequested: range, ActualObjectSize: String(size) },
    headers: { 'content-range': `bytes */${size}` },
  });
}
