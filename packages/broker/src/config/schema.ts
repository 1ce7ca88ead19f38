/**
 * The broker's configuration as one zod schema: every field with its metadata (field.ts), the
 * checks between fields, and the defaults that depend on other fields. The `BrokerConfig` type,
 * the reference table and the environment variables all derive from it.
 */
import { z } from 'zod';
import { field } from './field.ts';
import {
  authSection,
  limitsSection,
  partSizeField,
  s3Section,
  singleRequestMaxSizeField,
  storeSection,
  stsSection,
  upstreamSection,
} from './sections.ts';
import { httpUrl, int, keyPrefix, origin } from './values.ts';

const seconds = (min: number, max: number, fallback: number, env: string, doc: string) =>
  field(int(min, max).default(fallback), { env, kind: 'number', doc });

const fields = z.strictObject({
  // Missing entirely: reported as s3.bucket: Required.
  s3: z.preprocess((v) => (v === undefined ? {} : v), s3Section),
  sts: stsSection,
  mode: field(z.enum(['sts', 'federation', 'presign']).default('sts'), {
    env: 'HOIST_MODE',
    doc: 'Credential mode: sts, federation or presign',
  }),
  federation: z
    .strictObject({
      durationSeconds: seconds(
        900,
        129_600,
        900,
        'HOIST_FEDERATION_DURATION_SECONDS',
        'Lifetime of GetFederationToken credentials (900..129600 s)',
      ),
    })
    .prefault({}),
  presign: z
    .strictObject({
      expiresSeconds: seconds(
        60,
        3600,
        300,
        'HOIST_PRESIGN_EXPIRES_SECONDS',
        'Lifetime of presigned URLs (60..3600 s)',
      ),
    })
    .prefault({}),
  store: storeSection,
  upstream: upstreamSection,
  keyPrefix: field(keyPrefix.default('uploads'), {
    env: 'HOIST_KEY_PREFIX',
    doc: 'Key prefix: keys are {prefix}/{user}/{id}/{name}; A-Z a-z 0-9 . _ @ = + - and inner /, at most 128 characters',
  }),
  partSize: partSizeField,
  singleRequestMaxSize: singleRequestMaxSizeField,
  uploadTtlSeconds: seconds(
    1,
    30 * 86_400,
    86_400,
    'HOIST_UPLOAD_TTL_SECONDS',
    'Open uploads expire and are swept after this',
  ),
  limits: limitsSection,
  auth: authSection,
  cors: z
    .strictObject({
      origins: field(z.array(origin).default([]), {
        env: 'HOIST_CORS_ORIGINS',
        kind: 'list',
        default: '(none)',
        doc: 'Origins allowed to call the API, comma-separated',
      }),
      allowAnyOrigin: field(z.boolean().default(false), {
        env: 'HOIST_CORS_ALLOW_ANY_ORIGIN',
        kind: 'boolean',
        doc: 'Must be true for cors.origins to contain *',
      }),
    })
    .prefault({}),
  uppy: z
    .strictObject({
      enabled: field(z.boolean().default(false), {
        env: 'HOIST_UPPY_ENABLED',
        kind: 'boolean',
        doc: "Serve Companion-compatible routes for Uppy's @uppy/aws-s3",
      }),
      path: field(
        z
          .string()
          .regex(/^(?:\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as /companion (no trailing slash)')
          .default('/companion'),
        { env: 'HOIST_UPPY_PATH', doc: "Their path: Uppy's companionEndpoint is the broker URL + this" },
      ),
      // RFC 6265 cookie-name characters; no prefix games with spaces or separators.
      cookieName: field(
        z
          .string()
          .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be a cookie name (token characters)')
          .default('hoist_token'),
        {
          env: 'HOIST_UPPY_COOKIE_NAME',
          doc: 'Cookie carrying the bearer token or JWT on those routes (Origin-checked)',
        },
      ),
    })
    .prefault({}),
  registry: z
    .strictObject({
      url: field(
        z
          .string()
          .refine(
            (v) => /^sqlite:.+/.test(v) || /^postgres(?:ql)?:\/\/.+/.test(v),
            'must be sqlite:<path> or postgres://…',
          )
          .default('sqlite:.hoist-data/broker.sqlite'),
        { env: 'HOIST_REGISTRY_URL', doc: 'Upload registry: sqlite:<path> or postgres://…', secret: true },
      ),
    })
    .prefault({}),
  webhook: z
    .strictObject({
      url: field(httpUrl(), {
        env: 'HOIST_WEBHOOK_URL',
        doc: 'URL POSTed to when an upload completes or is rejected',
      }),
      secret: field(z.string().min(16, 'must be at least 16 characters'), {
        env: 'HOIST_WEBHOOK_SECRET',
        doc: 'HMAC-SHA256 secret signing webhook calls (at least 16 characters)',
        secret: true,
      }),
    })
    .exactOptional(),
  port: field(int(0, 65_535).default(8787), {
    env: 'HOIST_PORT',
    kind: 'number',
    doc: 'Port the broker listens on (0: any free port)',
  }),
  host: field(z.string().min(1).default('127.0.0.1'), {
    env: 'HOIST_HOST',
    doc: 'Interface the broker binds',
  }),
  sweepIntervalSeconds: seconds(
    0,
    86_400,
    300,
    'HOIST_SWEEP_INTERVAL_SECONDS',
    'How often stale uploads are swept (0: never)',
  ),
});

type Fields = z.output<typeof fields>;

/** The checks that span fields. */
function checkAcross(c: Fields, ctx: z.core.$RefinementCtx<Fields>): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (c.mode === 'sts' && !c.sts.roleArn)
    issue(['sts', 'roleArn'], 'Required when mode is "sts" (set HOIST_STS_ROLE_ARN)');
  // No tokens and no JWT is valid here: an app may bring its own authenticator (createBroker's
  // deps); createBroker refuses the config when it does not (requireAuthConfig).
  const { tokens, jwt } = c.auth;
  if (tokens && new Set(Object.values(tokens)).size !== Object.keys(tokens).length)
    issue(['auth', 'tokens'], 'two users have the same token');
  if (jwt) {
    if (Boolean(jwt.secret) === Boolean(jwt.jwksUrl)) {
      issue(['auth', 'jwt'], 'set exactly one of secret (HOIST_JWT_SECRET) and jwksUrl (HOIST_JWKS_URL)');
    } else {
      const hmac = Boolean(jwt.secret);
      jwt.algorithms?.forEach((alg, i) => {
        if (alg.startsWith('HS') !== hmac)
          issue(
            ['auth', 'jwt', 'algorithms', i],
            hmac
              ? 'a shared secret verifies only HS256/HS384/HS512'
              : 'HS* algorithms need a secret, not a JWKS',
          );
      });
    }
  }
  if (c.cors.origins.includes('*') && !c.cors.allowAnyOrigin)
    issue(
      ['cors', 'origins'],
      '"*" lets any site call the API; set cors.allowAnyOrigin: true (HOIST_CORS_ALLOW_ANY_ORIGIN=true) to allow it',
    );
}

/** `{ [key]: value }` when the value is defined, else nothing (optional fields stay absent). */
const present = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

/** The defaults that depend on other fields: path style, public and STS endpoints, JWT algorithms. */
function withDerivedDefaults({ s3, sts, auth, ...rest }: Fields) {
  const { jwt, tokens } = auth;
  return {
    ...rest,
    s3: {
      ...s3,
      forcePathStyle: s3.forcePathStyle ?? s3.endpoint !== undefined,
      ...present('publicEndpoint', s3.publicEndpoint ?? s3.endpoint),
    },
    sts: { ...sts, ...present('endpoint', sts.endpoint ?? s3.endpoint) },
    auth: {
      ...present('tokens', tokens && Object.keys(tokens).length > 0 ? tokens : undefined),
      ...present(
        'jwt',
        jwt && { ...jwt, algorithms: jwt.algorithms ?? (jwt.secret ? ['HS256'] : ['RS256', 'ES256']) },
      ),
    },
  };
}

export const brokerConfigSchema = fields.superRefine(checkAcross).transform(withDerivedDefaults);

/** The validated broker configuration, every default applied. */
export type BrokerConfig = z.output<typeof brokerConfigSchema>;
