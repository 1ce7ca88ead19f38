/**
 * The bucket CORS rule browsers need to upload straight to S3: the origins of the web app
 * (never `*` unless forced), the methods of the multipart REST API, and the response headers
 * the engine must read (ETag for completion, the checksums to verify parts).
 */
import { CHECKSUM_ALGORITHMS, checksumHeaderName } from '@hoist/protocol';

/** The ID of Hoist's rule: setup replaces this rule and leaves the bucket's others alone. */
export const CORS_RULE_ID = 'hoist-uploads';

/** Headers browsers must be able to read from S3's answers (Date: the engine corrects clock skew from it). */
export const EXPOSED_HEADERS: readonly string[] = [
  'Date',
  'ETag',
  ...CHECKSUM_ALGORITHMS.map((algorithm) => checksumHeaderName(algorithm)),
  'x-amz-checksum-type',
  'x-amz-request-id',
];

/** The AWS CLI / SDK shape (`aws s3api put-bucket-cors --cors-configuration`). */
export interface CorsRuleShape {
  ID: string;
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders: string[];
  ExposeHeaders: string[];
  MaxAgeSeconds: number;
}

export interface CorsOptions {
  origins: readonly string[];
  /** Required for `*`. */
  allowAnyOrigin?: boolean;
  /** How long browsers cache a preflight. @default 3000 */
  maxAgeSeconds?: number;
}

/** Normalises one origin (`https://app.example.com`); TypeError naming `--origin` otherwise. */
export function normaliseOrigin(value: string, allowAnyOrigin: boolean): string {
  if (value === '*') {
    if (!allowAnyOrigin)
      throw new TypeError(
        '--origin "*" lets any web site use the bucket from browsers; add --allow-any-origin',
      );
    return value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`--origin must be an origin such as https://app.example.com, got "${value}"`);
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.origin !== value.replace(/\/$/, '').toLowerCase()
  )
    throw new TypeError(`--origin must be scheme://host[:port] with no path, got "${value}"`);
  return url.origin;
}

export function corsRule(options: CorsOptions): CorsRuleShape {
  if (options.origins.length === 0)
    throw new TypeError('--origin is required (the web app origin, repeatable)');
  const origins = [
    ...new Set(options.origins.map((o) => normaliseOrigin(o, options.allowAnyOrigin ?? false))),
  ];
  return {
    ID: CORS_RULE_ID,
    AllowedOrigins: origins,
    // Multipart's REST verbs: Create/Complete (POST), UploadPart and PutObject (PUT),
    // ListParts (GET), Abort (DELETE), and HEAD for checks.
    AllowedMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
    // The signed headers vary (x-amz-*, content-*, checksums); SigV4 is the gate, not CORS.
    AllowedHeaders: ['*'],
    ExposeHeaders: [...EXPOSED_HEADERS],
    MaxAgeSeconds: options.maxAgeSeconds ?? 3000,
  };
}

export function corsConfiguration(options: CorsOptions): { CORSRules: CorsRuleShape[] } {
  return { CORSRules: [corsRule(options)] };
}
