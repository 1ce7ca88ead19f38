/**
 * SigV4 POST policy signing (AWS "Browser-based uploads using POST"): a form whose fields S3
 * checks against a signed policy — base64 JSON of `expiration` and `conditions` — before it
 * stores anything. The signature is HMAC(signing key of the credential scope, base64 policy).
 * Pure: the clock and the crypto come in, so expiry is tested without waiting.
 */
import { ALGORITHM, credentialScope, formatAmzDate } from './canonical.ts';
import { type SigV4Crypto, toHex, utf8Bytes, webSigV4Crypto } from './crypto.ts';
import type { SigV4Credentials } from './sign-core.ts';
import { deriveSigningKey } from './signing-key.ts';

/** One policy condition, as S3 reads it. Field names are without the `$`. */
export type PostPolicyCondition =
  | { eq: string; value: string }
  | { startsWith: string; value: string }
  | { contentLengthRange: readonly [min: number, max: number] };

export interface PostPolicyOptions {
  bucket: string;
  /** The form fields sent as they are (`key`, `Content-Type`, …): each is pinned with `eq`. */
  fields: Readonly<Record<string, string>>;
  /** Further conditions, e.g. a content-length-range. */
  conditions?: readonly PostPolicyCondition[] | undefined;
  credentials: SigV4Credentials;
  region: string;
  /** Signing time (the injected clock): a Date or epoch ms. */
  now: Date | number;
  /** How long the form is accepted, seconds (1..7 days). */
  expiresIn: number;
  /** @default 's3' */
  service?: string | undefined;
  /** @default webSigV4Crypto */
  crypto?: SigV4Crypto | undefined;
}

export interface SignedPostPolicy {
  /** Every field the form carries before `file`: the given ones plus policy and signature fields. */
  fields: Record<string, string>;
  /** The policy document as signed (for logs and tests; the form carries it base64). */
  policy: { expiration: string; conditions: unknown[] };
  /** ISO 8601: the policy's expiration. */
  expiresAt: string;
}

const MAX_EXPIRES = 7 * 24 * 3600;
/** Names S3 sets itself: a caller passing one would get a form S3 refuses. */
const RESERVED = ['policy', 'x-amz-signature', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'file'];

function conditionJson(condition: PostPolicyCondition): unknown {
  if ('contentLengthRange' in condition) {
    const [min, max] = condition.contentLengthRange;
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || min > max)
      throw new TypeError('contentLengthRange must be [min, max] whole numbers with 0 <= min <= max');
    return ['content-length-range', min, max];
  }
  if ('eq' in condition) return ['eq', `$${condition.eq}`, condition.value];
  return ['starts-with', `$${condition.startsWith}`, condition.value];
}

/** Base64 of the UTF-8 bytes (btoa alone takes Latin-1 only). */
function base64(text: string): string {
  let binary = '';
  for (const byte of utf8Bytes(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function check(options: PostPolicyOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.bucket !== 'string' || options.bucket === '')
    throw new TypeError('bucket must be a non-empty string');
  if (typeof options.region !== 'string' || options.region === '')
    throw new TypeError('region must be a non-empty string');
  const { accessKeyId, secretAccessKey } = options.credentials ?? {};
  if (
    typeof accessKeyId !== 'string' ||
    !accessKeyId ||
    typeof secretAccessKey !== 'string' ||
    !secretAccessKey
  )
    throw new TypeError('credentials must have an accessKeyId and a secretAccessKey');
  if (!Number.isInteger(options.expiresIn) || options.expiresIn < 1 || options.expiresIn > MAX_EXPIRES)
    throw new TypeError(`expiresIn must be whole seconds, 1..${MAX_EXPIRES}`);
  if (Number.isNaN(new Date(options.now).getTime())) throw new TypeError('now must be a Date or epoch ms');
  for (const name of Object.keys(options.fields ?? {}))
    if (RESERVED.includes(name.toLowerCase()) || name.toLowerCase() === 'x-amz-security-token')
      throw new TypeError(`fields: "${name}" is set by the signer`);
}

/**
 * Signs a POST policy that pins the bucket and every given field (`eq`), plus `conditions`, and
 * returns the fields a browser form sends before the file. Temporary credentials add (and pin)
 * `x-amz-security-token`.
 */
export async function signPostPolicy(options: PostPolicyOptions): Promise<SignedPostPolicy> {
  check(options);
  const crypto = options.crypto ?? webSigV4Crypto;
  const service = options.service ?? 's3';
  const now = new Date(options.now).getTime();
  const amzDate = formatAmzDate(now);
  const day = amzDate.slice(0, 8);
  const { credentials } = options;
  const signer: Record<string, string> = {
    'x-amz-algorithm': ALGORITHM,
    'x-amz-credential': `${credentials.accessKeyId}/${credentialScope(day, options.region, service)}`,
    'x-amz-date': amzDate,
  };
  if (credentials.sessionToken) signer['x-amz-security-token'] = credentials.sessionToken;
  const fields = { ...options.fields, ...signer };
  const expiration = new Date(now + options.expiresIn * 1000).toISOString();
  const policy = {
    expiration,
    conditions: [
      { bucket: options.bucket },
      ...Object.entries(fields).map(([name, value]) => conditionJson({ eq: name, value })),
      ...(options.conditions ?? []).map(conditionJson),
    ],
  };
  const encoded = base64(JSON.stringify(policy));
  const key = await deriveSigningKey(crypto, credentials.secretAccessKey, day, options.region, service);
  const signature = toHex(await crypto.hmac(key, encoded));
  return {
    fields: { ...fields, policy: encoded, 'x-amz-signature': signature },
    policy,
    expiresAt: expiration,
  };
}
