/**
 * Test helpers for the broker: a real local S3 + STS server with an IAM config that has a
 * broker user (allowed to assume the upload role and to call GetFederationToken), real
 * brokers on ephemeral ports in front of it, and a small JSON client for the API.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { BrokerDeps } from '@hoist/broker/internal/app';
import { type BrokerConfig, parseBrokerConfig } from '@hoist/broker/internal/config';
import { createLogger } from '@hoist/broker/internal/log';
import { type RunningBroker, startBroker } from '@hoist/broker/internal/node';
import type {
  CompletedPart,
  CreateUploadResponse,
  PartUrlsResponse,
  TemporaryCredentials,
  UploadMode,
} from '@hoist/protocol/internal/api';
import { crc32c } from '@hoist/server/internal/checksum/crc32c';
import { brokerIamConfig, brokerOwnStatements } from './iam-fixtures.ts';
import { type RawResponse, sendRaw } from './raw.ts';
import { type Hook, startTestServer, type TestServer } from './server.ts';

export const ACCOUNT = '111122223333';
export const BUCKET = 'uploads';
export const PREFIX = 'files';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/hoist-upload`;
export const BROKER_KEYS = Object.freeze({
  accessKeyId: 'AKIABROKERUSER000001',
  secretAccessKey: 'broker-secret-0123456789-abcdefghijklmn',
});
export const TOKENS = Object.freeze({ alice: 'alice-token-0123456789', bob: 'bob-token-0123456789' });
export const MiB = 1024 * 1024;
/** Limits of the end-to-end brokers: room for every scenario, 64 MiB to test "too large" against. */
export const E2E_LIMITS = Object.freeze({
  maxObjectSize: '64MiB',
  maxConcurrentUploadsPerUser: 100,
  maxCredentialMintsPerMinute: 1000,
});

/** The broker user may do its own S3 calls on the bucket, assume the upload role and federate. */
export const BROKER_IAM = brokerIamConfig({
  accountId: ACCOUNT,
  accessKey: BROKER_KEYS,
  bucket: BUCKET,
  prefix: PREFIX,
  tagSession: true,
  maxSessionDuration: 3600,
  userStatements: brokerOwnStatements(BUCKET, PREFIX),
});

/** A local S3 + STS server with the broker's IAM config and the bucket. */
export async function startBrokerBackend(t: Hook): Promise<TestServer> {
  const server = await startTestServer(t, { iam: BROKER_IAM });
  await server.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return server;
}

/**
 * The `s3` section of a broker that calls `server` directly while its clients (presigned URLs,
 * the create answer's endpoint) reach S3 through `publicEndpoint`, such as a fault proxy.
 */
export function s3Through(server: TestServer, publicEndpoint: string) {
  return {
    endpoint: server.url,
    publicEndpoint,
    region: server.region,
    bucket: BUCKET,
    forcePathStyle: true,
    credentials: { ...BROKER_KEYS },
  };
}

/** A validated config pointing at `server` (memory registry, any port, no sweeper). */
export function brokerConfig(
  server: TestServer,
  mode: UploadMode,
  overrides: Record<string, unknown> = {},
): BrokerConfig {
  return parseBrokerConfig({
    mode,
    s3: {
      endpoint: server.url,
      region: server.region,
      bucket: BUCKET,
      forcePathStyle: true,
      credentials: { ...BROKER_KEYS },
    },
    sts: { roleArn: ROLE_ARN, durationSeconds: 900 },
    keyPrefix: PREFIX,
    partSize: '5MiB',
    singleRequestMaxSize: '5MiB',
    auth: { tokens: { ...TOKENS } },
    registry: { url: 'sqlite::memory:' },
    port: 0,
    sweepIntervalSeconds: 0,
    ...overrides,
    // The longest probe bound unless a test sets one: on a loaded CI machine a fsync can take
    // seconds, and tests time nothing.
    store: { probeTimeoutSeconds: 60, ...(overrides.store as object | undefined) },
  });
}

/**
 * A broker config file (JSON) pointing at `server`, as `hoist broker --config` and the Lambda
 * entry read it: the raw form, before validation, with `overrides` merged at the top level.
 */
export async function writeBrokerConfigFile(
  path: string,
  server: TestServer,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  await writeFile(
    path,
    JSON.stringify({
      mode: 'sts',
      s3: { endpoint: server.url, region: server.region, bucket: BUCKET, credentials: BROKER_KEYS },
      sts: { roleArn: ROLE_ARN },
      keyPrefix: PREFIX,
      auth: { tokens: TOKENS },
      ...overrides,
    }),
  );
  return path;
}

/** A broker logger whose JSON lines the test can read (warnings the broker logs at start, …). */
export function captureLogger(): {
  lines: Record<string, unknown>[];
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

export interface TestBroker extends RunningBroker {
  api: Api;
}

export async function startTestBroker(
  t: Hook,
  config: BrokerConfig,
  deps: BrokerDeps = {},
): Promise<TestBroker> {
  const broker = await startBroker(config, { logger: createLogger({ level: 'silent' }), ...deps });
  t.after(() => broker.close());
  return { ...broker, api: apiClient(broker.url) };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely
export type Api = <T = any>(
  user: keyof typeof TOKENS | null,
  method: string,
  path: string,
  body?: unknown,
) => Promise<ApiResponse<T>>;

export function apiClient(base: string): Api {
  return async (user, method, path, body) => {
    const headers: Record<string, string> = {};
    if (user) headers.authorization = `Bearer ${TOKENS[user]}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      headers: res.headers,
      body: type.includes('json') && text ? JSON.parse(text) : text,
    };
  };
}

/** An S3 client as the browser engine would have it: the issued credentials and endpoint. */
export function clientFor(
  created: CreateUploadResponse,
  credentials: TemporaryCredentials | undefined = created.credentials,
): S3Client {
  if (!credentials) throw new Error('no credentials in this mode');
  return new S3Client({
    endpoint: created.endpoint,
    region: created.region,
    forcePathStyle: created.forcePathStyle,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    maxAttempts: 1,
  });
}

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export const crc32cBase64 = (data: Uint8Array): string => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(data) >>> 0);
  return out.toString('base64');
};

/** A copy fetch's types accept as a body. */
export const bytes = (data: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(data);

/** `POST /uploads` as `user`, which must answer 201. */
export async function createUpload(
  api: Api,
  body: Record<string, unknown>,
  user: keyof typeof TOKENS = 'alice',
): Promise<CreateUploadResponse> {
  const res = await api<CreateUploadResponse>(user, 'POST', '/uploads', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/**
 * Sends every part the way the engine would in the upload's mode (the SDK with the issued
 * credentials, or fetch with part URLs asked of `api` as alice); returns what `complete` needs.
 */
export async function uploadParts(
  api: Api,
  created: CreateUploadResponse,
  data: Buffer,
): Promise<CompletedPart[]> {
  const slices = Array.from({ length: created.partCount }, (_, i) =>
    data.subarray(i * created.partSize, Math.min(data.length, (i + 1) * created.partSize)),
  );
  if (created.mode === 'presign') {
    const checksums = Object.fromEntries(slices.map((s, i) => [String(i + 1), crc32cBase64(s)]));
    const res = await api<PartUrlsResponse>('alice', 'POST', `/uploads/${created.id}/parts`, {
      partNumbers: slices.map((_, i) => i + 1),
      checksums,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const parts: CompletedPart[] = [];
    for (const part of res.body.parts) {
      assert.doesNotMatch(part.url, /X-Amz-Security-Token/);
      const body = slices[part.partNumber - 1]!;
      const put = await fetch(part.url, { method: 'PUT', headers: part.headers, body: bytes(body) });
      assert.equal(put.status, 200, await put.text());
      parts.push({
        partNumber: part.partNumber,
        etag: put.headers.get('etag')!,
        checksum: checksums[part.partNumber]!,
      });
    }
    return parts;
  }
  const s3 = clientFor(created);
  try {
    const parts: CompletedPart[] = [];
    for (const [i, body] of slices.entries()) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: created.bucket,
          Key: created.key,
          UploadId: created.uploadId!,
          PartNumber: i + 1,
          Body: body,
          ChecksumAlgorithm: 'CRC32C',
        }),
      );
      parts.push({ partNumber: i + 1, etag: out.ETag!, checksum: out.ChecksumCRC32C! });
    }
    return parts;
  } finally {
    s3.destroy();
  }
}

/**
 * A PutObject signed with the issued credentials that carries exactly `headers` (plus what
 * SigV4 adds), as an engine sends `putHeaders`: the SDK would add and rename headers of its own.
 */
export function putWithCredentials(
  created: CreateUploadResponse,
  data: Buffer,
  headers: Record<string, string>,
): Promise<RawResponse> {
  const credentials = created.credentials;
  if (!credentials) throw new Error('no credentials in this mode');
  return sendRaw({
    url: created.endpoint,
    method: 'PUT',
    path: `/${created.bucket}/${created.key}`,
    headers: { ...headers, 'content-length': String(data.length) },
    body: data,
    credentials,
    region: created.region,
  });
}

/**
 * Sends a single-request upload: the presigned PUT, or a PutObject with the issued credentials
 * carrying `putHeaders` and the file's CRC32C (with `contentType` instead of the declared one,
 * to play a client that lies).
 */
export async function uploadSingle(
  created: CreateUploadResponse,
  data: Buffer,
  contentType: string,
): Promise<void> {
  if (created.mode === 'presign') {
    const put = created.putRequest!;
    const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes(data) });
    assert.equal(res.status, 200, await res.text());
    return;
  }
  assert.ok(created.putHeaders, 'single-request uploads come with putHeaders');
  assert.equal(created.checksumAlgorithm, 'CRC32C');
  const res = await putWithCredentials(created, data, {
    ...created.putHeaders,
    'content-type': contentType,
    'x-amz-checksum-crc32c': crc32cBase64(data),
  });
  assert.equal(res.status, 200, res.body);
}

/** The bytes stored at `key` in the test bucket. */
export async function storedBytes(s3: S3Client, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Keys of the multipart uploads open under the broker's prefix. */
export async function openMultipartKeys(s3: S3Client): Promise<string[]> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${PREFIX}/` }));
  return (out.Uploads ?? []).map((u) => u.Key!);
}
