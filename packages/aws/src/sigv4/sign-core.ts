/**
 * The SigV4 signing steps after validation: canonical request, string to sign, signature and
 * the Authorization header. `sign.ts` validates options and calls these; the browser engine,
 * whose inputs are already checked, calls them directly so its bundle skips the validation.
 */
import {
  ALGORITHM,
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  stringToSign,
} from './canonical.ts';
import { type SigV4Crypto, toHex } from './crypto.ts';
import { deriveSigningKey } from './signing-key.ts';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** The intermediate steps, for debugging signature mismatches. */
export interface SignatureDetails {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

export const UNSIGNABLE = new Set([
  'authorization',
  'connection',
  'expect',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);
/** A request as the signer needs it: validated, split and with its signing time. */
export interface Prepared {
  crypto: SigV4Crypto;
  method: string;
  origin: string; // scheme://authority as given
  host: string;
  rawPath: string;
  rawQuery: string;
  headers: [string, string][];
  service: string;
  region: string;
  credentials: SigV4Credentials;
  amzDate: string;
  s3Mode: boolean;
  normalize: boolean;
}

/** Pairs to sign: caller's headers minus unsignable/overridden ones, plus host and `extra`. */
export function signingHeaders(
  p: Prepared,
  extra: [string, string][],
): { pairs: [string, string][]; names: string[] } {
  const overridden = new Set(extra.map(([name]) => name));
  const pairs = p.headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !UNSIGNABLE.has(lower) && !overridden.has(lower);
  });
  if (!pairs.some(([name]) => name.toLowerCase() === 'host')) pairs.push(['host', p.host]);
  pairs.push(...extra);
  const names = [...new Set(pairs.map(([name]) => name.trim().toLowerCase()))].sort();
  return { pairs, names };
}

export async function sign(p: Prepared, canonical: string): Promise<SignatureDetails> {
  const day = p.amzDate.slice(0, 8);
  const scope = credentialScope(day, p.region, p.service);
  const toSign = stringToSign(p.amzDate, scope, await p.crypto.sha256Hex(canonical));
  const key = await deriveSigningKey(p.crypto, p.credentials.secretAccessKey, day, p.region, p.service);
  return {
    canonicalRequest: canonical,
    stringToSign: toSign,
    signature: toHex(await p.crypto.hmac(key, toSign)),
  };
}

/**
 * Headers for the Authorization-header form: `x-amz-date`, `x-amz-content-sha256` (when asked),
 * `x-amz-security-token` (with a session token) and `authorization`, with the intermediate steps.
 */
export async function signHeaders(
  p: Prepared,
  payloadHash: string,
  contentSha256Header: boolean,
): Promise<SignatureDetails & { headers: Record<string, string> }> {
  const added: Record<string, string> = { 'x-amz-date': p.amzDate };
  if (contentSha256Header) added['x-amz-content-sha256'] = payloadHash;
  if (p.credentials.sessionToken !== undefined) added['x-amz-security-token'] = p.credentials.sessionToken;
  const { pairs, names } = signingHeaders(p, Object.entries(added));
  const signedHeaders = names.join(';');
  const details = await sign(
    p,
    canonicalRequest({
      method: p.method,
      canonicalUri: canonicalUri(p.rawPath, { s3Mode: p.s3Mode, normalize: p.normalize }),
      canonicalQuery: canonicalQueryString(p.rawQuery),
      canonicalHeaders: canonicalHeaders(pairs, names),
      signedHeaders,
      payloadHash,
    }),
  );
  const scope = credentialScope(p.amzDate.slice(0, 8), p.region, p.service);
  const headers = {
    ...added,
    authorization: `${ALGORITHM} Credential=${p.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${details.signature}`,
  };
  return { ...details, headers };
}
