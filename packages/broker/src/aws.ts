/**
 * The broker's AWS SDK v3 clients, built from configuration only, so the same code talks
 * to AWS, to an S3-compatible cluster or to Hoist's local S3 + STS server.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type ListPartsCommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  AssumeRoleCommand,
  type Credentials,
  GetFederationTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import type { ChecksumAlgorithm, TemporaryCredentials } from '@hoist/protocol';
import { normaliseQueryErrors } from './store-errors.ts';
import {
  DEFAULT_STORE_TIMEOUTS,
  failFastOnTimeout,
  type StoreTimeouts,
  storeRequestHandler,
} from './store-timeouts.ts';
import { directCalls, type UpstreamCalls } from './upstream/calls.ts';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** The S3 part of the broker config (see config.ts). */
export interface S3Settings {
  /** The endpoint the broker calls; AWS's regional endpoint when absent. */
  endpoint?: string | undefined;
  /** The endpoint clients use (presigned URLs, `endpoint` in responses); `endpoint` when absent. */
  publicEndpoint?: string | undefined;
  region: string;
  bucket: string;
  forcePathStyle?: boolean | undefined;
  /** The default provider chain (env, role, …) when absent. */
  credentials?: StaticCredentials | undefined;
}

export interface StsSettings {
  /** The S3 endpoint when absent and S3 has one (local servers serve both); AWS's otherwise. */
  endpoint?: string | undefined;
  roleArn?: string | undefined;
  durationSeconds: number;
  externalId?: string | undefined;
}

export interface AwsClients {
  /** Calls made by the broker itself (CreateMultipartUpload, ListParts, HeadObject, …). */
  s3: S3Client;
  /** Signs URLs for clients: same credentials, addressed at the public endpoint. */
  presigner: S3Client;
  sts: STSClient;
  /** The two per-upload calls (CreateMultipartUpload, AssumeRole/GetFederationToken). */
  calls: UpstreamCalls;
}

function copy(credentials: StaticCredentials): {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
} {
  // A copy: the SDK writes bookkeeping fields into the credentials object it is given.
  const out: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
  };
  if (credentials.sessionToken) out.sessionToken = credentials.sessionToken;
  return out;
}

function s3Client(s3: S3Settings, endpoint: string | undefined, timeouts: StoreTimeouts): S3Client {
  const client = new S3Client({
    region: s3.region,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: s3.forcePathStyle ?? false,
    ...(s3.credentials ? { credentials: copy(s3.credentials) } : {}),
    // The broker decides checksums itself; the SDK must not add its own to presigned URLs.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: storeRequestHandler(timeouts),
    // One middleware chain per command type, built once (all middleware is added below, at
    // construction): not rebuilt for every call.
    cacheMiddleware: true,
  });
  failFastOnTimeout(client);
  return client;
}

export function createAwsClients(config: {
  s3: S3Settings;
  sts: StsSettings;
  /** Connect and request timeouts of every call. @default DEFAULT_STORE_TIMEOUTS */
  upstream?: StoreTimeouts | undefined;
}): AwsClients {
  const { s3, sts } = config;
  const timeouts = config.upstream ?? DEFAULT_STORE_TIMEOUTS;
  const stsEndpoint = sts.endpoint ?? s3.endpoint;
  const stsClient = new STSClient({
    region: s3.region,
    ...(stsEndpoint ? { endpoint: stsEndpoint } : {}),
    ...(s3.credentials ? { credentials: copy(s3.credentials) } : {}),
    maxAttempts: 3,
    requestHandler: storeRequestHandler(timeouts),
    cacheMiddleware: true,
  });
  failFastOnTimeout(stsClient);
  normaliseQueryErrors(stsClient);
  const s3ForBroker = s3Client(s3, s3.endpoint, timeouts);
  return {
    s3: s3ForBroker,
    presigner: s3Client(s3, s3.publicEndpoint ?? s3.endpoint, timeouts),
    sts: stsClient,
    calls: directCalls({
      s3,
      stsEndpoint,
      // The SDK's resolved provider (static keys, or its chain, cached and refreshed there).
      identity: () => s3ForBroker.config.credentials(),
      timeouts,
    }),
  };
}

/**
 * An S3 client on temporary upload credentials, as a browser would use them: one attempt per
 * call, no checksums the broker did not ask for. For the probe and `hoist aws doctor`.
 */
export function sessionS3Client(
  s3: { region: string; endpoint?: string | undefined; forcePathStyle?: boolean | undefined },
  credentials: TemporaryCredentials,
  timeouts?: StoreTimeouts,
): S3Client {
  return new S3Client({
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    forcePathStyle: s3.forcePathStyle ?? false,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    ...(timeouts ? { requestHandler: storeRequestHandler(timeouts) } : {}),
  });
}

/** The S3 endpoint clients talk to, as reported in `CreateUploadResponse.endpoint`. */
export function publicEndpoint(s3: S3Settings): string {
  const explicit = s3.publicEndpoint ?? s3.endpoint;
  if (explicit) return explicit.replace(/\/+$/, '');
  return s3.region.startsWith('cn-')
    ? `https://s3.${s3.region}.amazonaws.com.cn`
    : `https://s3.${s3.region}.amazonaws.com`;
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.presigner.destroy();
  clients.sts.destroy();
  clients.calls.close();
}

// ---- calls the lifecycle makes --------------------------------------------------------------

/** A part as S3 lists it. */
export interface ListedPart {
  partNumber: number;
  size: number;
  etag: string;
  checksum?: string;
}

/** Every part of a multipart upload (all pages of ListParts); undefined when S3 has no such upload. */
export async function listAllParts(
  s3: S3Client,
  input: { bucket: string; key: string; uploadId: string; algorithm: ChecksumAlgorithm; pageSize?: number },
): Promise<ListedPart[] | undefined> {
  const parts: ListedPart[] = [];
  let marker: string | undefined;
  const pageSize = input.pageSize ?? 1000;
  // 10,000 parts at `pageSize` a page: a few more pages than that means S3 is misbehaving.
  const maxPages = Math.ceil(10_000 / pageSize) + 2;
  for (let page = 0; page < maxPages; page++) {
    let out: ListPartsCommandOutput;
    try {
      out = await s3.send(
        new ListPartsCommand({
          Bucket: input.bucket,
          Key: input.key,
          UploadId: input.uploadId,
          MaxParts: pageSize,
          ...(marker ? { PartNumberMarker: marker } : {}),
        }),
      );
    } catch (error) {
      if (errorName(error) === 'NoSuchUpload') return undefined;
      throw error;
    }
    for (const part of out.Parts ?? []) {
      const listed: ListedPart = {
        partNumber: part.PartNumber ?? 0,
        size: part.Size ?? 0,
        etag: part.ETag ?? '',
      };
      const checksum = part[CHECKSUM_FIELD[input.algorithm]];
      if (checksum) listed.checksum = checksum;
      parts.push(listed);
    }
    if (!out.IsTruncated) return parts;
    marker = out.NextPartNumberMarker;
    if (!marker) throw new Error('ListParts: truncated page without NextPartNumberMarker');
  }
  throw new Error('ListParts: too many pages');
}

/** The SDK's field for each algorithm's checksum (on parts, objects and requests alike). */
export const CHECKSUM_FIELD = {
  CRC32: 'ChecksumCRC32',
  CRC32C: 'ChecksumCRC32C',
  CRC64NVME: 'ChecksumCRC64NVME',
  SHA1: 'ChecksumSHA1',
  SHA256: 'ChecksumSHA256',
} as const satisfies Record<ChecksumAlgorithm, string>;

export interface ObjectHead {
  size: number;
  contentType: string | undefined;
  etag: string | undefined;
  checksum: string | undefined;
}

/** HeadObject with checksums; undefined when there is no object. */
export async function headObject(
  s3: S3Client,
  input: { bucket: string; key: string; algorithm: ChecksumAlgorithm },
): Promise<ObjectHead | undefined> {
  try {
    const out = await s3.send(
      new HeadObjectCommand({ Bucket: input.bucket, Key: input.key, ChecksumMode: 'ENABLED' }),
    );
    return {
      size: out.ContentLength ?? -1,
      contentType: out.ContentType,
      etag: out.ETag,
      checksum: out[CHECKSUM_FIELD[input.algorithm]],
    };
  } catch (error) {
    if (errorName(error) === 'NotFound' || httpStatus(error) === 404) return undefined;
    throw error;
  }
}

/** Aborts a multipart upload; one that is already gone is fine. */
export async function abortQuietly(s3: S3Client, input: { bucket: string; key: string; uploadId: string }) {
  try {
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: input.bucket, Key: input.key, UploadId: input.uploadId }),
    );
  } catch (error) {
    if (errorName(error) !== 'NoSuchUpload') throw error;
  }
}

export async function deleteObject(s3: S3Client, input: { bucket: string; key: string }): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: input.bucket, Key: input.key }));
}

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

// ---- credentials --------------------------------------------------------------------------

export interface MintInput {
  mode: 'sts' | 'federation';
  /** Session policy JSON (see session-policy.ts). */
  policy: string;
  userId: string;
  id: string;
  durationSeconds: number;
  roleArn?: string | undefined;
  externalId?: string | undefined;
}

/** STS session names allow `[\w+=,.@-]`; anything else becomes `_`. */
export function sessionName(userId: string, id: string, max: number): string {
  const user = userId.replace(/[^\w+=,.@-]/g, '_').slice(0, Math.max(0, max - id.length - 1));
  return user ? `${user}.${id}` : id;
}

export async function mintCredentials(sts: STSClient, input: MintInput): Promise<TemporaryCredentials> {
  let out: { Credentials?: Credentials | undefined };
  if (input.mode === 'sts') {
    if (!input.roleArn) throw new TypeError('sts.roleArn is required in sts mode');
    out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: input.roleArn,
        RoleSessionName: sessionName(input.userId, input.id, 64),
        Policy: input.policy,
        DurationSeconds: input.durationSeconds,
        ...(input.externalId ? { ExternalId: input.externalId } : {}),
      }),
    );
  } else {
    out = await sts.send(
      new GetFederationTokenCommand({
        Name: sessionName(input.userId, input.id, 32),
        Policy: input.policy,
        DurationSeconds: input.durationSeconds,
      }),
    );
  }
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
    throw new Error('STS answered without complete credentials');
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration.toISOString(),
  };
}
