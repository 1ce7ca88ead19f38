/**
 * The world of the broker benchmark, shared by the children (broker-child.ts) and the load
 * generator (bench/broker.ts). It mirrors test/helpers/broker.ts: one account, a `broker` IAM
 * user whose key may call sts:AssumeRole + sts:TagSession on the upload role (whose trust
 * policy names that user) and sts:GetFederationToken, and may do the broker's own S3 calls on
 * the key prefix; the role allows only s3:PutObject, s3:ListMultipartUploadParts and
 * s3:AbortMultipartUpload on the prefix. The broker's config turns every limit that could
 * refuse a benchmark request (open uploads per user, credential mints per minute) up to its
 * maximum; the rest (size, type, no daily quota) are the defaults.
 */
import type { BrokerConfig } from '@hoist/broker/internal/config';
import { parseBrokerConfig } from '@hoist/broker/internal/config';
import type { UploadMode } from '@hoist/protocol/internal/api';
import type { IamConfigInput } from '@hoist/server/internal/iam/config';
import { brokerIamConfig, brokerOwnStatements } from '../../test/helpers/iam-fixtures.ts';

export const ACCOUNT = '111122223333';
export const BUCKET = 'uploads';
export const PREFIX = 'files';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/hoist-upload`;
export const ROOT_CREDENTIALS = {
  accessKeyId: 'AKIAHOISTBROKERBENCHROOT',
  secretAccessKey: 'hoist-broker-bench-root-secret-0123456789',
};
export const BROKER_KEYS = {
  accessKeyId: 'AKIABROKERBENCHUSER01',
  secretAccessKey: 'broker-bench-secret-0123456789-abcdefghij',
};
export const MODES = ['sts', 'federation', 'presign'] as const satisfies readonly UploadMode[];

/**
 * Static bearer tokens of the benchmark's users. Few on purpose: the static-token check
 * compares every entry (constant time), so its cost grows with the list.
 */
export const USERS: readonly { id: string; token: string }[] = Array.from({ length: 8 }, (_, i) => ({
  id: `user${i + 1}`,
  token: `bench-token-${String(i + 1).padStart(2, '0')}-0123456789abcdef`,
}));

export const IAM_CONFIG: IamConfigInput = brokerIamConfig({
  accountId: ACCOUNT,
  accessKey: BROKER_KEYS,
  bucket: BUCKET,
  prefix: PREFIX,
  tagSession: true,
  maxSessionDuration: 3600,
  userStatements: brokerOwnStatements(BUCKET, PREFIX),
});

/** A validated broker config for `mode` against the local server at `s3Url`, registry in `registryPath`. */
export function benchBrokerConfig(mode: UploadMode, s3Url: string, registryPath: string): BrokerConfig {
  return parseBrokerConfig({
    mode,
    s3: {
      endpoint: s3Url,
      region: 'us-east-1',
      bucket: BUCKET,
      forcePathStyle: true,
      credentials: { ...BROKER_KEYS },
    },
    sts: { roleArn: ROLE_ARN, durationSeconds: 900 },
    keyPrefix: PREFIX,
    auth: { tokens: Object.fromEntries(USERS.map((u) => [u.id, u.token])) },
    limits: { maxConcurrentUploadsPerUser: 1_000_000, maxCredentialMintsPerMinute: 1_000_000 },
    registry: { url: `sqlite:${registryPath}` },
    host: '127.0.0.1',
    port: 0,
    sweepIntervalSeconds: 0,
  });
}
