/**
 * What a request claims before its secret is known, read from the Authorization header or the
 * presigned query (X-Amz-*): key id, scope, time, signed headers, signature and the payload
 * hash to sign, each checked with AWS S3's rules, codes and messages.
 */
import {
  ALGORITHM,
  credentialScope,
  EMPTY_SHA256,
  formatAmzDate,
  isAmzDay,
  parseAmzDate,
} from './canonical.ts';
import { accessDenied, headerMalformed, queryMalformed, SigV4Error } from './errors.ts';
import { parseHttpDate } from './http-date.ts';
import { isPayloadHash } from './payload-hash.ts';
import type { VerifyContext } from './verify-input.ts';

const MAX_AUTH_HEADER = 8192;
const MAX_CREDENTIAL = 1024;
const MAX_EXPIRES = 604800;
const MAX_SKEW_MS = 15 * 60 * 1000;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const QUERY_REQUIRED =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';

/** What the header or query form yields before the secret is known. */
export interface Claim {
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

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function invalidArgument(message: string, extra: Record<string, string>): SigV4Error {
  return new SigV4Error('InvalidArgument', 400, message, extra);
}

function parseCredential(
  credential: string,
  ctx: VerifyContext,
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
  // No count cap (AWS has none): the list is bounded by the header section or query size.
  const names = list.split(';');
  if (names.some((name) => !TOKEN.test(name)) || new Set(names).size !== names.length)
    throw bad('the SignedHeaders list must be semicolon-separated, non-empty, unique header names.');
  return names;
}

/** x-amz-content-sha256 when present: validated, else undefined. */
function contentSha256(ctx: VerifyContext): string | undefined {
  const value = ctx.headers.get('x-amz-content-sha256');
  if (value !== undefined && !isPayloadHash(value)) {
    throw invalidArgument(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value.slice(0, 256) },
    );
  }
  return value;
}

export function fromHeader(authorization: string, ctx: VerifyContext): Claim {
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

export function fromQuery(ctx: VerifyContext): Claim {
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
