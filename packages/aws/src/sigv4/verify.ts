/**
 * Server-side SigV4 verification with AWS S3's rules, error codes and messages: the claim
 * (verify-claim.ts) from the header or presigned form, every x-amz-* header signed, the
 * secret looked up, the signature recomputed and compared in constant time.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 */
import {
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  stringToSign,
} from './canonical.ts';
import { toHex } from './crypto.ts';
import { accessDenied, SIGNATURE_MISMATCH_MESSAGE, SigV4Error } from './errors.ts';
import { isSha256Hex } from './payload-hash.ts';
import { deriveSigningKey } from './signing-key.ts';
import { fromHeader, fromQuery, invalidArgument } from './verify-claim.ts';
import { parseRequest, type VerifiedRequest, type VerifyInput, validateInput } from './verify-input.ts';

export { SigV4Error } from './errors.ts';
export { parseHttpDate } from './http-date.ts';
export type { VerifiedRequest, VerifyInput } from './verify-input.ts';

function requireSigned(
  headers: Map<string, string>,
  signedHeaders: readonly string[],
  service: string,
): void {
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
  const ctx = parseRequest(input);
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
