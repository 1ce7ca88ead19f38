/**
 * The dev stack's broker: `openBroker` (the app checked against its store, the registry
 * migrated, the sweeper running), not listening itself: the web server mounts it under /api.
 */
import { resolve } from 'node:path';
import { type BrokerConfig, createLogger, openBroker, parseBrokerConfig } from '@hoist/broker';
import type { UploadMode } from '@hoist/protocol';
import type { AccessKey, DevUser } from './identity.ts';

export interface DevBrokerOptions {
  mode: UploadMode;
  /** AWS's when absent (an external store on AWS). */
  s3Endpoint?: string | undefined;
  /** The S3 endpoint when absent. */
  stsEndpoint?: string | undefined;
  region: string;
  bucket: string;
  keyPrefix: string;
  /** The SDK's default chain when absent. */
  key?: (AccessKey & { sessionToken?: string }) | undefined;
  roleArn?: string | undefined;
  /** store.acceptOverwriteRisk: sts mode on a store that cannot prevent overwrites. */
  acceptOverwriteRisk?: boolean | undefined;
  users: DevUser[];
  /** Origins of the upload page, allowed by CORS. */
  origins: string[];
  registryPath: string;
  /** limits.maxObjectSize. @default '5GiB' */
  maxObjectSize?: string | undefined;
}

export interface DevBroker {
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  config: BrokerConfig;
  close(): Promise<void>;
}

export function devBrokerConfig(options: DevBrokerOptions): BrokerConfig {
  return parseBrokerConfig({
    mode: options.mode,
    s3: {
      ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}),
      region: options.region,
      bucket: options.bucket,
      forcePathStyle: options.s3Endpoint !== undefined,
      ...(options.key ? { credentials: { ...options.key } } : {}),
    },
    sts: {
      ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
      ...(options.roleArn ? { roleArn: options.roleArn } : {}),
    },
    keyPrefix: options.keyPrefix,
    ...(options.acceptOverwriteRisk ? { store: { acceptOverwriteRisk: true } } : {}),
    // Room for real trials (a film, a dataset) without filling the disk by accident.
    limits: {
      maxObjectSize: options.maxObjectSize ?? '5GiB',
      maxConcurrentUploadsPerUser: 20,
      maxCredentialMintsPerMinute: 600,
    },
    auth: { tokens: Object.fromEntries(options.users.map((user) => [user.id, user.token])) },
    cors: { origins: options.origins },
    // The /uppy page's Companion routes, under /api/companion (the cookie works: same origin).
    uppy: { enabled: true },
    registry: { url: `sqlite:${resolve(options.registryPath)}` },
  });
}

export async function startDevBroker(options: DevBrokerOptions): Promise<DevBroker> {
  const config = devBrokerConfig(options);
  // Warnings and errors only, on stderr: stdout belongs to the banner (and to --json's one line).
  const logger = createLogger({ level: process.env.HOIST_LOG_LEVEL || 'warn', destination: process.stderr });
  // As startBroker does, without its listener: the web server mounts the app under /api.
  const { app, close } = await openBroker(config, { logger });
  return { fetch: (request, env) => app.fetch(request, env as never), config, close };
}
