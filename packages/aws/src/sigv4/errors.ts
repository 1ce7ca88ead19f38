/**
 * A SigV4 authentication failure, carrying the S3 error `code`, the HTTP `status` and the
 * extra XML fields AWS returns next to `<Code>` and `<Message>` (e.g. `HeadersNotSigned`).
 * Messages never contain a secret or the signature the server expected.
 */
export class SigV4Error extends Error {
  override readonly name = 'SigV4Error';
  readonly code: string;
  readonly status: number;
  readonly extra?: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    extra?: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.status = status;
    if (extra) this.extra = extra;
  }
}

export function accessDenied(message: string, extra?: Record<string, string>): SigV4Error {
  return new SigV4Error('AccessDenied', 403, message, extra);
}

export function headerMalformed(detail: string, extra?: Record<string, string>): SigV4Error {
  return new SigV4Error(
    'AuthorizationHeaderMalformed',
    400,
    `The authorization header is malformed; ${detail}`,
    extra,
  );
}

export function queryMalformed(message: string, extra?: Record<string, string>): SigV4Error {
  return new SigV4Error('AuthorizationQueryParametersError', 400, message, extra);
}

export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
