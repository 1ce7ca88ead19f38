/**
 * SigV4 canonical-request building blocks: small pure functions over RAW request parts
 * (percent-encoded path and query exactly as on the wire, header pairs as received).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-._~/]*$/;

// Byte -> canonical text: RFC 3986 unreserved bytes as themselves, the rest %XX (uppercase).
const ENCODED: string[] = Array.from({ length: 256 }, (_, byte) => {
  const ch = String.fromCharCode(byte);
  return UNRESERVED.test(ch) && byte < 0x80 ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
});

function encodeBytes(bytes: Uint8Array, encodeSlash: boolean): string {
  let out = '';
  for (const byte of bytes) out += byte === 0x2f && !encodeSlash ? '/' : ENCODED[byte];
  return out;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

function pushCodePoint(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}

/**
 * Percent-decodes to raw bytes (never throws: invalid UTF-8 stays bytes, a stray `%`
 * stays a literal `%`). Non-ASCII characters are taken as UTF-8; lone surrogates as U+FFFD.
 */
export function percentDecode(text: string, plusAsSpace: boolean): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 && i + 2 < text.length) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    if (code === 0x2b && plusAsSpace) out.push(0x20);
    else if (code < 0x80) out.push(code);
    else {
      const cp = text.codePointAt(i) ?? 0xfffd;
      if (cp > 0xffff) i++;
      pushCodePoint(out, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
    }
  }
  return Uint8Array.from(out);
}

/**
 * SigV4 UriEncode: every UTF-8 byte except the RFC 3986 unreserved characters as `%XX`
 * with uppercase hex; `/` kept as is unless `encodeSlash`.
 */
export function uriEncode(text: string, encodeSlash: boolean): string {
  if ((encodeSlash ? UNRESERVED : UNRESERVED_OR_SLASH).test(text)) return text;
  return encodeBytes(new TextEncoder().encode(text), encodeSlash);
}

/** Decodes then re-encodes one component, so equivalent encodings canonicalise alike. */
function recode(component: string, plusAsSpace: boolean): string {
  if (UNRESERVED.test(component)) return component;
  return encodeBytes(percentDecode(component, plusAsSpace), true);
}

/** Removes `.`, resolves `..` and collapses empty segments (generic, non-S3 signing). */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const trailingSlash = out.length > 0 && path.endsWith('/');
  return `/${out.join('/')}${trailingSlash ? '/' : ''}`;
}

export interface CanonicalUriOptions {
  /** S3: each segment decoded and re-encoded once, no normalisation. Otherwise generic. */
  s3Mode: boolean;
  /** Generic mode only: normalise `.`, `..` and `//` first (default true). */
  normalize?: boolean;
}

/**
 * Canonical URI from the RAW (still percent-encoded) request path. S3 mode encodes each
 * segment once; generic mode (every other service) encodes the raw path again
 * ("double encoding"), after normalisation unless `normalize: false`.
 */
export function canonicalUri(rawPath: string, options: CanonicalUriOptions): string {
  if (rawPath === '') return '/';
  if (options.s3Mode) {
    if (UNRESERVED_OR_SLASH.test(rawPath)) return rawPath;
    return rawPath
      .split('/')
      .map((segment) => recode(segment, false))
      .join('/');
  }
  const path = options.normalize === false ? rawPath : normalizePath(rawPath);
  return uriEncode(path, false);
}

/**
 * Canonical query string from the RAW query (after `?`): names and values decoded (`+`
 * as space, as S3 does) and re-encoded, sorted by name then value; `exclude` (a decoded
 * name such as `X-Amz-Signature`) is left out.
 */
export function canonicalQueryString(rawQuery: string, exclude?: string): string {
  if (rawQuery === '') return '';
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = recode(eq < 0 ? part : part.slice(0, eq), true);
    const value = eq < 0 ? '' : recode(part.slice(eq + 1), true);
    if (exclude !== undefined && name === uriEncode(exclude, true)) continue;
    pairs.push([name, value]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

const NEEDS_TRIM = /^[ \t]|[ \t]$|[ \t]{2}|\t|[\r\n]/;

/**
 * Canonical header value: trimmed, inner runs of spaces/tabs collapsed to one space.
 * A folded (obs-fold) value is one value whose line breaks are whitespace like any
 * other (RFC 7230 3.2.4), as the current AWS suite's get-header-value-multiline expects:
 * `value1\n  value2` → `value1 value2`.
 */
export function canonicalHeaderValue(value: string): string {
  if (!NEEDS_TRIM.test(value)) return value;
  return value.replace(/[ \t\r\n]+/g, ' ').replace(/^ | $/g, '');
}

/** Lowercased header name -> canonical value; repeated names joined with ',' in order. */
export function collectHeaders(pairs: Iterable<readonly [string, string]>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of pairs) {
    const key = name.trim().toLowerCase();
    const canonical = canonicalHeaderValue(value);
    const previous = map.get(key);
    map.set(key, previous === undefined ? canonical : `${previous},${canonical}`);
  }
  return map;
}

/**
 * The canonical headers block (`name:value\n` per signed header, in the given order) from
 * RAW header pairs. A signed header the request lacks contributes an empty value.
 */
export function canonicalHeaders(
  pairs: Iterable<readonly [string, string]> | ReadonlyMap<string, string>,
  signedHeaders: readonly string[],
): string {
  const map = pairs instanceof Map ? (pairs as ReadonlyMap<string, string>) : collectHeaders(pairs);
  let out = '';
  for (const name of signedHeaders) out += `${name}:${map.get(name.toLowerCase()) ?? ''}\n`;
  return out;
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  /** The block from `canonicalHeaders` (each line ends with `\n`). */
  canonicalHeaders: string;
  /** `;`-joined signed header names. */
  signedHeaders: string;
  payloadHash: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    parts.canonicalUri,
    parts.canonicalQuery,
    parts.canonicalHeaders,
    parts.signedHeaders,
    parts.payloadHash,
  ].join('\n');
}

/** `yyyymmdd/region/service/aws4_request` */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function stringToSign(datetime: string, scope: string, canonicalRequestSha256: string): string {
  return `${ALGORITHM}\n${datetime}\n${scope}\n${canonicalRequestSha256}`;
}

/** `yyyymmddThhmmssZ` for a Date or epoch milliseconds. */
export function formatAmzDate(time: Date | number): string {
  return new Date(time).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** Epoch ms of a valid `yyyymmddThhmmssZ`, else undefined (no lenient parsing). */
export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return ms;
}

/** True for a valid calendar date `yyyymmdd`. */
export function isAmzDay(text: string): boolean {
  return /^\d{8}$/.test(text) && parseAmzDate(`${text}T000000Z`) !== undefined;
}
