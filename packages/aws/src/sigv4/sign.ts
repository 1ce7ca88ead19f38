/**
 * Client-side SigV4: `signRequest` (Authorization header) and `presignUrl` (X-Amz-* query).
 * One validated options object each; misuse throws a TypeError naming the option.
 */
import {
  ALGORITHM,
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  collectHeaders,
  credentialScope,
  EMPTY_SHA256,
  formatAmzDate,
  parseAmzDate,
  uriEncode,
} from './canonical.ts';
import { type SigV4Crypto, webSigV4Crypto } from './crypto.ts';
import { isPayloadHash } from './payload-hash.ts';
import {
  type Prepared,
  type SignatureDetails,
  type SigV4Credentials,
  sign,
  signHeaders,
  signingHeaders,
} from './sign-core.ts';

export type { SignatureDetails, SigV4Credentials } from './sign-core.ts';

/** A plain record, or `[name, value]` pairs (repeated names allowed), e.g. a `Headers`. */
export type HeaderInput = Readonly<Record<string, string>> | Iterable<readonly [string, string]>;

export interface SignOptions {
  method: string;
  /** Absolute http(s) URL. A string keeps its path exactly as written (no re-encoding). */
  url: string | URL;
  /** Headers that will be sent; all are signed except hop-by-hop ones and `user-agent`. */
  headers?: HeaderInput | undefined;
  service: string;
  region: string;
  credentials: SigV4Credentials;
  /** Signing time (the injected clock): a Date, ISO 8601 or `yyyymmddThhmmssZ`. Default: now. */
  datetime?: Date | string | undefined;
  /** Hex SHA-256 of the body or a literal such as `UNSIGNED-PAYLOAD`. */
  payloadHash?: string | undefined;
  /** Hashed for the payload hash when `payloadHash` is not given. */
  body?: Uint8Array | string | undefined;
  /** S3 path rules (encode once, never normalise). Default: `service === 's3'`. */
  s3Mode?: boolean | undefined;
  /** Generic mode only: normalise `.`/`..`/`//` (default true). */
  normalizePath?: boolean | undefined;
  crypto?: SigV4Crypto | undefined;
}

export interface SignRequestOptions extends SignOptions {
  /** Add (and sign) `x-amz-content-sha256`. Default: `service === 's3'`. */
  contentSha256Header?: boolean | undefined;
}

export interface PresignUrlOptions extends SignOptions {
  /** Seconds the URL stays valid, 1..604800. Default 900. */
  expiresIn?: number | undefined;
}

const MAX_EXPIRES = 604800;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SCOPE_PART = /^[A-Za-z0-9._-]+$/;

function fail(fn: string, option: string, expected: string): never {
  throw new TypeError(`${fn}: options.${option} ${expected}`);
}

function parseUrl(
  fn: string,
  url: string | URL,
): { origin: string; host: string; path: string; query: string } {
  if (url instanceof URL) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(fn, 'url', 'must be an http(s) URL');
    if (url.username || url.password) fail(fn, 'url', 'must not contain credentials');
    return {
      origin: `${url.protocol}//${url.host}`,
      host: url.host,
      path: url.pathname,
      query: url.search.slice(1),
    };
  }
  if (typeof url !== 'string') fail(fn, 'url', 'must be a string or URL');
  const m = /^(https?):\/\/([^/?#]+)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i.exec(url);
  if (!m) fail(fn, 'url', 'must be an absolute http(s) URL');
  const [, scheme = '', authority = '', path = '', query = ''] = m;
  if (authority.includes('@') || /\s/.test(authority))
    fail(fn, 'url', 'must have a plain host[:port] authority');
  const defaultPort = scheme.toLowerCase() === 'https' ? ':443' : ':80';
  const lower = authority.toLowerCase();
  const host = lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
  return { origin: `${scheme}://${authority}`, host, path: path === '' ? '/' : path, query };
}

function headerPairs(fn: string, headers: HeaderInput | undefined): [string, string][] {
  if (headers === undefined) return [];
  if (typeof headers !== 'object' || headers === null)
    fail(fn, 'headers', 'must be a record or [name, value] pairs');
  const entries: Iterable<readonly [string, string]> =
    Symbol.iterator in headers
      ? (headers as Iterable<readonly [string, string]>)
      : Object.entries(headers as Record<string, string>);
  const out: [string, string][] = [];
  for (const entry of entries) {
    const [name, value] = entry;
    if (typeof name !== 'string' || !TOKEN.test(name))
      fail(fn, 'headers', `has an invalid header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value))
      fail(fn, 'headers', `has an invalid value for ${name}`);
    out.push([name, value]);
  }
  return out;
}

function parseDatetime(fn: string, value: Date | string | undefined): string {
  if (value === undefined) return formatAmzDate(Date.now());
  let ms: number | undefined;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string')
    ms = parseAmzDate(value) ?? (/^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN);
  if (ms === undefined || !Number.isFinite(ms))
    fail(fn, 'datetime', 'must be a valid Date or ISO 8601 string');
  return formatAmzDate(ms);
}

function prepare(fn: string, o: SignOptions): Prepared {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${fn}: options must be an object`);
  if (typeof o.method !== 'string' || !TOKEN.test(o.method)) fail(fn, 'method', 'must be an HTTP method');
  const url = parseUrl(fn, o.url);
  if (typeof o.service !== 'string' || !SCOPE_PART.test(o.service))
    fail(fn, 'service', 'must be a service name');
  if (typeof o.region !== 'string' || !SCOPE_PART.test(o.region)) fail(fn, 'region', 'must be a region name');
  const c = o.credentials;
  if (typeof c !== 'object' || c === null) fail(fn, 'credentials', 'must be an object');
  if (typeof c.accessKeyId !== 'string' || !/^[^\s/]+$/.test(c.accessKeyId))
    fail(fn, 'credentials', 'accessKeyId must be a non-empty string without "/"');
  if (typeof c.secretAccessKey !== 'string' || c.secretAccessKey === '')
    fail(fn, 'credentials', 'secretAccessKey must be a non-empty string');
  if (c.sessionToken !== undefined && (typeof c.sessionToken !== 'string' || c.sessionToken === ''))
    fail(fn, 'credentials', 'sessionToken must be a non-empty string when given');
  if (o.payloadHash !== undefined && !isPayloadHash(o.payloadHash))
    fail(fn, 'payloadHash', 'must be a hex SHA-256 or UNSIGNED-PAYLOAD / STREAMING-* literal');
  if (o.body !== undefined && typeof o.body !== 'string' && !(o.body instanceof Uint8Array))
    fail(fn, 'body', 'must be a string or Uint8Array');
  const s3Mode = o.s3Mode ?? o.service === 's3';
  if (typeof s3Mode !== 'boolean') fail(fn, 's3Mode', 'must be a boolean');
  if (o.normalizePath !== undefined && typeof o.normalizePath !== 'boolean')
    fail(fn, 'normalizePath', 'must be a boolean');
  const crypto = o.crypto ?? webSigV4Crypto;
  if (typeof crypto?.hmac !== 'function' || typeof crypto.sha256Hex !== 'function')
    fail(fn, 'crypto', 'must implement SigV4Crypto');
  return {
    crypto,
    method: o.method,
    origin: url.origin,
    host: url.host,
    rawPath: url.path,
    rawQuery: url.query,
    headers: headerPairs(fn, o.headers),
    service: o.service,
    region: o.region,
    credentials: c,
    amzDate: parseDatetime(fn, o.datetime),
    s3Mode,
    normalize: o.normalizePath ?? true,
  };
}

async function resolvePayloadHash(p: Prepared, o: SignOptions, fallback: string): Promise<string> {
  if (o.payloadHash !== undefined) return o.payloadHash;
  const fromHeader = collectHeaders(p.headers).get('x-amz-content-sha256');
  if (fromHeader !== undefined && isPayloadHash(fromHeader)) return fromHeader;
  if (o.body !== undefined) return p.crypto.sha256Hex(o.body);
  return fallback;
}

/** `signRequest` plus the intermediate canonical request and string to sign. */
export async function signRequestDetailed(
  options: SignRequestOptions,
): Promise<SignatureDetails & { headers: Record<string, string> }> {
  const p = prepare('signRequest', options);
  if (options.contentSha256Header !== undefined && typeof options.contentSha256Header !== 'boolean')
    fail('signRequest', 'contentSha256Header', 'must be a boolean');
  const payloadHash = await resolvePayloadHash(p, options, EMPTY_SHA256);
  return signHeaders(p, payloadHash, options.contentSha256Header ?? p.service === 's3');
}

/**
 * Signs a request for the Authorization header. Returns the headers to add:
 * `x-amz-date`, `x-amz-content-sha256` (when asked; default for S3),
 * `x-amz-security-token` (with a session token) and `authorization`.
 */
export async function signRequest(options: SignRequestOptions): Promise<Record<string, string>> {
  return (await signRequestDetailed(options)).headers;
}

/** `presignUrl` plus the intermediate canonical request and string to sign. */
export async function presignUrlDetailed(
  options: PresignUrlOptions,
): Promise<SignatureDetails & { url: string }> {
  const p = prepare('presignUrl', options);
  const expiresIn = options.expiresIn ?? 900;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES)
    fail('presignUrl', 'expiresIn', `must be an integer number of seconds from 1 to ${MAX_EXPIRES}`);
  const payloadHash = await resolvePayloadHash(
    p,
    options,
    p.service === 's3' ? 'UNSIGNED-PAYLOAD' : EMPTY_SHA256,
  );
  const { pairs, names } = signingHeaders(p, []);
  const signedHeaders = names.join(';');
  const scope = credentialScope(p.amzDate.slice(0, 8), p.region, p.service);
  const params: [string, string][] = [
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${p.credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', p.amzDate],
    ['X-Amz-SignedHeaders', signedHeaders],
    ['X-Amz-Expires', String(expiresIn)],
  ];
  if (p.credentials.sessionToken !== undefined)
    params.push(['X-Amz-Security-Token', p.credentials.sessionToken]);
  const added = params.map(([name, value]) => `${name}=${uriEncode(value, true)}`).join('&');
  const query = p.rawQuery === '' ? added : `${p.rawQuery}&${added}`;
  const details = await sign(
    p,
    canonicalRequest({
      method: p.method,
      canonicalUri: canonicalUri(p.rawPath, { s3Mode: p.s3Mode, normalize: p.normalize }),
      canonicalQuery: canonicalQueryString(query),
      canonicalHeaders: canonicalHeaders(pairs, names),
      signedHeaders,
      payloadHash,
    }),
  );
  return { ...details, url: `${p.origin}${p.rawPath}?${query}&X-Amz-Signature=${details.signature}` };
}

/** A presigned URL (X-Amz-* query parameters, `X-Amz-Expires` ≤ 604800). */
export async function presignUrl(options: PresignUrlOptions): Promise<string> {
  return (await presignUrlDetailed(options)).url;
}
