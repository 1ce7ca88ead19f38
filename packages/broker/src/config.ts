/**
 * The broker's configuration: one zod schema, fed by an optional JSON file and by `HOIST_*`
 * environment variables (the environment wins), validated once at start. Every error names
 * the field it is about, or the environment variable the bad value came from:
 *
 * ```text
 * Invalid broker configuration:
 *   s3.bucket: Required
 *   HOIST_MODE: must be one of sts, federation, presign
 * ```
 *
 * Secret values (keys, tokens, JWT and webhook secrets, registry URLs with passwords) never
 * appear in error messages. `CONFIG_REFERENCE` lists every field with its variable, default
 * and meaning, for the README's table.
 *
 * @example
 * ```ts
 * const config = loadBrokerConfig({ file: 'broker.json' }); // also reads process.env
 * ```
 * @module
 */
import { readFileSync } from 'node:fs';
import type { UploadMode } from '@hoist/protocol';
import { formatFieldPath, GiB, MiB, S3_LIMITS, TiB } from '@hoist/protocol';
import { z } from 'zod';
import { DEFAULT_STORE_TIMEOUTS, type StoreTimeouts } from './store-timeouts.ts';
import type { BrokerLimits } from './types.ts';

/** Static keys for the broker's own S3/STS calls. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Config {
  /** S3 endpoint URL the broker calls. Unset: AWS's regional endpoint. */
  endpoint?: string;
  /** S3 endpoint URL clients are told to use. @default s3.endpoint */
  publicEndpoint?: string;
  /** @default 'us-east-1' */
  region: string;
  /** Bucket the uploads go to (required). */
  bucket: string;
  /** Path-style addressing (`endpoint/bucket/key`). @default true when `endpoint` is set, else false */
  forcePathStyle: boolean;
  /** Keys for the broker's S3 and STS calls. Unset: the AWS SDK's default credential chain. */
  credentials?: S3Credentials;
}

export interface StsConfig {
  /** STS endpoint URL. @default s3.endpoint when set, else AWS's */
  endpoint?: string;
  /** Role assumed in `sts` mode (required there). */
  roleArn?: string;
  /** Lifetime of issued credentials, 900..43200 s. @default 900 */
  durationSeconds: number;
  /** ExternalId sent with AssumeRole, when the role's trust policy requires one. */
  externalId?: string;
}

export interface FederationConfig {
  /** Lifetime of GetFederationToken credentials, 900..129600 s. @default 900 */
  durationSeconds: number;
}

/** A store capability: `'auto'` probes the store at start; true/false pins it (no probe for it). */
export type CapabilitySetting = boolean | 'auto';

/**
 * What the S3 store can do, probed at start unless pinned (see capabilities.ts). Pin a capability
 * when the probe cannot run (e.g. no rights under the probe prefix) or to skip its requests.
 */
export interface StoreConfig {
  /** Flexible checksums (x-amz-checksum-*) verified and kept; without them parts carry Content-MD5. */
  flexibleChecksums: CapabilitySetting;
  /** `If-None-Match: *` honoured on PutObject. */
  ifNoneMatchOnPut: CapabilitySetting;
  /** `If-None-Match: *` honoured on CompleteMultipartUpload. */
  ifNoneMatchOnComplete: CapabilitySetting;
  /** The policy condition keys s3:if-none-match / s3:ObjectCreationOperation enforced. */
  conditionalWriteKeys: CapabilitySetting;
  /** STS GetFederationToken available (federation mode). */
  federationToken: CapabilitySetting;
  /**
   * sts/federation mode on a store that cannot stop the upload credentials from overwriting a
   * finished object: start anyway (logged as a warning at every start). @default false
   */
  acceptOverwriteRisk: boolean;
  /** Bound on each probe request, seconds (1..60). @default 10 */
  probeTimeoutSeconds: number;
}

export interface PresignConfig {
  /** Lifetime of presigned part and PUT URLs, 60..3600 s. @default 300 */
  expiresSeconds: number;
}

export interface JwtConfig {
  /** HMAC secret (at least 32 characters) for HS* tokens. Exactly one of `secret` and `jwksUrl`. */
  secret?: string;
  /** JWKS URL of the identity provider (https; http only on loopback). */
  jwksUrl?: string;
  /** Required `iss`. */
  issuer?: string;
  /** Required `aud` (one of these). */
  audience?: string | string[];
  /** Accepted `alg` values; `none` is never accepted. @default ['RS256','ES256'] with jwksUrl, ['HS256'] with secret */
  algorithms: string[];
  /** Claim holding the user id (must match `^[A-Za-z0-9._@+-]{1,128}$`). @default 'sub' */
  userClaim: string;
  /** Leeway for `exp` and `nbf`, 0..300 s. @default 30 */
  clockToleranceSeconds: number;
}

export interface AuthConfig {
  /** Static bearer tokens by user id (development). `HOIST_TOKENS="alice:tok1,bob:tok2"`. */
  tokens?: Record<string, string>;
  /** JWT bearer tokens. */
  jwt?: JwtConfig;
}

export interface CorsConfig {
  /** Origins allowed to call the API (`https://app.example.com`). @default [] */
  origins: string[];
  /** Must be true for `origins` to contain `*`. @default false */
  allowAnyOrigin: boolean;
}

/** Companion-compatible routes for Uppy's `@uppy/aws-s3` (see docs/uppy.md). */
export interface UppyConfig {
  /** Serve them. @default false */
  enabled: boolean;
  /** Where Uppy's `companionEndpoint` points: the routes are `{path}/s3/multipart…`. @default '/companion' */
  path: string;
  /** Cookie carrying the same token or JWT as `Authorization: Bearer`. @default 'hoist_token' */
  cookieName: string;
}

export interface RegistryConfig {
  /** `sqlite:<path>` or `postgres://…`. @default 'sqlite:.hoist-data/broker.sqlite' */
  url: string;
}

export interface WebhookConfig {
  /** URL POSTed to when an upload completes or is rejected. */
  url: string;
  /** HMAC-SHA256 signing secret, at least 16 characters. */
  secret: string;
}

/** The validated broker configuration, every default applied. */
export interface BrokerConfig {
  s3: S3Config;
  sts: StsConfig;
  /** How clients get the right to upload. @default 'sts' */
  mode: UploadMode;
  federation: FederationConfig;
  presign: PresignConfig;
  /** What the store can do: probed at start unless pinned. */
  store: StoreConfig;
  /** Timeouts of every S3, STS and IAM call: connect 5 s, answer (and body silence) 15 s by default. */
  upstream: StoreTimeouts;
  /** First segment(s) of every object key: `A-Za-z0-9._@=+-` and inner `/`. @default 'uploads' */
  keyPrefix: string;
  /** Multipart part size, whole MiB in 5 MiB..5 GiB. @default 8 MiB */
  partSize: number;
  /** Files up to this size go as one PutObject. @default 8 MiB */
  singleRequestMaxSize: number;
  /** Open uploads expire (and are swept) after this. @default 86400 */
  uploadTtlSeconds: number;
  limits: BrokerLimits;
  auth: AuthConfig;
  cors: CorsConfig;
  uppy: UppyConfig;
  registry: RegistryConfig;
  webhook?: WebhookConfig;
  /** @default 8787 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** Sweeper interval; 0 disables it. @default 300 */
  sweepIntervalSeconds: number;
}

/** Thrown by `loadBrokerConfig`/`parseBrokerConfig`; `issues` has one entry per bad field. */
export class BrokerConfigError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(issues: { path: string; message: string }[]) {
    super(`Invalid broker configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'BrokerConfigError';
    this.issues = issues;
  }
}

/**
 * Throws `BrokerConfigError` on `auth` when the config has neither static tokens nor JWT:
 * what `createBroker` checks unless the application passes its own authenticator.
 */
export function requireAuthConfig(config: Pick<BrokerConfig, 'auth'>): void {
  const { tokens, jwt } = config.auth;
  if ((tokens && Object.keys(tokens).length > 0) || jwt) return;
  throw new BrokerConfigError([
    {
      path: 'auth',
      message:
        'Required: static tokens or JWT (or an authenticator passed to createBroker). For development set ' +
        'HOIST_TOKENS="alice:token1,bob:token2"; for JWTs set HOIST_JWT_SECRET or HOIST_JWKS_URL ' +
        '(or auth.tokens / auth.jwt in the config file)',
    },
  ]);
}

/** The variable naming the config file when `loadBrokerConfig` gets no `file`. */
export const CONFIG_FILE_ENV = 'HOIST_CONFIG';

/** Matches user ids: they go into object keys and session policies. */
export const USER_ID_PATTERN = /^[A-Za-z0-9._@+-]{1,128}$/;

/** Parses `5GiB`, `500MB`, `8 MiB`, `1024` into bytes (binary `KiB…TiB`, decimal `KB…TB`); undefined if not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|[kmgt]i?b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? 'b').toLowerCase();
  const scale: Record<string, number> = {
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    tb: 1e12,
    kib: 1024,
    mib: MiB,
    gib: GiB,
    tib: TiB,
  };
  const bytes = Number(match[1]) * (scale[unit] as number);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

// ---------------------------------------------------------------------------------------------
// Field schemas

const JWS_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const capability = z
  .union([z.boolean(), z.literal('auto')], { error: 'must be true, false or "auto"' })
  .default('auto');

function humanSize(bytes: number): string {
  for (const [unit, scale] of [
    ['TiB', TiB],
    ['GiB', GiB],
    ['MiB', MiB],
  ] as const) {
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale} ${unit}`;
  }
  return `${bytes} bytes`;
}

const size = (options: { min: number; max: number; wholeMiB?: boolean; unlimited?: boolean }) =>
  z
    .union([z.number(), z.string()], {
      error: 'must be a number of bytes or a size such as "5GiB" or "500MB"',
    })
    .transform((value, ctx) => {
      let bytes: number | undefined;
      if (typeof value === 'number') bytes = value;
      else if (options.unlimited && value.trim().toLowerCase() === 'unlimited') bytes = Infinity;
      else bytes = parseSize(value);
      const fail = (message: string) => {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      };
      if (bytes === undefined || Number.isNaN(bytes)) {
        return fail('must be a number of bytes or a size such as "5GiB" or "500MB"');
      }
      if (bytes === Infinity && options.unlimited) return bytes;
      if (!Number.isSafeInteger(bytes)) return fail('must be a whole number of bytes');
      if (bytes < options.min) return fail(`must be at least ${humanSize(options.min)}`);
      if (bytes > options.max) return fail(`must be at most ${humanSize(options.max)}`);
      if (options.wholeMiB && bytes % MiB !== 0) return fail('must be a whole number of MiB');
      return bytes;
    });

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
  } catch {
    return false;
  }
}, 'must be an http(s) URL without query or fragment');

const endpoint = httpUrl.transform((value) => value.replace(/\/+$/, ''));

const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127\./.test(host);

const userId = z.string().regex(USER_ID_PATTERN, 'user ids may contain only A-Z a-z 0-9 . _ @ + - (1..128)');

const keyPrefix = z
  .string()
  .min(1, 'must not be empty')
  // Keys appear three times in the session policy, which STS caps at 2048 characters.
  .max(128, 'must be at most 128 characters')
  .refine((v) => /^[\x21-\x7e]+$/.test(v), 'must be printable ASCII without spaces')
  .refine((v) => !/[*?$]/.test(v), 'must not contain *, ? or $ (IAM wildcards and variables)')
  // Exactly what the key builder (keys.ts) accepts: a prefix valid here never fails an upload.
  .refine((v) => /^[A-Za-z0-9._@=+/-]*$/.test(v), 'may contain only A-Z a-z 0-9 . _ @ = + - and /')
  .refine((v) => !v.startsWith('/') && !v.endsWith('/'), 'must not start or end with /')
  .refine(
    (v) => v.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'must not contain //, . or ..',
  );

const contentTypePattern = /^(?:\*\/\*|[a-z0-9][\w!#$&^.+-]*\/(?:\*|[a-z0-9][\w!#$&^.+-]*))$/;

const limits = z
  .strictObject({
    maxObjectSize: size({ min: 0, max: S3_LIMITS.maxObjectSize }).default(5 * TiB),
    allowedContentTypes: z
      .array(
        z
          .string()
          .transform((v) => v.trim().toLowerCase())
          .refine(
            (v) => contentTypePattern.test(v),
            'must be a media type such as video/mp4, video/* or */*',
          ),
      )
      .min(1, 'must list at least one type (use */* for any)')
      .default(['*/*']),
    maxConcurrentUploadsPerUser: int(1, 1_000_000).default(10),
    maxBytesPerUserPerDay: size({ min: 0, max: Number.MAX_SAFE_INTEGER, unlimited: true }).default(Infinity),
    maxCredentialMintsPerMinute: int(1, 1_000_000).default(60),
  })
  .prefault({});

const jwt = z.strictObject({
  secret: z.string().min(32, 'must be at least 32 characters').optional(),
  jwksUrl: httpUrl
    .refine((v) => {
      const url = new URL(v);
      return url.protocol === 'https:' || isLoopback(url.hostname);
    }, 'must use https (http only for localhost)')
    .optional(),
  issuer: z.string().min(1).optional(),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  algorithms: z
    .array(
      z.string().superRefine((value, ctx) => {
        if (value.toLowerCase() === 'none') {
          ctx.addIssue({ code: 'custom', message: '"none" is never allowed (unsigned tokens)' });
        } else if (!(JWS_ALGORITHMS as readonly string[]).includes(value)) {
          ctx.addIssue({ code: 'custom', message: `must be one of ${JWS_ALGORITHMS.join(', ')}` });
        }
      }),
    )
    .min(1)
    .optional(),
  userClaim: z.string().min(1).default('sub'),
  clockToleranceSeconds: int(0, 300).default(30),
});

const schema = z
  .strictObject({
    // Missing entirely: reported as s3.bucket: Required.
    s3: z.preprocess(
      (v) => (v === undefined ? {} : v),
      z.strictObject({
        endpoint: endpoint.optional(),
        publicEndpoint: endpoint.optional(),
        region: z
          .string()
          .regex(/^[a-z0-9-]{1,32}$/, 'must be a region name such as us-east-1')
          .default('us-east-1'),
        bucket: z
          .string()
          .regex(
            /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
            'must be an S3 bucket name (3..63 lowercase letters, digits, dots and hyphens)',
          ),
        forcePathStyle: z.boolean().optional(),
        credentials: z
          .strictObject({
            accessKeyId: z.string().min(1),
            secretAccessKey: z.string().min(1),
            sessionToken: z.string().min(1).optional(),
          })
          .optional(),
      }),
    ),
    sts: z
      .strictObject({
        endpoint: endpoint.optional(),
        roleArn: z.string().startsWith('arn:', 'must be a role ARN (arn:…)').max(2048).optional(),
        durationSeconds: int(900, 43_200).default(900),
        externalId: z.string().min(2).max(1224).optional(),
      })
      .prefault({}),
    mode: z.enum(['sts', 'federation', 'presign']).default('sts'),
    federation: z.strictObject({ durationSeconds: int(900, 129_600).default(900) }).prefault({}),
    presign: z.strictObject({ expiresSeconds: int(60, 3600).default(300) }).prefault({}),
    store: z
      .strictObject({
        flexibleChecksums: capability,
        ifNoneMatchOnPut: capability,
        ifNoneMatchOnComplete: capability,
        conditionalWriteKeys: capability,
        federationToken: capability,
        acceptOverwriteRisk: z.boolean().default(false),
        probeTimeoutSeconds: int(1, 60).default(10),
      })
      .prefault({}),
    upstream: z
      .strictObject({
        connectTimeoutMs: int(10, 120_000).default(DEFAULT_STORE_TIMEOUTS.connectTimeoutMs),
        requestTimeoutMs: int(10, 600_000).default(DEFAULT_STORE_TIMEOUTS.requestTimeoutMs),
      })
      .prefault({}),
    keyPrefix: keyPrefix.default('uploads'),
    partSize: size({ min: S3_LIMITS.minPartSize, max: S3_LIMITS.maxPartSize, wholeMiB: true }).default(
      8 * MiB,
    ),
    singleRequestMaxSize: size({ min: 0, max: S3_LIMITS.maxPutObjectSize }).default(8 * MiB),
    uploadTtlSeconds: int(1, 30 * 86_400).default(86_400),
    limits,
    auth: z
      .strictObject({
        tokens: z
          .record(
            userId,
            z
              .string()
              .min(1)
              .max(4096)
              .regex(/^[\x21-\x2b\x2d-\x7e]+$/, 'tokens must be printable ASCII without spaces or commas'),
          )
          .optional(),
        jwt: jwt.optional(),
      })
      .prefault({}),
    cors: z
      .strictObject({
        origins: z
          .array(
            z
              .string()
              .refine((v) => {
                if (v === '*') return true;
                try {
                  return new URL(v).origin === v.toLowerCase();
                } catch {
                  return false;
                }
              }, 'must be an origin such as https://app.example.com (scheme, host, optional port; no path)')
              .transform((v) => (v === '*' ? v : new URL(v).origin)),
          )
          .default([]),
        allowAnyOrigin: z.boolean().default(false),
      })
      .prefault({}),
    uppy: z
      .strictObject({
        enabled: z.boolean().default(false),
        path: z
          .string()
          .regex(/^(?:\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as /companion (no trailing slash)')
          .default('/companion'),
        // RFC 6265 cookie-name characters; no prefix games with spaces or separators.
        cookieName: z
          .string()
          .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be a cookie name (token characters)')
          .default('hoist_token'),
      })
      .prefault({}),
    registry: z
      .strictObject({
        url: z
          .string()
          .refine(
            (v) => /^sqlite:.+/.test(v) || /^postgres(?:ql)?:\/\/.+/.test(v),
            'must be sqlite:<path> or postgres://…',
          )
          .default('sqlite:.hoist-data/broker.sqlite'),
      })
      .prefault({}),
    webhook: z
      .strictObject({ url: httpUrl, secret: z.string().min(16, 'must be at least 16 characters') })
      .optional(),
    port: int(0, 65_535).default(8787),
    host: z.string().min(1).default('127.0.0.1'),
    sweepIntervalSeconds: int(0, 86_400).default(300),
  })
  .superRefine((c, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (c.mode === 'sts' && !c.sts.roleArn) {
      issue(['sts', 'roleArn'], 'Required when mode is "sts" (set HOIST_STS_ROLE_ARN)');
    }
    // No tokens and no JWT is valid here: an app may bring its own authenticator (createBroker's
    // deps); createBroker refuses the config when it does not (requireAuthConfig).
    const { tokens, jwt } = c.auth;
    if (tokens && new Set(Object.values(tokens)).size !== Object.keys(tokens).length) {
      issue(['auth', 'tokens'], 'two users have the same token');
    }
    if (jwt) {
      if (Boolean(jwt.secret) === Boolean(jwt.jwksUrl)) {
        issue(['auth', 'jwt'], 'set exactly one of secret (HOIST_JWT_SECRET) and jwksUrl (HOIST_JWKS_URL)');
      } else {
        const hmac = Boolean(jwt.secret);
        jwt.algorithms?.forEach((alg, i) => {
          if (alg.startsWith('HS') !== hmac) {
            issue(
              ['auth', 'jwt', 'algorithms', i],
              hmac
                ? 'a shared secret verifies only HS256/HS384/HS512'
                : 'HS* algorithms need a secret, not a JWKS',
            );
          }
        });
      }
    }
    if (c.cors.origins.includes('*') && !c.cors.allowAnyOrigin) {
      issue(
        ['cors', 'origins'],
        '"*" lets any site call the API; set cors.allowAnyOrigin: true (HOIST_CORS_ALLOW_ANY_ORIGIN=true) to allow it',
      );
    }
  })
  .transform((c): BrokerConfig => {
    const { s3, sts, auth, webhook, ...rest } = c;
    const stsEndpoint = sts.endpoint ?? s3.endpoint;
    const publicEndpoint = s3.publicEndpoint ?? s3.endpoint;
    const config: BrokerConfig = {
      ...rest,
      s3: {
        region: s3.region,
        bucket: s3.bucket,
        forcePathStyle: s3.forcePathStyle ?? s3.endpoint !== undefined,
      },
      sts: { durationSeconds: sts.durationSeconds },
      auth: {},
    };
    if (s3.endpoint !== undefined) config.s3.endpoint = s3.endpoint;
    if (publicEndpoint !== undefined) config.s3.publicEndpoint = publicEndpoint;
    if (s3.credentials) {
      const { accessKeyId, secretAccessKey, sessionToken } = s3.credentials;
      config.s3.credentials = { accessKeyId, secretAccessKey };
      if (sessionToken !== undefined) config.s3.credentials.sessionToken = sessionToken;
    }
    if (stsEndpoint !== undefined) config.sts.endpoint = stsEndpoint;
    if (sts.roleArn !== undefined) config.sts.roleArn = sts.roleArn;
    if (sts.externalId !== undefined) config.sts.externalId = sts.externalId;
    if (auth.tokens && Object.keys(auth.tokens).length > 0) config.auth.tokens = auth.tokens;
    if (auth.jwt) {
      const { secret, jwksUrl, issuer, audience, algorithms, userClaim, clockToleranceSeconds } = auth.jwt;
      const jwt: JwtConfig = {
        algorithms: algorithms ?? (secret ? ['HS256'] : ['RS256', 'ES256']),
        userClaim,
        clockToleranceSeconds,
      };
      if (secret !== undefined) jwt.secret = secret;
      if (jwksUrl !== undefined) jwt.jwksUrl = jwksUrl;
      if (issuer !== undefined) jwt.issuer = issuer;
      if (audience !== undefined) jwt.audience = audience;
      config.auth.jwt = jwt;
    }
    if (webhook) config.webhook = webhook;
    return config;
  });

// ---------------------------------------------------------------------------------------------
// Reference table: also the map from environment variables to fields

type EnvKind = 'string' | 'number' | 'boolean' | 'size' | 'list' | 'tokens';

const FIELDS: readonly (readonly [
  path: string,
  env: string,
  kind: EnvKind,
  defaultText: string,
  description: string,
])[] = [
  [
    's3.endpoint',
    'HOIST_S3_ENDPOINT',
    'string',
    '(AWS)',
    'S3 endpoint URL the broker calls; unset means AWS',
  ],
  [
    's3.publicEndpoint',
    'HOIST_S3_PUBLIC_ENDPOINT',
    'string',
    's3.endpoint',
    'S3 endpoint URL given to clients, when they reach S3 by another address than the broker',
  ],
  ['s3.region', 'HOIST_S3_REGION', 'string', 'us-east-1', 'Region of the bucket (and of STS)'],
  ['s3.bucket', 'HOIST_S3_BUCKET', 'string', '(required)', 'Bucket the uploads go to'],
  [
    's3.forcePathStyle',
    'HOIST_S3_FORCE_PATH_STYLE',
    'boolean',
    'true if s3.endpoint is set',
    'Path-style addressing (endpoint/bucket/key) for the broker and its clients',
  ],
  [
    's3.credentials.accessKeyId',
    'HOIST_S3_ACCESS_KEY_ID',
    'string',
    '(SDK default chain)',
    "Access key of the broker's own S3/STS calls",
  ],
  ['s3.credentials.secretAccessKey', 'HOIST_S3_SECRET_ACCESS_KEY', 'string', '', 'Its secret key'],
  ['s3.credentials.sessionToken', 'HOIST_S3_SESSION_TOKEN', 'string', '', 'Its session token, if temporary'],
  ['sts.endpoint', 'HOIST_STS_ENDPOINT', 'string', 's3.endpoint, else AWS', 'STS endpoint URL'],
  ['sts.roleArn', 'HOIST_STS_ROLE_ARN', 'string', '(required in sts mode)', 'Role assumed for each upload'],
  [
    'sts.durationSeconds',
    'HOIST_STS_DURATION_SECONDS',
    'number',
    '900',
    'Lifetime of AssumeRole credentials (900..43200 s)',
  ],
  [
    'sts.externalId',
    'HOIST_STS_EXTERNAL_ID',
    'string',
    '',
    "ExternalId, if the role's trust policy requires it",
  ],
  ['mode', 'HOIST_MODE', 'string', 'sts', 'Credential mode: sts, federation or presign'],
  [
    'federation.durationSeconds',
    'HOIST_FEDERATION_DURATION_SECONDS',
    'number',
    '900',
    'Lifetime of GetFederationToken credentials (900..129600 s)',
  ],
  [
    'presign.expiresSeconds',
    'HOIST_PRESIGN_EXPIRES_SECONDS',
    'number',
    '300',
    'Lifetime of presigned URLs (60..3600 s)',
  ],
  [
    'store.flexibleChecksums',
    'HOIST_STORE_FLEXIBLE_CHECKSUMS',
    'boolean',
    'auto',
    'Store verifies and keeps x-amz-checksum-* (true, false or auto: probed at start); without them parts carry Content-MD5',
  ],
  [
    'store.ifNoneMatchOnPut',
    'HOIST_STORE_IF_NONE_MATCH_ON_PUT',
    'boolean',
    'auto',
    'Store honours If-None-Match: * on PutObject (true, false or auto)',
  ],
  [
    'store.ifNoneMatchOnComplete',
    'HOIST_STORE_IF_NONE_MATCH_ON_COMPLETE',
    'boolean',
    'auto',
    'Store honours If-None-Match: * on CompleteMultipartUpload (true, false or auto); without it the broker checks the key is free first',
  ],
  [
    'store.conditionalWriteKeys',
    'HOIST_STORE_CONDITIONAL_WRITE_KEYS',
    'boolean',
    'auto',
    'Store enforces the policy keys s3:if-none-match and s3:ObjectCreationOperation (true, false or auto); sts and federation modes need them',
  ],
  [
    'store.federationToken',
    'HOIST_STORE_FEDERATION_TOKEN',
    'boolean',
    'auto',
    'STS offers GetFederationToken (true, false or auto); federation mode needs it',
  ],
  [
    'store.acceptOverwriteRisk',
    'HOIST_STORE_ACCEPT_OVERWRITE_RISK',
    'boolean',
    'false',
    'Start sts/federation mode on a store that cannot stop upload credentials overwriting a finished object (warned at every start)',
  ],
  [
    'store.probeTimeoutSeconds',
    'HOIST_STORE_PROBE_TIMEOUT_SECONDS',
    'number',
    '10',
    'Bound on each request of the start-up capability probe (1..60 s)',
  ],
  [
    'upstream.connectTimeoutMs',
    'HOIST_UPSTREAM_CONNECT_TIMEOUT_MS',
    'number',
    '5000',
    'Connect timeout of every S3, STS and IAM call (10..120000 ms)',
  ],
  [
    'upstream.requestTimeoutMs',
    'HOIST_UPSTREAM_REQUEST_TIMEOUT_MS',
    'number',
    '15000',
    "Wait for a store answer's headers, and longest silence in its body (10..600000 ms); then 504 upstream-timeout, not retried",
  ],
  [
    'keyPrefix',
    'HOIST_KEY_PREFIX',
    'string',
    'uploads',
    'Key prefix: keys are {prefix}/{user}/{id}/{name}; A-Z a-z 0-9 . _ @ = + - and inner /, at most 128 characters',
  ],
  ['partSize', 'HOIST_PART_SIZE', 'size', '8MiB', 'Multipart part size, whole MiB, 5MiB..5GiB'],
  [
    'singleRequestMaxSize',
    'HOIST_SINGLE_REQUEST_MAX_SIZE',
    'size',
    '8MiB',
    'Files up to this size are sent as one PutObject',
  ],
  [
    'uploadTtlSeconds',
    'HOIST_UPLOAD_TTL_SECONDS',
    'number',
    '86400',
    'Open uploads expire and are swept after this',
  ],
  ['limits.maxObjectSize', 'HOIST_MAX_OBJECT_SIZE', 'size', '5TiB', 'Largest declared file size'],
  [
    'limits.allowedContentTypes',
    'HOIST_ALLOWED_CONTENT_TYPES',
    'list',
    '*/*',
    'Allowed content types, comma-separated; video/* forms allowed',
  ],
  [
    'limits.maxConcurrentUploadsPerUser',
    'HOIST_MAX_CONCURRENT_UPLOADS',
    'number',
    '10',
    'Open uploads per user',
  ],
  [
    'limits.maxBytesPerUserPerDay',
    'HOIST_MAX_BYTES_PER_DAY',
    'size',
    'unlimited',
    'Declared bytes per user per rolling 24 h',
  ],
  [
    'limits.maxCredentialMintsPerMinute',
    'HOIST_MAX_CREDENTIAL_MINTS_PER_MINUTE',
    'number',
    '60',
    'Credential and URL mints per user per minute (429 beyond)',
  ],
  ['auth.tokens', 'HOIST_TOKENS', 'tokens', '', 'Static bearer tokens for development: alice:tok1,bob:tok2'],
  ['auth.jwt.secret', 'HOIST_JWT_SECRET', 'string', '', 'HMAC secret of HS* JWTs (at least 32 characters)'],
  ['auth.jwt.jwksUrl', 'HOIST_JWKS_URL', 'string', '', "JWKS URL of the identity provider's signing keys"],
  ['auth.jwt.issuer', 'HOIST_JWT_ISSUER', 'string', '', 'Required iss claim'],
  ['auth.jwt.audience', 'HOIST_JWT_AUDIENCE', 'list', '', 'Required aud claim (comma-separated: any of)'],
  [
    'auth.jwt.algorithms',
    'HOIST_JWT_ALGORITHMS',
    'list',
    'RS256,ES256 (JWKS); HS256 (secret)',
    'Accepted alg values; none is never accepted',
  ],
  ['auth.jwt.userClaim', 'HOIST_JWT_USER_CLAIM', 'string', 'sub', 'Claim holding the user id'],
  [
    'auth.jwt.clockToleranceSeconds',
    'HOIST_JWT_CLOCK_TOLERANCE_SECONDS',
    'number',
    '30',
    'Leeway for exp and nbf (0..300 s)',
  ],
  [
    'cors.origins',
    'HOIST_CORS_ORIGINS',
    'list',
    '(none)',
    'Origins allowed to call the API, comma-separated',
  ],
  [
    'cors.allowAnyOrigin',
    'HOIST_CORS_ALLOW_ANY_ORIGIN',
    'boolean',
    'false',
    'Must be true for cors.origins to contain *',
  ],
  [
    'uppy.enabled',
    'HOIST_UPPY_ENABLED',
    'boolean',
    'false',
    "Serve Companion-compatible routes for Uppy's @uppy/aws-s3",
  ],
  [
    'uppy.path',
    'HOIST_UPPY_PATH',
    'string',
    '/companion',
    "Their path: Uppy's companionEndpoint is the broker URL + this",
  ],
  [
    'uppy.cookieName',
    'HOIST_UPPY_COOKIE_NAME',
    'string',
    'hoist_token',
    'Cookie carrying the bearer token or JWT on those routes (Origin-checked)',
  ],
  [
    'registry.url',
    'HOIST_REGISTRY_URL',
    'string',
    'sqlite:.hoist-data/broker.sqlite',
    'Upload registry: sqlite:<path> or postgres://…',
  ],
  ['webhook.url', 'HOIST_WEBHOOK_URL', 'string', '', 'URL POSTed to when an upload completes or is rejected'],
  [
    'webhook.secret',
    'HOIST_WEBHOOK_SECRET',
    'string',
    '',
    'HMAC-SHA256 secret signing webhook calls (at least 16 characters)',
  ],
  ['port', 'HOIST_PORT', 'number', '8787', 'Port the broker listens on (0: any free port)'],
  ['host', 'HOIST_HOST', 'string', '127.0.0.1', 'Interface the broker binds'],
  [
    'sweepIntervalSeconds',
    'HOIST_SWEEP_INTERVAL_SECONDS',
    'number',
    '300',
    'How often stale uploads are swept (0: never)',
  ],
];

/** One row per config field: its JSON path, environment variable, default and meaning. */
export const CONFIG_REFERENCE: readonly {
  path: string;
  env: string;
  default: string;
  description: string;
}[] = Object.freeze(
  FIELDS.map(([path, env, , def, description]) => Object.freeze({ path, env, default: def, description })),
);

function fromEnv(
  kind: EnvKind,
  raw: string,
  env: string,
  problems: { path: string; message: string }[],
): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'number':
      return /^[+-]?\d+(?:\.\d+)?$/.test(text) ? Number(text) : text;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', '1', 'yes'].includes(lower)) return true;
      if (['false', '0', 'no'].includes(lower)) return false;
      return text;
    }
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'tokens': {
      const tokens: Record<string, string> = {};
      text.split(',').forEach((entry, i) => {
        const trimmed = entry.trim();
        if (!trimmed) return;
        const colon = trimmed.indexOf(':');
        // Never echo the entry: it holds a token.
        if (colon <= 0 || colon === trimmed.length - 1) {
          problems.push({
            path: env,
            message: `entry ${i + 1} must be userId:token (e.g. alice:token1,bob:token2)`,
          });
        } else {
          const user = trimmed.slice(0, colon);
          if (Object.hasOwn(tokens, user))
            problems.push({ path: env, message: `user "${user}" appears twice` });
          tokens[user] = trimmed.slice(colon + 1);
        }
      });
      return tokens;
    }
    default:
      return text;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(target: Record<string, unknown>, path: string[], value: unknown): boolean {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    const next = node[key];
    if (!isPlainObject(next)) return false; // the file's own error will be reported
    node = next;
  }
  node[path[path.length - 1] as string] = value;
  return true;
}

// Messages that never include the input (it may be a secret).
function errorMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required';
      if (issue.expected === 'int') return 'must be an integer';
      return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string') return `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} items`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_union':
      return 'must be a string or a list of strings';
    default:
      return undefined;
  }
}

function validate(
  value: unknown,
  envPaths: Map<string, string>,
  early: { path: string; message: string }[] = [],
) {
  const result = schema.safeParse(value, { error: errorMessage });
  if (result.success && early.length === 0) return result.data;
  const issues = [...early];
  for (const issue of result.error?.issues ?? []) {
    // Values from the environment are reported under the variable's name.
    const name = (path: readonly PropertyKey[]) => {
      for (let n = path.length; n > 0; n--) {
        const env = envPaths.get(path.slice(0, n).join('.'));
        if (env) return formatFieldPath(path.slice(n), env);
      }
      return formatFieldPath(path);
    };
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        issues.push({ path: name([...issue.path, key]), message: 'unknown field' });
    } else {
      issues.push({ path: name(issue.path), message: issue.message });
    }
  }
  throw new BrokerConfigError(issues);
}

/**
 * Validates a config object (as in the JSON file; sizes may be numbers or strings such as
 * `"5GiB"`) and applies every default. Throws `BrokerConfigError` naming each bad field.
 */
export function parseBrokerConfig(value: unknown): BrokerConfig {
  return validate(value, new Map());
}

/**
 * Reads the JSON file (`file`, else `$HOIST_CONFIG`, else none), overlays the `HOIST_*`
 * variables of `env` (default `process.env`; empty values count as unset), and validates.
 * Throws `BrokerConfigError` naming each bad field or variable.
 */
export function loadBrokerConfig(
  options: { file?: string; env?: Record<string, string | undefined> } = {},
): BrokerConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env[CONFIG_FILE_ENV] || undefined);
  let value: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new BrokerConfigError([{ path: `config file ${file}`, message: `cannot be read (${code})` }]);
    }
    try {
      value = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text, which may hold secrets.
      throw new BrokerConfigError([{ path: `config file ${file}`, message: 'is not valid JSON' }]);
    }
    if (!isPlainObject(value)) {
      throw new BrokerConfigError([{ path: `config file ${file}`, message: 'must hold a JSON object' }]);
    }
  }
  const envPaths = new Map<string, string>();
  const early: { path: string; message: string }[] = [];
  for (const [path, name, kind] of FIELDS) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    if (setPath(value as Record<string, unknown>, path.split('.'), fromEnv(kind, raw, name, early))) {
      envPaths.set(path, name);
    }
  }
  return validate(value, envPaths, early);
}
