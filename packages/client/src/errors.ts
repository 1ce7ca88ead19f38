/**
 * The engine's one error type: a stable `code` to switch on, whether retrying can help, and
 * the HTTP status / broker problem / S3 error code when there was one.
 */
export const UPLOAD_ERROR_CODES = [
  /** The options or the source are not valid (nothing was sent). */
  'invalid-options',
  /** The network failed (connection refused, reset, DNS) and retries ran out. */
  'network',
  /** A request made no progress for `stallTimeoutMs` and retries ran out. */
  'stalled',
  /** The broker refused the token: sign in again. */
  'unauthorized',
  /** The broker or S3 refused the request (AccessDenied, forbidden). */
  'access-denied',
  /** The broker says the file is over its size limit. */
  'too-large',
  /** The broker does not accept this content type. */
  'unsupported-type',
  /** Per-user quota or rate limit; `retryAfterSeconds` says when to try again. */
  'quota-exceeded',
  /** The broker completed nothing: the object did not match what was declared. */
  'upload-rejected',
  /** The upload is gone on the broker (aborted, expired, or another user's). */
  'upload-gone',
  /** A response's ETag could not be read: the bucket's CORS rules must expose ETag. */
  'etag-not-exposed',
  /** The stored object's checksum is not the file's. */
  'checksum-mismatch',
  /** The file to resume is not the file that was being uploaded. */
  'resume-mismatch',
  /** Reading the file failed (removed, permissions, changed while uploading). */
  'read-failed',
  /** S3 answered with an error that retrying cannot fix. */
  's3-error',
  /** The broker answered with an error that retrying cannot fix. */
  'broker-error',
  /** `abort()` was called or the caller's signal fired. */
  'aborted',
] as const;

export type UploadErrorCode = (typeof UPLOAD_ERROR_CODES)[number];

export interface UploadErrorDetails {
  /** Retrying the same request later may succeed. */
  retryable?: boolean;
  status?: number;
  /** S3's error code (`SlowDown`, `ExpiredToken`, …) or the broker's problem code. */
  upstreamCode?: string;
  retryAfterSeconds?: number;
  partNumber?: number;
  cause?: unknown;
}

export class UploadError extends Error {
  override readonly name = 'UploadError';
  readonly code: UploadErrorCode;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly upstreamCode: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly partNumber: number | undefined;

  constructor(code: UploadErrorCode, message: string, details: UploadErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retryable = details.retryable ?? false;
    this.status = details.status;
    this.upstreamCode = details.upstreamCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.partNumber = details.partNumber;
  }
}

export function isUploadError(value: unknown): value is UploadError {
  return value instanceof UploadError;
}
