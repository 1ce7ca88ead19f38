/** STS (and IAM) Query-protocol errors: code, status and the `<ErrorResponse>` document. */
import { renderXml } from '@hoist/aws/s3';
import { ProtocolError } from '../errors.ts';

export const STS_ERRORS = {
  AccessDenied: 403,
  ExpiredToken: 400,
  IncompleteSignature: 400,
  InvalidAction: 400,
  InvalidClientTokenId: 403,
  InvalidParameterValue: 400,
  MalformedPolicyDocument: 400,
  MissingAuthenticationToken: 403,
  PackedPolicyTooLarge: 400,
  RegionDisabledException: 403,
  SignatureDoesNotMatch: 403,
  ValidationError: 400,
  InternalFailure: 500,
} as const;

export type StsErrorCode = keyof typeof STS_ERRORS;

export class StsError extends ProtocolError {
  constructor(code: StsErrorCode | (string & {}), message: string, status?: number) {
    super(code, message, status ?? (STS_ERRORS as Record<string, number>)[code] ?? 400);
  }
}

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function renderQueryError(
  xmlns: string,
  code: string,
  message: string,
  requestId: string,
  status: number,
): string {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return renderXml(
    'ErrorResponse',
    { Error: { Type: type, Code: code, Message: message || code }, RequestId: requestId },
    { xmlns },
  );
}

/** Authentication failures come out of the S3-flavoured verifier; STS and IAM name them differently. */
export function queryAuthError(code: string, message: string): StsError {
  switch (code) {
    case 'InvalidAccessKeyId':
    case 'InvalidToken':
      return new StsError('InvalidClientTokenId', 'The security token included in the request is invalid.');
    case 'ExpiredToken':
      return new StsError('ExpiredToken', 'The security token included in the request is expired');
    case 'SignatureDoesNotMatch':
      return new StsError('SignatureDoesNotMatch', message);
    case 'RequestTimeTooSkewed':
      return new StsError(
        'SignatureDoesNotMatch',
        'Signature expired: the request time is too far from the server time.',
        403,
      );
    case 'AccessDenied':
      return new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
    case 'AuthorizationHeaderMalformed':
    case 'AuthorizationQueryParametersError':
      return new StsError('IncompleteSignature', message);
    default:
      return new StsError(code, message);
  }
}
