/**
 * Test helpers for the broker: a real local S3 + STS server with an IAM config that has a
 * broker user (allowed to assume the upload role and to call GetFederationToken), real
 * brokers on ephemeral ports in front of it, and a small JSON client for the API.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { BrokerDeps } from '../../src/broker/app.ts';
import { type BrokerConfig, parseBrokerConfig } from '../../src/broker/config.ts';
import { createLogger } from '../../src/broker/log.ts';
import { type RunningBroker, startBroker } from '../../src/broker/node.ts';
import type { CreateUploadResponse, TemporaryCredentials, UploadMode } from '../../src/protocol/api.ts';
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
const UPLOAD_ACTIONS = ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'];

/** The broker user may do its own S3 calls on the bucket, assume the upload role and federate. */
export const BROKER_IAM = {
  accountId: ACCOUNT,
  users: [
    {
      name: 'broker',
      accessKeys: [{ ...BROKER_KEYS }],
      policies: {
        broker: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: ROLE_ARN },
            { Effect: 'Allow', Action: 'sts:GetFederationToken', Resource: '*' },
            {
              Effect: 'Allow',
              Action: [
                's3:PutObject',
                's3:GetObject',
                's3:DeleteObject',
                's3:AbortMultipartUpload',
                's3:ListMultipartUploadParts',
              ],
              Resource: `arn:aws:s3:::${BUCKET}/${PREFIX}/*`,
            },
            {
              Effect: 'Allow',
              Action: ['s3:ListBucketMultipartUploads', 's3:ListBucket'],
              Resource: `arn:aws:s3:::${BUCKET}`,
            },
          ],
        },
      },
    },
  ],
  roles: [
    {
      name: 'hoist-upload',
      maxSessionDuration: 3600,
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/broker` },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        ],
      },
      policies: {
        uploads: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: UPLOAD_ACTIONS, Resource: `arn:aws:s3:::${BUCKET}/${PREFIX}/*` },
          ],
        },
      },
    },
  ],
};

/** A local S3 + STS server with the broker's IAM config and the bucket. */
export async function startBrokerBackend(t: Hook): Promise<TestServer> {
  const server = await startTestServer(t, { iam: BROKER_IAM });
  await server.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return server;
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
  });
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
