/**
 * The input of SigV4 verification: its shape, misuse refused at once (TypeError naming the
 * field), and the request's headers and query parsed once, with the duplicates AWS refuses.
 */
import { collectHeaders, percentDecode } from './canonical.ts';
import type { SigV4Crypto } from './crypto.ts';
import { SigV4Error } from './errors.ts';
import { isSha256Hex } from './payload-hash.ts';

export interface VerifyInput<I> {
  method: string;
  /** Exactly as on the request line, before '?', still percent-encoded. */
  rawPath: string;
  /** After '?', '' when none. */
  rawQuery: string;
  /** Node's req.rawHeaders: [name, value, name, value, ...] (duplicates preserved). */
  rawHeaders: readonly string[];
  /** Milliseconds since the epoch (injected clock). */
  now: number;
  /** The server's region. */
  region: string;
  /** 's3' or 'sts'. */
  service: string;
  crypto: SigV4Crypto;
  /** Resolves the secret; may throw SigV4Error (InvalidAccessKeyId, ExpiredToken, InvalidToken). */
  lookup: (
    accessKeyId: string,
    sessionToken: string | undefined,
  ) => Promise<{ secretAccessKey: string; identity: I }>;
  /** S3 path rules (encode once, no normalisation). Default: `service === 's3'`. */
  s3Mode?: boolean;
  /**
   * Hex SHA-256 of a body the caller has already buffered (STS form posts). Used as the
   * payload hash when no x-amz-content-sha256 header is present on a non-S3 service;
   * defaults to the empty-body hash.
   */
  bodySha256?: string;
}

export interface VerifiedRequest<I> {
  identity: I;
  accessKeyId: string;
  presigned: boolean;
  /** Lowercase hex sha256, 'UNSIGNED-PAYLOAD' or a STREAMING-* literal. */
  payloadHash: string;
  /** The request's (seed) signature, for chunk chaining. */
  signature: string;
  signingKey: Uint8Array;
  /** yyyymmddThhmmssZ */
  datetime: string;
  /** date/region/service/aws4_request */
  scope: string;
  signedHeaders: string[];
}

const MAX_QUERY = 64 * 1024;
const utf8 = new TextDecoder();

/** The request as verification reads it: the input, its headers and its decoded query. */
export interface VerifyContext {
  input: VerifyInput<unknown>;
  headers: Map<string, string>;
  query: Map<string, string[]>;
}

/** Misuse of verifyRequest, refused at once: a TypeError naming the field. */
export function validateInput(input: VerifyInput<unknown>): void {
  const bad = (field: string) => {
    throw new TypeError(`verifyRequest: input.${field} is invalid`);
  };
  if (typeof input !== 'object' || input === null)
    throw new TypeError('verifyRequest: input must be an object');
  if (typeof input.method !== 'string' || input.method === '') bad('method');
  if (typeof input.rawPath !== 'string') bad('rawPath');
  if (typeof input.rawQuery !== 'string') bad('rawQuery');
  if (!Array.isArray(input.rawHeaders) || input.rawHeaders.length % 2 !== 0) bad('rawHeaders');
  if (!Number.isFinite(input.now)) bad('now');
  if (typeof input.region !== 'string' || input.region === '') bad('region');
  if (typeof input.service !== 'string' || input.service === '') bad('service');
  if (typeof input.crypto?.hmac !== 'function') bad('crypto');
  if (typeof input.lookup !== 'function') bad('lookup');
  if (input.bodySha256 !== undefined && !isSha256Hex(input.bodySha256)) bad('bodySha256');
}

/** The request's headers and query, parsed once; throws SigV4Error for what AWS refuses outright. */
export function parseRequest(input: VerifyInput<unknown>): VerifyContext {
  return { input, headers: headerMap(input.rawHeaders), query: queryParams(input.rawQuery) };
}

function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const pairs: [string, string][] = [];
  let hosts = 0;
  let authorizations = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]).toLowerCase();
    if (name === 'host') hosts++;
    else if (name === 'authorization') authorizations++;
    pairs.push([name, String(rawHeaders[i + 1])]);
  }
  if (hosts > 1)
    throw new SigV4Error('InvalidRequest', 400, 'The request contains more than one Host header.');
  if (authorizations > 1)
    throw new SigV4Error('InvalidRequest', 400, 'The request contains more than one Authorization header.');
  return collectHeaders(pairs);
}

function queryParams(rawQuery: string): Map<string, string[]> {
  if (rawQuery.length > MAX_QUERY)
    throw new SigV4Error('InvalidRequest', 400, 'The request query string is too long.');
  const params = new Map<string, string[]>();
  if (rawQuery === '') return params;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = utf8.decode(percentDecode(eq < 0 ? part : part.slice(0, eq), true));
    const value = eq < 0 ? '' : utf8.decode(percentDecode(part.slice(eq + 1), true));
    const list = params.get(name);
    if (list) list.push(value);
    else params.set(name, [value]);
  }
  return params;
}
