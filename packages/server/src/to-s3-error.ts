/**
 * The one mapping from a thrown error to S3's answer, by class (no duck typing). S3 and
 * SigV4 errors are answers already; the server's own errors (errors.ts) that S3 clients see
 * are mapped here; anything else is an internal error.
 */
import { S3Error } from '@hoist/aws/s3';
import { SigV4Error } from '@hoist/aws/sigv4';
import { TokenError } from './session-token.ts';
import { StorageError } from './storage/types.ts';

/** What an S3 error document is rendered from: S3Error, or SigV4Error (whose codes include aws-chunked ones). */
export type S3WireError = S3Error | SigV4Error;

/**
 * S3's answer to `error`: S3 and SigV4 errors as they are, storage failures by their code
 * (S3 codes: NoSuchUpload, InvalidPart, …), an unreadable session token as InvalidToken.
 * Anything else is not an S3 answer (undefined): the caller treats it as an internal error.
 */
export function toS3Error(error: unknown): S3WireError | undefined {
  if (error instanceof S3Error || error instanceof SigV4Error) return error;
  if (error instanceof StorageError) return new S3Error(error.code, error.message);
  if (error instanceof TokenError) return new S3Error('InvalidToken', error.message);
  return undefined;
}
