/**
 * The engine's S3 side: object URLs, SigV4-signed UploadPart/PutObject requests (WebCrypto,
 * no AWS SDK), and what an S3 answer means for the upload (done, retry, refresh, give up).
 */
import {
  formatAmzDate,
  type SigV4Credentials,
  signHeaders,
  uriEncode,
  webSigV4Crypto,
} from '@hoist/aws/sigv4';
import { UploadError } from './errors.ts';
import type { HttpResponse } from './types.ts';

export interface ObjectTarget {
  endpoint: string;
  bucket: string;
  key: string;
  region: string;
  forcePathStyle: boolean;
}

/** The object's URL, path-style or virtual-hosted as the broker said. */
export function objectUrl(target: ObjectTarget, query = ''): string {
  const endpoint = new URL(target.endpoint);
  const base = endpoint.pathname.replace(/\/+$/, '');
  const key = uriEncode(target.key, false);
  const origin = target.forcePathStyle
    ? `${endpoint.protocol}//${endpoint.host}${base}/${uriEncode(target.bucket, true)}`
    : `${endpoint.protocol}//${target.bucket}.${endpoint.host}${base}`;
  return `${origin}/${key}${query ? `?${query}` : ''}`;
}

export interface SignedPutOptions {
  url: string;
  region: string;
  credentials: SigV4Credentials;
  /** Headers to send and sign (checksum, the broker's putHeaders). */
  headers: Record<string, string>;
  /** Signing time, corrected for clock skew. */
  now: number;
}

/**
 * Headers for a PUT signed just now, with UNSIGNED-PAYLOAD: the checksum header guards the
 * bytes. The URL comes from `objectUrl` or the broker, so it goes straight to the signing
 * steps (the validating `signRequest` would add its checks to the browser bundle).
 */
export async function signedPutHeaders(options: SignedPutOptions): Promise<Record<string, string>> {
  const match = /^(https?):\/\/([^/?#]+)([^?#]*)(?:\?([^#]*))?$/i.exec(options.url);
  if (!match) throw new UploadError('invalid-options', `Not an http(s) URL: ${options.url}`);
  const [, scheme = '', authority = '', path = '', query = ''] = match;
  const host = authority.toLowerCase().replace(scheme.toLowerCase() === 'https' ? /:443$/ : /:80$/, '');
  const { headers } = await signHeaders(
    {
      crypto: webSigV4Crypto,
      method: 'PUT',
      origin: `${scheme}://${authority}`,
      host,
      rawPath: path || '/',
      rawQuery: query,
      headers: Object.entries(options.headers),
      service: 's3',
      region: options.region,
      credentials: options.credentials,
      amzDate: formatAmzDate(options.now),
      s3Mode: true,
      normalize: false,
    },
    'UNSIGNED-PAYLOAD',
    true,
  );
  return { ...options.headers, ...headers };
}

export interface S3ErrorInfo {
  code: string;
  message: string;
  /** From RequestTimeTooSkewed: the server's clock. */
  serverTime?: number;
}

function xmlField(text: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]{0,2048})</${name}>`).exec(text);
  return match?.[1];
}

/** S3's `<Error><Code>…` document, or a code made from the status when the body is not one. */
export function parseS3Error(response: HttpResponse): S3ErrorInfo {
  const code = xmlField(response.text, 'Code') ?? `Http${response.status}`;
  const message = xmlField(response.text, 'Message') ?? `HTTP ${response.status}`;
  const serverTime = Date.parse(xmlField(response.text, 'ServerTime') ?? '');
  return Number.isFinite(serverTime) ? { code, message, serverTime } : { code, message };
}

export type S3Verdict =
  /** Try again after a backoff (SlowDown also shrinks concurrency). */
  | { action: 'retry'; error: UploadError; slowDown: boolean; serverTime?: number }
  /** The credentials expired: refresh them, then retry at once. */
  | { action: 'refresh'; error: UploadError }
  | { action: 'fail'; error: UploadError };

const RETRYABLE_CODES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  // The bytes S3 received are not the bytes we hashed: corrupted on the way; send them again.
  'BadDigest',
  'XAmzContentChecksumMismatch',
  'IncompleteBody',
  'OperationAborted',
]);
const EXPIRED_CODES = new Set(['ExpiredToken', 'TokenRefreshRequired', 'InvalidToken']);

/** What a non-2xx S3 answer means for the engine. */
export function classifyS3Response(
  response: HttpResponse,
  operation: string,
  partNumber?: number,
): S3Verdict {
  const info = parseS3Error(response);
  const where = partNumber === undefined ? operation : `${operation} of part ${partNumber}`;
  const details = {
    status: response.status,
    upstreamCode: info.code,
    ...(partNumber === undefined ? {} : { partNumber }),
  };
  // A presigned URL that outlived its expiry while the part was being sent: ask for a new one.
  const expiredUrl = info.code === 'AccessDenied' && /expired/i.test(info.message);
  if (EXPIRED_CODES.has(info.code) || expiredUrl) {
    return {
      action: 'refresh',
      error: new UploadError('access-denied', `${where}: credentials expired (${info.code})`, {
        ...details,
        retryable: true,
      }),
    };
  }
  const slowDown = info.code === 'SlowDown' || response.status === 429 || response.status === 503;
  if (RETRYABLE_CODES.has(info.code) || response.status >= 500 || response.status === 429) {
    const error = new UploadError('s3-error', `${where} failed: ${info.code}: ${info.message}`, {
      ...details,
      retryable: true,
    });
    return info.serverTime === undefined
      ? { action: 'retry', error, slowDown }
      : { action: 'retry', error, slowDown, serverTime: info.serverTime };
  }
  if (info.code === 'NoSuchUpload')
    return {
      action: 'fail',
      error: new UploadError('upload-gone', `${where}: the multipart upload no longer exists`, details),
    };
  if (info.code === 'AccessDenied' || response.status === 403)
    return {
      action: 'fail',
      error: new UploadError('access-denied', `${where} was refused: ${info.code}: ${info.message}`, details),
    };
  return {
    action: 'fail',
    error: new UploadError('s3-error', `${where} failed: ${info.code}: ${info.message}`, details),
  };
}

/**
 * The ETag of a successful PUT. Browsers hide it unless the bucket's CORS rules expose it, and
 * an upload cannot complete without it: say so rather than hang or guess.
 */
export function requireEtag(response: HttpResponse, where: string): string {
  const etag = response.header('etag');
  if (!etag)
    throw new UploadError(
      'etag-not-exposed',
      `${where}: S3 accepted the bytes but its ETag header is not readable; the bucket's CORS configuration must expose ETag (ExposeHeaders: ["ETag"])`,
    );
  return etag;
}
