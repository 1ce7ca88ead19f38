export {
  ALGORITHM,
  type CanonicalRequestParts,
  type CanonicalUriOptions,
  canonicalHeaders,
  canonicalHeaderValue,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  collectHeaders,
  credentialScope,
  EMPTY_SHA256,
  formatAmzDate,
  normalizePath,
  parseAmzDate,
  percentDecode,
  stringToSign,
  uriEncode,
} from './canonical.ts';
export { fromHex, type SigV4Crypto, toHex, utf8Bytes, webSigV4Crypto } from './crypto.ts';
export { SIGNATURE_MISMATCH_MESSAGE, SigV4Error } from './errors.ts';
export { isPayloadHash, isSha256Hex, PAYLOAD_LITERALS, type PayloadLiteral } from './payload-hash.ts';
export {
  type PostPolicyCondition,
  type PostPolicyOptions,
  type SignedPostPolicy,
  signPostPolicy,
} from './post-policy.ts';
export {
  type HeaderInput,
  type PresignUrlOptions,
  presignUrl,
  presignUrlDetailed,
  type SignatureDetails,
  type SignOptions,
  type SignRequestOptions,
  type SigV4Credentials,
  signRequest,
  signRequestDetailed,
} from './sign.ts';
export { type Prepared as PreparedSigningRequest, signHeaders } from './sign-core.ts';
export { clearSigningKeyCache, deriveSigningKey } from './signing-key.ts';
export { type VerifiedRequest, type VerifyInput, verifyRequest } from './verify.ts';
