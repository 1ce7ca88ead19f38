/**
 * What `setup` and `doctor` share: the broker config seen as a deployment (bucket, prefix, role,
 * partition), and two sets of AWS SDK clients: the operator's (who inspects and changes IAM
 * and the bucket; the SDK's default credentials, or the local server's root keys) and the
 * broker's (the config's credentials, used for the live checks exactly as the broker calls).
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../broker/aws.ts';
import type { BrokerConfig } from '../../broker/config.ts';
import { describeStoreError, normaliseQueryErrors } from '../../broker/store-errors.ts';
import {
  DEFAULT_STORE_TIMEOUTS,
  failFastOnTimeout,
  type StoreTimeouts,
  storeRequestHandler,
} from '../../broker/store-timeouts.ts';
import { parseRoleArn, partitionOf, type Scope } from './policies.ts';

export interface Deployment extends Required<Scope> {
  config: BrokerConfig;
  region: string;
  /** The upload role (sts mode). */
  role?: { arn: string; name: string; account: string };
}

/** The bucket, prefix and partition alone: what `policy`, `cors` and `lifecycle` need (no role ARN). */
export function scopeOf(config: BrokerConfig): Required<Scope> {
  return {
    bucket: config.s3.bucket,
    prefix: config.keyPrefix,
    partition: partitionOf(config.s3.region, config.sts.roleArn),
  };
}

export function deploymentOf(config: BrokerConfig): Deployment {
  const deployment: Deployment = {
    config,
    bucket: config.s3.bucket,
    prefix: config.keyPrefix,
    region: config.s3.region,
    partition: partitionOf(config.s3.region, config.sts.roleArn),
  };
  if (config.mode === 'sts' && config.sts.roleArn) {
    const role = parseRoleArn(config.sts.roleArn);
    if (!role) throw new TypeError(`sts.roleArn must be an IAM role ARN, got "${config.sts.roleArn}"`);
    deployment.role = { arn: config.sts.roleArn, name: role.name, account: role.account };
  }
  return deployment;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The operator's clients. */
export interface AdminClients {
  iam: IAMClient;
  s3: S3Client;
  sts: STSClient;
}

export interface ClientOptions {
  /** One endpoint for S3, STS and IAM (the local server); AWS's endpoints when absent. */
  endpoint?: string | undefined;
  region: string;
  /** The SDK's default chain when absent. */
  credentials?: Credentials | undefined;
  /** Connect and request timeouts (the broker config's `upstream`). @default DEFAULT_STORE_TIMEOUTS */
  timeouts?: StoreTimeouts | undefined;
}

export function createAdminClients(options: ClientOptions): AdminClients {
  const common = {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: 3,
    requestHandler: storeRequestHandler(options.timeouts ?? DEFAULT_STORE_TIMEOUTS),
  };
  const clients = {
    // IAM is global: its signing region is us-east-1 (cn-north-1 / us-gov-west-1 in those partitions).
    iam: new IAMClient({ ...common, region: iamRegion(options.region) }),
    s3: new S3Client({ ...common, forcePathStyle: Boolean(options.endpoint) }),
    sts: new STSClient(common),
  };
  for (const client of [clients.iam, clients.s3, clients.sts]) failFastOnTimeout(client);
  // S3-compatible stores (Ceph RGW) answer IAM and STS errors in S3's XML format.
  normaliseQueryErrors(clients.iam);
  normaliseQueryErrors(clients.sts);
  return clients;
}

function iamRegion(region: string): string {
  if (region.startsWith('cn-')) return 'cn-north-1';
  if (region.startsWith('us-gov-')) return 'us-gov-west-1';
  return 'us-east-1';
}

export function destroyAdminClients(clients: AdminClients): void {
  clients.iam.destroy();
  clients.s3.destroy();
  clients.sts.destroy();
}

/** The broker's own clients, from its config (endpoint, region, credentials). */
export function createBrokerClients(config: BrokerConfig): AwsClients {
  return createAwsClients(config);
}

export { destroyAwsClients as destroyBrokerClients };

/**
 * The store's error code (`NoSuchEntity`, `AccessDenied`, …), HTTP status and message. An
 * error the SDK could not parse ("UnknownError") is named by its body's code or its status.
 */
export function awsError(error: unknown): { name: string; status: number | undefined; message: string } {
  const { code, status, message } = describeStoreError(error);
  return { name: code, status, message: message || code };
}

/** IAM's NoSuchEntity (the SDK names it NoSuchEntityException; other stores may send only a 404). */
export function isNoSuchEntity(error: unknown): boolean {
  const { name, status } = awsError(error);
  return (
    name === 'NoSuchEntity' || name === 'NoSuchEntityException' || (status === 404 && name === 'NotFound')
  );
}

/** Deep equality of JSON values, object keys in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** IAM returns policy documents percent-encoded. */
export function decodePolicyDocument(text: string | undefined): unknown {
  if (!text) return undefined;
  const decoded = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  return JSON.parse(decoded);
}
