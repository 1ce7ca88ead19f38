/**
 * The config's sections with their fields' metadata (variable, meaning, default as shown):
 * S3 and STS, the store's capabilities and timeouts, limits, and authentication.
 */
import { DEFAULT_PART_SIZE, DEFAULT_SINGLE_REQUEST_MAX_SIZE, S3_LIMITS, TiB } from '@hoist/protocol';
import { z } from 'zod';
import { DEFAULT_STORE_TIMEOUTS } from '../store-timeouts.ts';
import { field } from './field.ts';
import {
  capability,
  endpoint,
  httpUrl,
  int,
  isLoopback,
  jwsAlgorithm,
  mediaRange,
  partSize,
  size,
  userId,
} from './values.ts';

export const s3Section = z.strictObject({
  endpoint: field(endpoint().exactOptional(), {
    env: 'HOIST_S3_ENDPOINT',
    default: '(AWS)',
    doc: 'S3 endpoint URL the broker calls; unset means AWS',
  }),
  publicEndpoint: field(endpoint().exactOptional(), {
    env: 'HOIST_S3_PUBLIC_ENDPOINT',
    default: 's3.endpoint',
    doc: 'S3 endpoint URL given to clients, when they reach S3 by another address than the broker',
  }),
  region: field(
    z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, 'must be a region name such as us-east-1')
      .default('us-east-1'),
    { env: 'HOIST_S3_REGION', doc: 'Region of the bucket (and of STS)' },
  ),
  bucket: field(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be an S3 bucket name (3..63 lowercase letters, digits, dots and hyphens)',
      ),
    { env: 'HOIST_S3_BUCKET', default: '(required)', doc: 'Bucket the uploads go to' },
  ),
  forcePathStyle: field(z.boolean().exactOptional(), {
    env: 'HOIST_S3_FORCE_PATH_STYLE',
    kind: 'boolean',
    default: 'true if s3.endpoint is set',
    doc: 'Path-style addressing (endpoint/bucket/key) for the broker and its clients',
  }),
  credentials: z
    .strictObject({
      accessKeyId: field(z.string().min(1), {
        env: 'HOIST_S3_ACCESS_KEY_ID',
        default: '(SDK default chain)',
        doc: "Access key of the broker's own S3/STS calls",
      }),
      secretAccessKey: field(z.string().min(1), {
        env: 'HOIST_S3_SECRET_ACCESS_KEY',
        doc: 'Its secret key',
        secret: true,
      }),
      sessionToken: field(z.string().min(1).exactOptional(), {
        env: 'HOIST_S3_SESSION_TOKEN',
        doc: 'Its session token, if temporary',
        secret: true,
      }),
    })
    .exactOptional(),
});

export const stsSection = z
  .strictObject({
    endpoint: field(endpoint().exactOptional(), {
      env: 'HOIST_STS_ENDPOINT',
      default: 's3.endpoint, else AWS',
      doc: 'STS endpoint URL',
    }),
    roleArn: field(z.string().startsWith('arn:', 'must be a role ARN (arn:…)').max(2048).exactOptional(), {
      env: 'HOIST_STS_ROLE_ARN',
      default: '(required in sts mode)',
      doc: 'Role assumed for each upload',
    }),
    durationSeconds: field(int(900, 43_200).default(900), {
      env: 'HOIST_STS_DURATION_SECONDS',
      kind: 'number',
      doc: 'Lifetime of AssumeRole credentials (900..43200 s)',
    }),
    externalId: field(z.string().min(2).max(1224).exactOptional(), {
      env: 'HOIST_STS_EXTERNAL_ID',
      doc: "ExternalId, if the role's trust policy requires it",
    }),
  })
  .prefault({});

const pin = (env: string, doc: string) => field(capability(), { env, kind: 'boolean', doc });

/** What the store can do: probed at start unless pinned (see capabilities.ts). */
export const storeSection = z
  .strictObject({
    flexibleChecksums: pin(
      'HOIST_STORE_FLEXIBLE_CHECKSUMS',
      'Store verifies and keeps x-amz-checksum-* (true, false or auto: probed at start); without them parts carry Content-MD5',
    ),
    ifNoneMatchOnPut: pin(
      'HOIST_STORE_IF_NONE_MATCH_ON_PUT',
      'Store honours If-None-Match: * on PutObject (true, false or auto)',
    ),
    ifNoneMatchOnComplete: pin(
      'HOIST_STORE_IF_NONE_MATCH_ON_COMPLETE',
      'Store honours If-None-Match: * on CompleteMultipartUpload (true, false or auto); without it the broker checks the key is free first',
    ),
    conditionalWriteKeys: pin(
      'HOIST_STORE_CONDITIONAL_WRITE_KEYS',
      'Store enforces the policy keys s3:if-none-match and s3:ObjectCreationOperation (true, false or auto); sts and federation modes need them',
    ),
    federationToken: pin(
      'HOIST_STORE_FEDERATION_TOKEN',
      'STS offers GetFederationToken (true, false or auto); federation mode needs it',
    ),
    acceptOverwriteRisk: field(z.boolean().default(false), {
      env: 'HOIST_STORE_ACCEPT_OVERWRITE_RISK',
      kind: 'boolean',
      doc: 'Start sts/federation mode on a store that cannot stop upload credentials overwriting a finished object (warned at every start)',
    }),
    probeTimeoutSeconds: field(int(1, 60).default(10), {
      env: 'HOIST_STORE_PROBE_TIMEOUT_SECONDS',
      kind: 'number',
      doc: 'Bound on each request of the start-up capability probe (1..60 s)',
    }),
  })
  .prefault({});

export const upstreamSection = z
  .strictObject({
    connectTimeoutMs: field(int(10, 120_000).default(DEFAULT_STORE_TIMEOUTS.connectTimeoutMs), {
      env: 'HOIST_UPSTREAM_CONNECT_TIMEOUT_MS',
      kind: 'number',
      doc: 'Connect timeout of every S3, STS and IAM call (10..120000 ms)',
    }),
    requestTimeoutMs: field(int(10, 600_000).default(DEFAULT_STORE_TIMEOUTS.requestTimeoutMs), {
      env: 'HOIST_UPSTREAM_REQUEST_TIMEOUT_MS',
      kind: 'number',
      doc: "Wait for a store answer's headers, and longest silence in its body (10..600000 ms); then 504 upstream-timeout, not retried",
    }),
  })
  .prefault({});

/** The part size and single-request threshold: top-level fields, defined here with the sizes. */
export const partSizeField = field(partSize().default(DEFAULT_PART_SIZE), {
  env: 'HOIST_PART_SIZE',
  kind: 'size',
  doc: 'Multipart part size, whole MiB, 5MiB..5GiB (text is rounded up to whole MiB: 8MB is 8MiB)',
});

export const singleRequestMaxSizeField = field(
  size({ min: 0, max: S3_LIMITS.maxPutObjectSize }).default(DEFAULT_SINGLE_REQUEST_MAX_SIZE),
  {
    env: 'HOIST_SINGLE_REQUEST_MAX_SIZE',
    kind: 'size',
    doc: 'Files up to this size are sent as one PutObject',
  },
);

export const limitsSection = z
  .strictObject({
    maxObjectSize: field(size({ min: 0, max: S3_LIMITS.maxObjectSize }).default(5 * TiB), {
      env: 'HOIST_MAX_OBJECT_SIZE',
      kind: 'size',
      doc: 'Largest declared file size',
    }),
    allowedContentTypes: field(
      z.array(mediaRange).min(1, 'must list at least one type (use */* for any)').default(['*/*']),
      {
        env: 'HOIST_ALLOWED_CONTENT_TYPES',
        kind: 'list',
        doc: 'Allowed content types, comma-separated; video/* forms allowed',
      },
    ),
    maxConcurrentUploadsPerUser: field(int(1, 1_000_000).default(10), {
      env: 'HOIST_MAX_CONCURRENT_UPLOADS',
      kind: 'number',
      doc: 'Open uploads per user',
    }),
    maxBytesPerUserPerDay: field(
      size({ min: 0, max: Number.MAX_SAFE_INTEGER, unlimited: true }).default(Infinity),
      { env: 'HOIST_MAX_BYTES_PER_DAY', kind: 'size', doc: 'Declared bytes per user per rolling 24 h' },
    ),
    maxCredentialMintsPerMinute: field(int(1, 1_000_000).default(60), {
      env: 'HOIST_MAX_CREDENTIAL_MINTS_PER_MINUTE',
      kind: 'number',
      doc: 'Credential and URL mints per user per minute (429 beyond)',
    }),
  })
  .prefault({});

const jwtSection = z.strictObject({
  secret: field(z.string().min(32, 'must be at least 32 characters').exactOptional(), {
    env: 'HOIST_JWT_SECRET',
    doc: 'HMAC secret of HS* JWTs (at least 32 characters)',
    secret: true,
  }),
  jwksUrl: field(
    httpUrl()
      .refine((v) => {
        const url = new URL(v);
        return url.protocol === 'https:' || isLoopback(url.hostname);
      }, 'must use https (http only for localhost)')
      .exactOptional(),
    { env: 'HOIST_JWKS_URL', doc: "JWKS URL of the identity provider's signing keys" },
  ),
  issuer: field(z.string().min(1).exactOptional(), { env: 'HOIST_JWT_ISSUER', doc: 'Required iss claim' }),
  audience: field(z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).exactOptional(), {
    env: 'HOIST_JWT_AUDIENCE',
    kind: 'list',
    doc: 'Required aud claim (comma-separated: any of)',
  }),
  algorithms: field(z.array(jwsAlgorithm).min(1).exactOptional(), {
    env: 'HOIST_JWT_ALGORITHMS',
    kind: 'list',
    default: 'RS256,ES256 (JWKS); HS256 (secret)',
    doc: 'Accepted alg values; none is never accepted',
  }),
  userClaim: field(z.string().min(1).default('sub'), {
    env: 'HOIST_JWT_USER_CLAIM',
    doc: 'Claim holding the user id',
  }),
  clockToleranceSeconds: field(int(0, 300).default(30), {
    env: 'HOIST_JWT_CLOCK_TOLERANCE_SECONDS',
    kind: 'number',
    doc: 'Leeway for exp and nbf (0..300 s)',
  }),
});

export const authSection = z
  .strictObject({
    tokens: field(
      z
        .record(
          userId,
          z
            .string()
            .min(1)
            .max(4096)
            .regex(/^[\x21-\x2b\x2d-\x7e]+$/, 'tokens must be printable ASCII without spaces or commas'),
        )
        .exactOptional(),
      {
        env: 'HOIST_TOKENS',
        kind: 'tokens',
        doc: 'Static bearer tokens for development: alice:tok1,bob:tok2',
        secret: true,
      },
    ),
    jwt: jwtSection.exactOptional(),
  })
  .prefault({});
