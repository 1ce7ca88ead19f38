import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GiB, MiB, TiB } from '@hoist/protocol/internal/limits';
import {
  BrokerConfigError,
  CONFIG_REFERENCE,
  loadBrokerConfig,
  parseBrokerConfig,
  parseSize,
  requireAuthConfig,
} from './config.ts';

const minimal = { s3: { bucket: 'hoist-dev' }, mode: 'presign', auth: { tokens: { alice: 'tok1' } } };
const ROLE = 'arn:aws:iam::123456789012:role/hoist/uploader';

function configError(fn: () => unknown, ...expected: (string | RegExp)[]): BrokerConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof BrokerConfigError, `expected BrokerConfigError, got ${String(caught)}`);
  const lines = caught.issues.map((i) => `${i.path}: ${i.message}`);
  for (const e of expected) {
    assert.ok(
      lines.some((line) => (typeof e === 'string' ? line === e || line.startsWith(e) : e.test(line))),
      `no issue ${e} in\n${lines.join('\n')}`,
    );
  }
  return caught;
}

function tmpFile(t: { after(fn: () => void): void }, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hoist-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'broker.json');
  writeFileSync(file, content);
  return file;
}

test('defaults are applied to a minimal config', () => {
  const config = parseBrokerConfig(minimal);
  assert.equal(config.s3.region, 'us-east-1');
  assert.equal(config.s3.endpoint, undefined);
  assert.equal(config.s3.forcePathStyle, false);
  assert.equal(config.sts.durationSeconds, 900);
  assert.equal(config.sts.endpoint, undefined);
  assert.equal(config.mode, 'presign');
  assert.equal(config.federation.durationSeconds, 900);
  assert.equal(config.presign.expiresSeconds, 300);
  assert.equal(config.keyPrefix, 'uploads');
  assert.equal(config.partSize, 8 * MiB);
  assert.equal(config.singleRequestMaxSize, 8 * MiB);
  assert.equal(config.uploadTtlSeconds, 86_400);
  assert.deepEqual(config.limits, {
    maxObjectSize: 5 * TiB,
    allowedContentTypes: ['*/*'],
    maxConcurrentUploadsPerUser: 10,
    maxBytesPerUserPerDay: Infinity,
    maxCredentialMintsPerMinute: 60,
  });
  assert.deepEqual(config.cors, { origins: [], allowAnyOrigin: false });
  assert.equal(config.registry.url, 'sqlite:.hoist-data/broker.sqlite');
  assert.equal(config.webhook, undefined);
  assert.equal(config.port, 8787);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.sweepIntervalSeconds, 300);
});

test('endpoint-derived defaults: path style, public and STS endpoints', () => {
  const config = parseBrokerConfig({ ...minimal, s3: { bucket: 'b-1', endpoint: 'http://127.0.0.1:9000/' } });
  assert.equal(config.s3.endpoint, 'http://127.0.0.1:9000');
  assert.equal(config.s3.publicEndpoint, 'http://127.0.0.1:9000');
  assert.equal(config.s3.forcePathStyle, true);
  assert.equal(config.sts.endpoint, 'http://127.0.0.1:9000');
  const explicit = parseBrokerConfig({
    ...minimal,
    s3: {
      bucket: 'b-1',
      endpoint: 'http://minio:9000',
      publicEndpoint: 'https://s3.example',
      forcePathStyle: false,
    },
    sts: { endpoint: 'http://sts:9000' },
  });
  assert.equal(explicit.s3.publicEndpoint, 'https://s3.example');
  assert.equal(explicit.s3.forcePathStyle, false);
  assert.equal(explicit.sts.endpoint, 'http://sts:9000');
});

test('JWT algorithm defaults depend on the key source; none and mismatches are refused', () => {
  const secret = 's'.repeat(32);
  const hs = parseBrokerConfig({ ...minimal, auth: { jwt: { secret } } });
  assert.deepEqual(hs.auth.jwt?.algorithms, ['HS256']);
  assert.equal(hs.auth.jwt?.userClaim, 'sub');
  assert.equal(hs.auth.jwt?.clockToleranceSeconds, 30);
  assert.equal(hs.auth.tokens, undefined);
  const jwks = parseBrokerConfig({ ...minimal, auth: { jwt: { jwksUrl: 'https://idp.example/jwks' } } });
  assert.deepEqual(jwks.auth.jwt?.algorithms, ['RS256', 'ES256']);
  configError(
    () => parseBrokerConfig({ ...minimal, auth: { jwt: { secret, algorithms: ['HS256', 'none'] } } }),
    'auth.jwt.algorithms[1]: "none" is never allowed',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, auth: { jwt: { secret, algorithms: ['RS256'] } } }),
    'auth.jwt.algorithms[0]: a shared secret verifies only',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, auth: { jwt: { secret, jwksUrl: 'https://idp.example/jwks' } } }),
    'auth.jwt: set exactly one of secret',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, auth: { jwt: { jwksUrl: 'http://idp.example/jwks' } } }),
    'auth.jwt.jwksUrl: must use https',
  );
  const short = configError(
    () => parseBrokerConfig({ ...minimal, auth: { jwt: { secret: 'short-secret-value' } } }),
    'auth.jwt.secret: must be at least 32 characters',
  );
  assert.ok(!short.message.includes('short-secret-value'));
});

test('errors name the field: required bucket, enum, ranges, unknown fields, cross-field rules', () => {
  configError(() => parseBrokerConfig({ auth: minimal.auth, mode: 'presign' }), 's3.bucket: Required');
  configError(() => parseBrokerConfig({ ...minimal, s3: {} }), 's3.bucket: Required');
  configError(
    () => parseBrokerConfig({ ...minimal, mode: 'magic' }),
    'mode: must be one of sts, federation, presign',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, sts: { durationSeconds: 60 } }),
    'sts.durationSeconds: must be at least 900',
  );
  configError(() => parseBrokerConfig({ ...minimal, port: 'eighty' }), 'port: must be a number');
  configError(
    () => parseBrokerConfig({ ...minimal, s3: { bucket: 'b-1', buckt: 'x' } }),
    's3.buckt: unknown field',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, s3: { bucket: 'Bad_Bucket' } }),
    's3.bucket: must be an S3 bucket',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, mode: 'sts' }),
    'sts.roleArn: Required when mode is "sts"',
  );
  assert.equal(parseBrokerConfig({ ...minimal, mode: 'sts', sts: { roleArn: ROLE } }).sts.roleArn, ROLE);
  // No auth is valid config: createBroker refuses it unless the app brings an authenticator (app.test.ts).
  assert.deepEqual(parseBrokerConfig({ ...minimal, auth: {} }).auth, {});
  configError(
    () => parseBrokerConfig({ ...minimal, cors: { origins: ['*'] } }),
    /^cors\.origins: "\*" lets any site .*allowAnyOrigin/,
  );
  assert.deepEqual(
    parseBrokerConfig({ ...minimal, cors: { origins: ['*'], allowAnyOrigin: true } }).cors.origins,
    ['*'],
  );
  configError(
    () => parseBrokerConfig({ ...minimal, cors: { origins: ['https://app.example.com/path'] } }),
    'cors.origins[0]: must be an origin',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, webhook: { url: 'https://hooks.example', secret: 'short' } }),
    'webhook.secret: must be at least 16 characters',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, registry: { url: 'mysql://u:pw@h/db' } }),
    'registry.url: must be sqlite:<path> or postgres://',
  );
});

test('keyPrefix: ASCII, no leading/trailing slash, no IAM wildcard characters', () => {
  assert.equal(parseBrokerConfig({ ...minimal, keyPrefix: 'media/uploads' }).keyPrefix, 'media/uploads');
  for (const bad of [
    '/uploads',
    'uploads/',
    'up*loads',
    'up?',
    'a$b',
    'a//b',
    'a/../b',
    'vidéos',
    'a b',
    'a#b',
    'a:b',
    "a'b",
    '',
  ]) {
    configError(() => parseBrokerConfig({ ...minimal, keyPrefix: bad }), /^keyPrefix: /);
  }
});

test('sizes accept numbers and strings; part size in whole MiB within S3 limits', () => {
  assert.equal(parseSize('5GiB'), 5 * GiB);
  assert.equal(parseSize('500MB'), 500_000_000);
  assert.equal(parseSize('8 MiB'), 8 * MiB);
  assert.equal(parseSize('1.5KB'), 1500);
  assert.equal(parseSize('1024'), 1024);
  assert.equal(parseSize('1.5B'), undefined);
  assert.equal(parseSize('lots'), undefined);
  const config = parseBrokerConfig({
    ...minimal,
    partSize: '16MiB',
    singleRequestMaxSize: 0,
    limits: { maxObjectSize: '500MB', maxBytesPerUserPerDay: '100GiB', allowedContentTypes: ['Video/*'] },
  });
  assert.equal(config.partSize, 16 * MiB);
  assert.equal(config.singleRequestMaxSize, 0);
  assert.equal(config.limits.maxObjectSize, 500_000_000);
  assert.equal(config.limits.maxBytesPerUserPerDay, 100 * GiB);
  assert.deepEqual(config.limits.allowedContentTypes, ['video/*']);
  assert.equal(
    parseBrokerConfig({ ...minimal, limits: { maxBytesPerUserPerDay: 'unlimited' } }).limits
      .maxBytesPerUserPerDay,
    Infinity,
  );
  configError(() => parseBrokerConfig({ ...minimal, partSize: '4MiB' }), 'partSize: must be at least 5 MiB');
  configError(() => parseBrokerConfig({ ...minimal, partSize: '6GiB' }), 'partSize: must be at most 5 GiB');
  configError(
    () => parseBrokerConfig({ ...minimal, partSize: 5 * MiB + 1 }),
    'partSize: must be a whole number of MiB',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, partSize: 'big' }),
    'partSize: must be a number of bytes',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, limits: { allowedContentTypes: ['video'] } }),
    'limits.allowedContentTypes[0]: must be a media type',
  );
});

test('environment variables override the file, and errors name the variable', (t) => {
  const file = tmpFile(
    t,
    JSON.stringify({
      s3: { bucket: 'from-file', endpoint: 'http://127.0.0.1:9000' },
      mode: 'federation',
      auth: { tokens: { carol: 'file-token' } },
      port: 9999,
    }),
  );
  const config = loadBrokerConfig({
    file,
    env: {
      HOIST_S3_BUCKET: 'from-env',
      HOIST_MODE: 'sts',
      HOIST_STS_ROLE_ARN: ROLE,
      HOIST_TOKENS: 'alice:tok1, bob:tok:2',
      HOIST_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      HOIST_PART_SIZE: '16MiB',
      HOIST_MAX_BYTES_PER_DAY: '10GiB',
      HOIST_ALLOWED_CONTENT_TYPES: 'video/*,image/png',
      HOIST_S3_FORCE_PATH_STYLE: 'false',
      HOIST_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      HOIST_S3_SECRET_ACCESS_KEY: 'secret-example',
      HOIST_JWT_AUDIENCE: '',
      HOIST_PORT: '0',
      UNRELATED: 'x',
    },
  });
  assert.equal(config.s3.bucket, 'from-env');
  assert.equal(config.s3.endpoint, 'http://127.0.0.1:9000');
  assert.equal(config.s3.forcePathStyle, false);
  assert.deepEqual(config.s3.credentials, { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' });
  assert.equal(config.mode, 'sts');
  assert.equal(config.sts.roleArn, ROLE);
  assert.deepEqual(config.auth.tokens, { alice: 'tok1', bob: 'tok:2' });
  assert.deepEqual(config.cors.origins, ['https://app.example.com', 'http://localhost:5173']);
  assert.equal(config.partSize, 16 * MiB);
  assert.equal(config.limits.maxBytesPerUserPerDay, 10 * GiB);
  assert.deepEqual(config.limits.allowedContentTypes, ['video/*', 'image/png']);
  assert.equal(config.auth.jwt, undefined);
  assert.equal(config.port, 0);

  configError(
    () => loadBrokerConfig({ env: { HOIST_MODE: 'magic', HOIST_TOKENS: 'a:b' } }),
    's3.bucket: Required',
    'HOIST_MODE: must be one of sts, federation, presign',
  );
  configError(
    () => loadBrokerConfig({ env: { HOIST_S3_BUCKET: 'b-1', HOIST_MODE: 'magic', HOIST_TOKENS: 'a:b' } }),
    'HOIST_MODE: must be one of sts, federation, presign',
  );
  configError(
    () =>
      loadBrokerConfig({
        env: { HOIST_S3_BUCKET: 'b-1', HOIST_MODE: 'presign', HOIST_TOKENS: 'a:b', HOIST_PORT: 'x' },
      }),
    'HOIST_PORT: must be a number',
  );
  configError(
    () =>
      loadBrokerConfig({
        env: { HOIST_S3_BUCKET: 'b-1', HOIST_MODE: 'presign', HOIST_CORS_ORIGINS: '*', HOIST_TOKENS: 'a:b' },
      }),
    /^HOIST_CORS_ORIGINS: "\*" lets any site/,
  );
  // Without tokens or JWT the config loads; what runs it (createBroker) names what is missing.
  const noAuth = loadBrokerConfig({ env: { HOIST_S3_BUCKET: 'b-1', HOIST_MODE: 'presign' } });
  const missing = configError(() => requireAuthConfig(noAuth), /HOIST_TOKENS=/);
  assert.match(missing.message, /^Invalid broker configuration:\n {2}auth: Required/);
});

test('HOIST_CONFIG names the file; unreadable or malformed files are reported without their content', (t) => {
  const file = tmpFile(t, JSON.stringify(minimal));
  assert.equal(loadBrokerConfig({ env: { HOIST_CONFIG: file } }).s3.bucket, 'hoist-dev');
  configError(() => loadBrokerConfig({ file: `${file}.missing`, env: {} }), /cannot be read \(ENOENT\)/);
  const bad = tmpFile(t, '{"auth": {"tokens": {"alice": "super-secret-token"}}, oops}');
  const error = configError(() => loadBrokerConfig({ file: bad, env: {} }), /is not valid JSON/);
  assert.ok(!error.message.includes('super-secret-token'));
  configError(() => loadBrokerConfig({ file: tmpFile(t, '[1]'), env: {} }), /must hold a JSON object/);
});

test('secrets never appear in error messages', () => {
  const secrets = [
    'tok-very-secret',
    'AKIA-not-secret-but',
    'wJalrXUtnFEMI-secret',
    'pg-password-xyz',
    'sessiontoken-abc',
  ];
  const error = configError(
    () =>
      loadBrokerConfig({
        env: {
          HOIST_S3_BUCKET: 'b-1',
          HOIST_MODE: 'presign',
          HOIST_TOKENS: 'alice:tok-very-secret,:tok-very-secret,bob',
          HOIST_S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret',
          HOIST_S3_SESSION_TOKEN: 'sessiontoken-abc',
          HOIST_REGISTRY_URL: 'mysql://u:pg-password-xyz@h/db',
          HOIST_JWT_SECRET: 'tok-very-secret',
        },
      }),
    'HOIST_TOKENS: entry 2 must be userId:token',
    'HOIST_TOKENS: entry 3 must be userId:token',
    's3.credentials.accessKeyId: Required',
    'HOIST_REGISTRY_URL: must be sqlite:<path> or postgres://',
    'HOIST_JWT_SECRET: must be at least 32 characters',
  );
  for (const secret of secrets) assert.ok(!error.message.includes(secret), secret);
  const spaced = configError(
    () => parseBrokerConfig({ ...minimal, auth: { tokens: { alice: 'has space-secret' } } }),
    'auth.tokens.alice: tokens must be printable ASCII',
  );
  assert.ok(!spaced.message.includes('space-secret'));
  configError(
    () => parseBrokerConfig({ ...minimal, auth: { tokens: { alice: 'same', bob: 'same' } } }),
    'auth.tokens: two users have the same token',
  );
  configError(
    () => parseBrokerConfig({ ...minimal, auth: { tokens: { 'bad user': 'x' } } }),
    /^auth\.tokens\["bad user"\]/,
  );
});

test('CONFIG_REFERENCE documents every field with its variable', () => {
  const paths = CONFIG_REFERENCE.map((row) => row.path);
  assert.equal(new Set(paths).size, paths.length);
  assert.equal(new Set(CONFIG_REFERENCE.map((row) => row.env)).size, paths.length);
  for (const row of CONFIG_REFERENCE) {
    assert.match(row.env, /^HOIST_[A-Z0-9_]+$/);
    assert.ok(row.description.length > 5, row.path);
  }
  for (const path of [
    's3.bucket',
    'mode',
    'auth.tokens',
    'cors.origins',
    'registry.url',
    'webhook.secret',
    'port',
  ]) {
    assert.ok(paths.includes(path), path);
  }
  // Every reference row is a real field: setting its variable to junk is reported under that name.
  const config = parseBrokerConfig(minimal) as unknown as Record<string, unknown>;
  for (const top of Object.keys(config)) {
    assert.ok(
      paths.some((p) => p === top || p.startsWith(`${top}.`)),
      `${top} has no CONFIG_REFERENCE row`,
    );
  }
});

test('store timeouts: defaults, variables, and bounds named by field', () => {
  assert.deepEqual(parseBrokerConfig(minimal).upstream, { connectTimeoutMs: 5000, requestTimeoutMs: 15000 });
  const fromEnv = loadBrokerConfig({
    env: {
      HOIST_S3_BUCKET: 'hoist-dev',
      HOIST_MODE: 'presign',
      HOIST_UPSTREAM_CONNECT_TIMEOUT_MS: '250',
      HOIST_UPSTREAM_REQUEST_TIMEOUT_MS: '60000',
    },
  });
  assert.deepEqual(fromEnv.upstream, { connectTimeoutMs: 250, requestTimeoutMs: 60000 });
  configError(
    () => parseBrokerConfig({ ...minimal, upstream: { connectTimeoutMs: 0, requestTimeoutMs: 1e9 } }),
    'upstream.connectTimeoutMs',
    'upstream.requestTimeoutMs',
  );
  configError(() => parseBrokerConfig({ ...minimal, upstream: { socketMs: 1 } }), 'upstream');
});

test('store capabilities: auto by default, pinned from the file or HOIST_STORE_* variables, anything else refused', () => {
  const defaults = parseBrokerConfig(minimal).store;
  assert.deepEqual(defaults, {
    flexibleChecksums: 'auto',
    ifNoneMatchOnPut: 'auto',
    ifNoneMatchOnComplete: 'auto',
    conditionalWriteKeys: 'auto',
    federationToken: 'auto',
    acceptOverwriteRisk: false,
    probeTimeoutSeconds: 10,
  });
  const pinned = loadBrokerConfig({
    env: {
      HOIST_S3_BUCKET: 'b-1',
      HOIST_STS_ROLE_ARN: 'arn:aws:iam:::role/upload',
      HOIST_TOKENS: 'a:b',
      HOIST_STORE_FLEXIBLE_CHECKSUMS: 'false',
      HOIST_STORE_IF_NONE_MATCH_ON_COMPLETE: 'no',
      HOIST_STORE_CONDITIONAL_WRITE_KEYS: 'auto',
      HOIST_STORE_ACCEPT_OVERWRITE_RISK: 'true',
      HOIST_STORE_PROBE_TIMEOUT_SECONDS: '3',
    },
  }).store;
  assert.equal(pinned.flexibleChecksums, false);
  assert.equal(pinned.ifNoneMatchOnComplete, false);
  assert.equal(pinned.conditionalWriteKeys, 'auto');
  assert.equal(pinned.acceptOverwriteRisk, true);
  assert.equal(pinned.probeTimeoutSeconds, 3);
  configError(
    () => parseBrokerConfig({ ...minimal, store: { flexibleChecksums: 'maybe', probeTimeoutSeconds: 0 } }),
    'store.flexibleChecksums: must be true, false or "auto"',
    /^store\.probeTimeoutSeconds: /,
  );
});

test('part sizes read like every part size: 8MB and 8 MiB are 8 MiB; bad ones name the variable', () => {
  const env = { HOIST_S3_BUCKET: 'b-1', HOIST_MODE: 'presign' };
  assert.equal(loadBrokerConfig({ env: { ...env, HOIST_PART_SIZE: '8MB' } }).partSize, 8 * MiB);
  assert.equal(loadBrokerConfig({ env: { ...env, HOIST_PART_SIZE: '8 MiB' } }).partSize, 8 * MiB);
  assert.equal(parseBrokerConfig({ ...minimal, partSize: '100MB' }).partSize, 96 * MiB);
  // The decimal units keep their meaning everywhere else: 500MB is 500,000,000 bytes.
  assert.equal(
    loadBrokerConfig({ env: { ...env, HOIST_MAX_OBJECT_SIZE: '500 MB' } }).limits.maxObjectSize,
    5e8,
  );
  configError(
    () => loadBrokerConfig({ env: { ...env, HOIST_PART_SIZE: '8 parsecs' } }),
    'HOIST_PART_SIZE: must be a number of bytes or a size such as 8MiB, 8 MiB or 8MB',
  );
  configError(
    () => loadBrokerConfig({ env: { ...env, HOIST_SINGLE_REQUEST_MAX_SIZE: '1.5B' } }),
    'HOIST_SINGLE_REQUEST_MAX_SIZE: must be a number of bytes',
  );
});

test('fields set to undefined in code count as unset, as absent fields do in JSON', () => {
  const config = parseBrokerConfig({
    ...minimal,
    s3: { bucket: 'b-1', endpoint: undefined },
    webhook: undefined,
    auth: { tokens: { alice: 'tok1' }, jwt: undefined },
  });
  assert.equal(config.s3.endpoint, undefined);
  assert.ok(!('endpoint' in config.s3) && !('webhook' in config) && !('jwt' in config.auth));
});

test('the reference comes from the schema: defaults as the docs show them, secrets marked', () => {
  const row = (path: string) => CONFIG_REFERENCE.find((r) => r.path === path);
  assert.equal(row('partSize')?.default, '8MiB');
  assert.equal(row('limits.maxObjectSize')?.default, '5TiB');
  assert.equal(row('limits.maxBytesPerUserPerDay')?.default, 'unlimited');
  assert.equal(row('limits.allowedContentTypes')?.default, '*/*');
  assert.equal(row('store.flexibleChecksums')?.default, 'auto');
  assert.equal(row('upstream.requestTimeoutMs')?.default, '15000');
  assert.deepEqual(
    CONFIG_REFERENCE.filter((r) => r.secret).map((r) => r.path),
    [
      's3.credentials.secretAccessKey',
      's3.credentials.sessionToken',
      'auth.tokens',
      'auth.jwt.secret',
      'registry.url',
      'webhook.secret',
    ],
  );
  // Whatever a secret variable holds, a refusal never repeats it.
  const env: Record<string, string> = { HOIST_MODE: 'presign' };
  for (const { env: name } of CONFIG_REFERENCE.filter((r) => r.secret)) env[name] = `x ${name}-value`;
  const error = configError(() => loadBrokerConfig({ env }), 's3.bucket: Required');
  for (const value of Object.values(env))
    assert.ok(!error.message.includes(value) || value === 'presign', value);
});

test('flags set fields like their variables do, win over them, and are named when bad', () => {
  const env = { HOIST_S3_BUCKET: 'b-1', HOIST_MODE: 'presign', HOIST_PORT: '9000' };
  const config = loadBrokerConfig({
    env,
    flags: [
      { path: 'port', name: '--port', value: '0' },
      { path: 'host', name: '--host', value: '0.0.0.0' },
    ],
  });
  assert.deepEqual([config.port, config.host], [0, '0.0.0.0']);
  configError(
    () => loadBrokerConfig({ env, flags: [{ path: 'port', name: '--port', value: 'abc' }] }),
    '--port: must be a number',
  );
  configError(
    () => loadBrokerConfig({ env, flags: [{ path: 'port', name: '--port', value: '70000' }] }),
    '--port: must be at most 65535',
  );
  configError(
    () => loadBrokerConfig({ env, flags: [{ path: 'port', name: '--port', value: '' }] }),
    '--port:',
  );
  assert.throws(
    () => loadBrokerConfig({ env, flags: [{ path: 'nope', name: '--nope', value: '1' }] }),
    TypeError,
  );
});
