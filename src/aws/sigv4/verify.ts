/**
 * Server-side SigV4 verification with AWS S3's rules, error codes and messages.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
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
  isAmzDay,
  parseAmzDate,
  percentDecode,
  stringToSign,
} from './canonical.ts';
import { type SigV4Crypto, toHex } from './crypto.ts';
import {
  accessDenied,
  headerMalformed,
  queryMalformed,
  SIGNATURE_MISMATCH_MESSAGE,
  SigV4Error,
} from './errors.ts';
import { isPayloadHash, isSha256Hex } from './payload-hash.ts';
import { deriveSigningKey } from './signing-key.ts';

export { SigV4Error } from './errors.ts';

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

const MAX_AUTH_HEADER = 8192;
const MAX_SIGNED_HEADERS = 64;
const MAX_QUERY = 64 * 1024;
const MAX_CREDENTIAL = 1024;
const MAX_EXPIRES = 604800;
const MAX_SKEW_MS = 15 * 60 * 1000;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * A `Date` header: RFC 7231's IMF-fixdate (`… GMT`), or RFC 2822 with a numeric zone
 * (`… -0000`), which is what botocore sends when a caller sets Date (email.utils.formatdate).
 */
const HTTP_DATE = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|[+-]\d{4})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ms since the epoch of a Date header, or undefined when it is neither accepted form. */
export function parseHttpDate(value: string): number | undefined {
  const m = HTTP_DATE.exec(value);
  const month = m ? MONTHS.indexOf(m[2] ?? '') : -1;
  if (!m || month < 0) return undefined;
  const zone = m[7] ?? 'GMT';
  const offsetMinutes =
    zone === 'GMT'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3)));
  const local = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  // Reject impossible dates (31 Feb) rather than letting Date.UTC roll them over.
  if (new Date(local).getUTCDate() !== Number(m[1])) return undefined;
  return local - offsetMinutes * 60_000;
}
const QUERY_REQUIRED =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
const utf8 = new TextDecoder();

/** What the header or query form yields before the secret is known. */
interface Claim {
  presigned: boolean;
  accessKeyId: string;
  scope: string;
  datetime: string;
  signedHeaders: string[];
  signature: string;
  sessionToken: string | undefined;
  /** Value for the canonical request's last line. */
  canonicalPayload: string;
}

interface Context {
  input: VerifyInput<unknown>;
  headers: Map<string, string>;
  query: Map<string, string[]>;
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function invalidArgument(message: string, extra: Record<string, string>): SigV4Error {
  return new SigV4Error('InvalidArgument', 400, message, extra);
}

function validateInput(input: VerifyInput<unknown>): void {
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

function parseCredential(
  credential: string,
  ctx: Context,
  bad: (detail: string, extra?: Record<string, string>) => SigV4Error,
): { accessKeyId: string; day: string; scope: string } {
  const parts = credential.split('/');
  const [accessKeyId = '', day = '', region = '', service = '', terminal = ''] = parts;
  if (parts.length !== 5 || accessKeyId === '' || credential.length > MAX_CREDENTIAL)
    throw bad('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  if (!isAmzDay(day))
    throw bad(
      `incorrect date format "${day}". This date in the credential must be in the format "yyyyMMdd".`,
    );
  if (region !== ctx.input.region)
    throw bad(`the region '${region}' is wrong; expecting '${ctx.input.region}'`, {
      Region: ctx.input.region,
    });
  if (service !== ctx.input.service)
    throw bad(`incorrect service "${service}". This endpoint belongs to "${ctx.input.service}".`);
  if (terminal !== 'aws4_request')
    throw bad(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return { accessKeyId, day, scope: credentialScope(day, region, service) };
}

function parseSignedHeaders(list: string, bad: (detail: string) => SigV4Error): string[] {
  const names = list.split(';');
  if (names.length > MAX_SIGNED_HEADERS) throw bad(`at most ${MAX_SIGNED_HEADERS} headers may be signed.`);
  if (names.some((name) => !TOKEN.test(name)) || new Set(names).size !== names.length)
    throw bad('the SignedHeaders list must be semicolon-separated, non-empty, unique header names.');
  return names;
}

/** x-amz-content-sha256 when present: validated, else undefined. */
function contentSha256(ctx: Context): string | undefined {
  const value = ctx.headers.get('x-amz-content-sha256');
  if (value !== undefined && !isPayloadHash(value)) {
    throw invalidArgument(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value.slice(0, 256) },
    );
  }
  return value;
}

function fromHeader(authorization: string, ctx: Context): Claim {
  if (authorization.length > MAX_AUTH_HEADER)
    throw headerMalformed(`the header must not exceed ${MAX_AUTH_HEADER} bytes.`);
  const space = authorization.indexOf(' ');
  if ((space < 0 ? authorization : authorization.slice(0, space)) !== ALGORITHM)
    throw headerMalformed(
      `the authorization mechanism you have provided is not supported. Please use ${ALGORITHM}.`,
    );
  const fields = new Map<string, string>();
  for (const raw of authorization.slice(space + 1).split(',')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq <= 0 || fields.has(key) || !['Credential', 'SignedHeaders', 'Signature'].includes(key))
      throw headerMalformed(`the authorization component "${key.slice(0, 64)}" is malformed.`);
    fields.set(key, part.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedList = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedList === undefined || signature === undefined)
    throw headerMalformed(
      'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  const { accessKeyId, day, scope } = parseCredential(credential, ctx, headerMalformed);
  const signedHeaders = parseSignedHeaders(signedList, headerMalformed);

  const amzDate = ctx.headers.get('x-amz-date');
  const httpDate = ctx.headers.get('date');
  let time: number | undefined;
  if (amzDate !== undefined) time = parseAmzDate(amzDate);
  else if (httpDate !== undefined) time = parseHttpDate(httpDate);
  if (time === undefined || !Number.isFinite(time))
    throw accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  const datetime = formatAmzDate(time);
  if (day !== datetime.slice(0, 8))
    throw headerMalformed(
      `Invalid credential date "${day}". This date is not the same as X-Amz-Date: "${datetime.slice(0, 8)}".`,
    );
  if (Math.abs(ctx.input.now - time) > MAX_SKEW_MS) {
    throw new SigV4Error(
      'RequestTimeTooSkewed',
      403,
      'The difference between the request time and the current time is too large.',
      {
        RequestTime: (amzDate ?? httpDate ?? '').slice(0, 64),
        ServerTime: isoSeconds(ctx.input.now),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      },
    );
  }
  const content = contentSha256(ctx);
  if (content === undefined && ctx.input.service === 's3')
    throw new SigV4Error(
      'InvalidRequest',
      400,
      'Missing required header for this request: x-amz-content-sha256',
    );
  return {
    presigned: false,
    accessKeyId,
    scope,
    datetime,
    signedHeaders,
    signature,
    sessionToken: ctx.headers.get('x-amz-security-token'),
    canonicalPayload: content ?? ctx.input.bodySha256 ?? EMPTY_SHA256,
  };
}

function fromQuery(ctx: Context): Claim {
  const param = (name: string): string => {
    const values = ctx.query.get(name);
    if (values === undefined) throw queryMalformed(QUERY_REQUIRED);
    if (values.length > 1) throw queryMalformed(`The ${name} parameter must be specified only once.`);
    return values[0] as string;
  };
  const algorithm = param('X-Amz-Algorithm');
  const credential = param('X-Amz-Credential');
  const signature = param('X-Amz-Signature');
  const amzDate = param('X-Amz-Date');
  const signedList = param('X-Amz-SignedHeaders');
  const expiresText = param('X-Amz-Expires');
  const token = ctx.query.has('X-Amz-Security-Token') ? param('X-Amz-Security-Token') : undefined;
  if (algorithm !== ALGORITHM) throw queryMalformed(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const { accessKeyId, day, scope } = parseCredential(credential, ctx, (detail, extra) =>
    queryMalformed(`Error parsing the X-Amz-Credential parameter; ${detail}`, extra),
  );
  const time = parseAmzDate(amzDate);
  if (time === undefined)
    throw queryMalformed(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (!/^-?\d+$/.test(expiresText)) throw queryMalformed('X-Amz-Expires should be a number');
  if (expiresText.startsWith('-')) throw queryMalformed('X-Amz-Expires must be non-negative');
  const expires = Number(expiresText);
  if (expires > MAX_EXPIRES)
    throw queryMalformed(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_EXPIRES}`);
  const signedHeaders = parseSignedHeaders(signedList, (detail) =>
    queryMalformed(`Error parsing the X-Amz-SignedHeaders parameter; ${detail}`),
  );
  if (day !== amzDate.slice(0, 8))
    throw queryMalformed(
      `Error parsing the X-Amz-Credential parameter; Invalid credential date "${day}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  const now = ctx.input.now;
  if (time - now > MAX_SKEW_MS)
    throw accessDenied('Request is not valid yet', { ServerTime: isoSeconds(now) });
  if (now > time + expires * 1000) {
    throw accessDenied('Request has expired', {
      'X-Amz-Expires': expiresText,
      Expires: isoSeconds(time + expires * 1000),
      ServerTime: isoSeconds(now),
    });
  }
  // A presigned URL signs the payload only through a signed x-amz-content-sha256 header.
  const content = signedHeaders.includes('x-amz-content-sha256') ? contentSha256(ctx) : undefined;
  const fallback = ctx.input.service === 's3' ? 'UNSIGNED-PAYLOAD' : (ctx.input.bodySha256 ?? EMPTY_SHA256);
  return {
    presigned: true,
    accessKeyId,
    scope,
    datetime: amzDate,
    signedHeaders,
    signature,
    sessionToken: token,
    canonicalPayload: content ?? fallback,
  };
}

function requireSigned(headers: Map<string, string>, signedHeaders: readonly string[], service: string): void {
  const signed = new Set(signedHeaders.map((name) => name.toLowerCase()));
  const notSigned = signed.has('host') ? [] : ['host'];
  for (const name of headers.keys()) {
    // AWS's suite (post-sts-header-after): outside S3 the session token may be added after
    // signing. It still only opens the session issued with the signing key (checked by lookup).
    if (name === 'x-amz-security-token' && service !== 's3') continue;
    if (name.startsWith('x-amz-') && !signed.has(name)) notSigned.push(name);
  }
  if (notSigned.length > 0)
    throw accessDenied('There were headers present in the request which were not signed', {
      HeadersNotSigned: notSigned.join(', '),
    });
}

/** Constant-time for equal lengths: ORs every code unit difference, no early exit. */
function equalHex(provided: string, expected: string): boolean {
  const same = provided.length === expected.length;
  const a = same ? provided : expected;
  let diff = same ? 0 : 1;
  for (let i = 0; i < expected.length; i++) diff |= a.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

/** Verifies a request's SigV4 signature (header or presigned form); throws SigV4Error. */
export async function verifyRequest<I>(input: VerifyInput<I>): Promise<VerifiedRequest<I>> {
  validateInput(input);
  const ctx: Context = { input, headers: headerMap(input.rawHeaders), query: queryParams(input.rawQuery) };
  const authorization = ctx.headers.get('authorization');
  const queryAuth = ctx.query.has('X-Amz-Signature') || ctx.query.has('X-Amz-Credential');
  if (authorization === undefined && !queryAuth) throw accessDenied('Access Denied');
  if (authorization !== undefined && queryAuth) {
    throw invalidArgument(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization' },
    );
  }
  const claim = authorization !== undefined ? fromHeader(authorization, ctx) : fromQuery(ctx);
  requireSigned(ctx.headers, claim.signedHeaders, input.service);

  const { secretAccessKey, identity } = await input.lookup(claim.accessKeyId, claim.sessionToken);
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '')
    throw new TypeError('verifyRequest: lookup returned no secretAccessKey');
  const [day = '', region = '', service = ''] = claim.scope.split('/');
  const signingKey = await deriveSigningKey(input.crypto, secretAccessKey, day, region, service);
  const canonical = canonicalRequest({
    method: input.method,
    canonicalUri: canonicalUri(input.rawPath, { s3Mode: input.s3Mode ?? input.service === 's3' }),
    canonicalQuery: canonicalQueryString(input.rawQuery, claim.presigned ? 'X-Amz-Signature' : undefined),
    canonicalHeaders: canonicalHeaders(ctx.headers, claim.signedHeaders),
    signedHeaders: claim.signedHeaders.join(';'),
    payloadHash: claim.canonicalPayload,
  });
  const toSign = stringToSign(claim.datetime, claim.scope, await input.crypto.sha256Hex(canonical));
  const expected = toHex(await input.crypto.hmac(signingKey, toSign));
  if (!equalHex(claim.signature, expected)) {
    throw new SigV4Error('SignatureDoesNotMatch', 403, SIGNATURE_MISMATCH_MESSAGE, {
      AWSAccessKeyId: claim.accessKeyId,
      StringToSign: toSign,
      CanonicalRequest: canonical,
    });
  }
  const payload = claim.canonicalPayload;
  return {
    identity,
    accessKeyId: claim.accessKeyId,
    presigned: claim.presigned,
    payloadHash: isSha256Hex(payload) ? payload.toLowerCase() : payload,
    signature: claim.signature,
    signingKey,
    datetime: claim.datetime,
    scope: claim.scope,
    signedHeaders: claim.signedHeaders,
  };
}
