/**
 * `hoist dev` against a store of one's own (AWS, Ceph RGW, MinIO, …) instead of the local
 * server: where it is, the broker's credentials for it, the bucket and the upload role, from
 * flags or `HOIST_DEV_*` variables (never the broker's `HOIST_S3_*`, so a shell set up for a
 * real broker does not silently turn `npm start` into a run against production). Credentials
 * come from the environment only, never flags (they would show in `ps`).
 *
 * Nothing is created on such a store: the bucket, its CORS, and in sts mode the role must
 * exist (`hoist aws setup` can make them); `checkExternalStore` says at start what is missing.
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createAwsClients, describeStoreError, destroyAwsClients, storeAnswer } from '@hoist/broker';
import type { UploadMode } from '@hoist/protocol';
import { UsageError } from '../broker-args.ts';

export interface ExternalStore {
  /** S3 endpoint URL; AWS's regional endpoint when absent. */
  s3Endpoint?: string;
  /** STS endpoint URL; the S3 endpoint when absent (one-endpoint stores), else AWS's. */
  stsEndpoint?: string;
  region: string;
  bucket: string;
  /** The upload role (required in sts mode). */
  roleArn?: string;
  /** The broker's keys; the AWS SDK's default chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Run sts/federation mode on a store that cannot prevent overwrites (store.acceptOverwriteRisk). */
  acceptOverwriteRisk?: boolean;
}

/** Flags of the external store, in `hoist dev --help`. */
export const EXTERNAL_STORE_HELP = `Against a store of your own instead of the local server (AWS, Ceph RGW, MinIO…):
  --s3-endpoint URL   its S3 endpoint (HOIST_DEV_S3_ENDPOINT; default: AWS)
  --sts-endpoint URL  its STS endpoint (HOIST_DEV_STS_ENDPOINT; default: the S3 endpoint, else AWS)
  --bucket NAME       the bucket uploads go to (HOIST_DEV_BUCKET); selects this mode
  --role-arn ARN      the upload role, required in sts mode (HOIST_DEV_ROLE_ARN)
  --region R          default us-east-1 (HOIST_DEV_REGION)
  The broker's keys come from HOIST_DEV_ACCESS_KEY_ID, HOIST_DEV_SECRET_ACCESS_KEY and
  HOIST_DEV_SESSION_TOKEN (else the AWS SDK's default chain). Nothing is created there: the
  bucket (with CORS allowing the page's origin, e.g. http://127.0.0.1:8080, and exposing
  ETag) and, in sts mode, the role the keys may assume must exist (hoist aws setup makes them).
  The broker probes the store at start; sts mode on a store that cannot prevent overwrites
  (e.g. Ceph RGW) stops with the reason unless HOIST_DEV_ACCEPT_OVERWRITE_RISK=true.
`;

/** Every variable `hoist dev` reads for an external store. */
export const EXTERNAL_STORE_VARIABLES = [
  'HOIST_DEV_S3_ENDPOINT',
  'HOIST_DEV_STS_ENDPOINT',
  'HOIST_DEV_BUCKET',
  'HOIST_DEV_ROLE_ARN',
  'HOIST_DEV_REGION',
  'HOIST_DEV_ACCESS_KEY_ID',
  'HOIST_DEV_SECRET_ACCESS_KEY',
  'HOIST_DEV_SESSION_TOKEN',
  'HOIST_DEV_ACCEPT_OVERWRITE_RISK',
] as const;

export const EXTERNAL_STORE_OPTIONS = {
  's3-endpoint': { type: 'string' },
  'sts-endpoint': { type: 'string' },
  bucket: { type: 'string' },
  'role-arn': { type: 'string' },
  region: { type: 'string' },
} as const;

function endpoint(flag: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash)
    throw new UsageError(`${flag} must be an http(s) URL without query or fragment, got "${value}"`);
  if (url.username || url.password) throw new UsageError(`${flag} must not contain a user or password`);
  return value.replace(/\/+$/, '');
}

/** The external store the flags and variables describe; undefined when none (the local server). */
export function externalStoreFrom(
  values: { [K in keyof typeof EXTERNAL_STORE_OPTIONS]?: string | undefined },
  env: NodeJS.ProcessEnv,
  mode: UploadMode,
): ExternalStore | undefined {
  const pick = (flag: keyof typeof EXTERNAL_STORE_OPTIONS, variable: string) =>
    values[flag] ?? (env[variable] || undefined);
  const s3Endpoint = endpoint('--s3-endpoint', pick('s3-endpoint', 'HOIST_DEV_S3_ENDPOINT'));
  const stsEndpoint = endpoint('--sts-endpoint', pick('sts-endpoint', 'HOIST_DEV_STS_ENDPOINT'));
  const bucket = pick('bucket', 'HOIST_DEV_BUCKET');
  const roleArn = pick('role-arn', 'HOIST_DEV_ROLE_ARN');
  const region = pick('region', 'HOIST_DEV_REGION') ?? 'us-east-1';
  if (bucket === undefined) {
    if (s3Endpoint || stsEndpoint || roleArn)
      throw new UsageError('--bucket (or HOIST_DEV_BUCKET) is required with an external store');
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new UsageError(`--bucket must be an S3 bucket name, got "${bucket}"`);
  if (!/^[a-z0-9-]{1,32}$/.test(region))
    throw new UsageError(`--region must be a region name, got "${region}"`);
  if (mode === 'sts' && !roleArn)
    throw new UsageError('--role-arn (or HOIST_DEV_ROLE_ARN) is required in sts mode; or use --mode presign');
  if (roleArn !== undefined && !roleArn.startsWith('arn:'))
    throw new UsageError(`--role-arn must be a role ARN (arn:…), got "${roleArn}"`);
  const accessKeyId = env.HOIST_DEV_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.HOIST_DEV_SECRET_ACCESS_KEY || undefined;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey))
    throw new UsageError('set both HOIST_DEV_ACCESS_KEY_ID and HOIST_DEV_SECRET_ACCESS_KEY, or neither');
  const store: ExternalStore = { region, bucket };
  const risk = env.HOIST_DEV_ACCEPT_OVERWRITE_RISK;
  if (risk !== undefined && risk !== '' && risk !== 'true' && risk !== 'false')
    throw new UsageError(`HOIST_DEV_ACCEPT_OVERWRITE_RISK must be true or false, got "${risk}"`);
  if (risk === 'true') store.acceptOverwriteRisk = true;
  if (s3Endpoint) store.s3Endpoint = s3Endpoint;
  if (stsEndpoint) store.stsEndpoint = stsEndpoint;
  if (roleArn) store.roleArn = roleArn;
  if (accessKeyId && secretAccessKey) {
    store.credentials = { accessKeyId, secretAccessKey };
    if (env.HOIST_DEV_SESSION_TOKEN) store.credentials.sessionToken = env.HOIST_DEV_SESSION_TOKEN;
  }
  return store;
}

/** The store cannot be used as given: the message says what it answered. */
export class ExternalStoreError extends Error {
  override readonly name = 'ExternalStoreError';
  readonly code = 'external-store';
}

/** One HeadBucket with the broker's keys, so a wrong endpoint, key or bucket fails at start, plainly. */
export async function checkExternalStore(store: ExternalStore): Promise<void> {
  const clients = createAwsClients({
    s3: {
      ...(store.s3Endpoint ? { endpoint: store.s3Endpoint } : {}),
      region: store.region,
      bucket: store.bucket,
      forcePathStyle: store.s3Endpoint !== undefined,
      ...(store.credentials ? { credentials: store.credentials } : {}),
    },
    sts: { durationSeconds: 900 },
    upstream: { connectTimeoutMs: 5_000, requestTimeoutMs: 10_000 },
  });
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: store.bucket }));
  } catch (error) {
    throw new ExternalStoreError(
      `bucket ${store.bucket} at ${store.s3Endpoint ?? `AWS (${store.region})`}: ${storeAnswer(describeStoreError(error))}`,
    );
  } finally {
    destroyAwsClients(clients);
  }
}
