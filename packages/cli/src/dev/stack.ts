/**
 * `hoist dev`'s stack in one process: the local S3 + STS server and its dev bucket, the
 * web server (page, bundles, config, and the broker under /api), the broker's IAM identity
 * set up through the IAM API, and the broker. Layout of the data directory:
 *
 * ```text
 * <data-dir>/s3/                 the local server's objects, metadata, IAM and root keys
 * <data-dir>/broker.sqlite       the broker's upload registry
 * <data-dir>/dev-identity.json   dev users' tokens and the broker's access key (0600)
 * <data-dir>/web/                the page's bundles, rebuilt at every start
 * ```
 *
 * `close()` stops the web server, then the broker, then the S3 server; it may be called at
 * any point of `start()` (Ctrl-C while starting), which then stops with StackStoppedError.
 */
import { join, resolve } from 'node:path';
import type { UploadMode } from '@hoist/protocol';
import type { CorsRule } from '@hoist/server';
import { type RunningServer, startServer } from '@hoist/server';
import { EXPOSED_HEADERS } from '../aws/cors.ts';
import { buildAssets } from './assets.ts';
import { type DevBroker, type DevBrokerOptions, startDevBroker } from './broker.ts';
import { checkExternalStore, type ExternalStore } from './external-store.ts';
import { setupBrokerIdentity } from './iam-setup.ts';
import { type DevUser, loadIdentity, saveIdentity } from './identity.ts';
import type { DevOptions } from './options.ts';
import { isAddressInUse, PortInUseError } from './ports.ts';
import { API_PREFIX, startWebServer, type WebServer } from './web-server.ts';

export const DEV_BUCKET = 'hoist-dev';
export const DEV_KEY_PREFIX = 'uploads';

/** Local pages may upload straight to the bucket and read what the engine needs from answers (Date: clock skew). */
export const DEV_BUCKET_CORS: CorsRule[] = [
  {
    allowedOrigins: ['http://localhost:*', 'http://127.0.0.1:*'],
    allowedMethods: ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'],
    allowedHeaders: ['*'],
    exposeHeaders: [...EXPOSED_HEADERS],
    maxAgeSeconds: 3000,
  },
];

/** What `hoist dev --json` prints. */
export interface DevStackInfo {
  web: string;
  broker: string;
  mode: UploadMode;
  dataDir: string;
  /** The local server with its root keys; or an external store (`external: true`), whose keys are never printed. */
  s3:
    | { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string }
    | { endpoint: string; region: string; bucket: string; external: true };
  users: DevUser[];
  /** Why the page's bundles did not build (the rest of the stack runs). */
  buildError?: string;
}

export class StackStoppedError extends Error {
  override readonly name = 'StackStoppedError';
  readonly code = 'stack-stopped';
}

export class DevStack {
  #s3: RunningServer | undefined;
  #web: WebServer | undefined;
  #broker: DevBroker | undefined;
  #stopping = false;
  #closing: Promise<void> = Promise.resolve();

  async start(options: DevOptions): Promise<DevStackInfo> {
    const dataDir = resolve(options.dataDir);
    const { identity, changed } = loadIdentity(dataDir);
    if (changed) saveIdentity(dataDir, identity);

    // An external store is only checked, never changed: it must already have what the broker needs.
    if (options.store) await checkExternalStore(options.store);
    const s3 = options.store ? undefined : await startS3(join(dataDir, 's3'), options.s3Port);
    this.#s3 = s3;
    this.#checkStopping();
    // Set at every start, so a data dir from an older version gets what the page needs now.
    s3?.storage.setBucketCors(DEV_BUCKET, DEV_BUCKET_CORS);

    this.#web = await startWebServer(options.port);
    this.#checkStopping();
    const web = this.#web;
    // esbuild works in its own process: the bundles build while IAM is set up.
    const building = buildAssets(join(dataDir, 'web')).then(
      (assets) => ({ assets, buildError: undefined }),
      (error: unknown) => ({
        assets: undefined,
        buildError: error instanceof Error ? error.message : String(error),
      }),
    );

    let store: StoreOfBroker;
    if (s3) {
      const root = {
        accessKeyId: s3.rootCredentials.accessKeyId,
        secretAccessKey: s3.rootCredentials.secretAccessKey,
      };
      const iam = await setupBrokerIdentity({
        endpoint: s3.url,
        region: s3.region,
        rootCredentials: root,
        bucket: DEV_BUCKET,
        keyPrefix: DEV_KEY_PREFIX,
        storedKey: identity.brokerKey,
      });
      if (iam.keyCreated) {
        identity.brokerKey = iam.key;
        saveIdentity(dataDir, identity);
      }
      store = {
        broker: {
          s3Endpoint: s3.url,
          region: s3.region,
          bucket: DEV_BUCKET,
          key: iam.key,
          roleArn: iam.roleArn,
        },
        info: { endpoint: s3.url, region: s3.region, bucket: DEV_BUCKET, ...root },
      };
    } else {
      store = externalStore(options.store as ExternalStore);
    }
    this.#checkStopping();

    const { assets, buildError } = await building;
    this.#checkStopping();

    this.#broker = await startDevBroker({
      mode: options.mode,
      ...store.broker,
      keyPrefix: DEV_KEY_PREFIX,
      users: identity.users,
      origins: web.origins,
      registryPath: join(dataDir, 'broker.sqlite'),
      maxObjectSize: options.maxSize,
    });
    this.#checkStopping();
    const broker = this.#broker;

    const users = identity.users.map(({ id, token }) => ({ id, token }));
    web.serve({
      brokerFetch: (request) => broker.fetch(request),
      assets,
      buildError,
      pageConfig: (origin) => ({
        brokerUrl: `${origin}${API_PREFIX}`,
        uppyPath: broker.config.uppy.path,
        users,
        region: store.info.region,
        bucket: store.info.bucket,
        mode: options.mode,
        limits: {
          maxObjectSize: broker.config.limits.maxObjectSize,
          allowedContentTypes: broker.config.limits.allowedContentTypes,
        },
      }),
    });
    return {
      web: `${web.url}/`,
      broker: `${web.url}${API_PREFIX}`,
      mode: options.mode,
      dataDir,
      s3: store.info,
      users,
      ...(buildError === undefined ? {} : { buildError }),
    };
  }

  /** Stops what runs, web server first; safe to call again and while `start()` runs. */
  close(): Promise<void> {
    this.#stopping = true;
    // Queued, so a second caller waits for the first and then closes whatever started since.
    this.#closing = this.#closing.then(() => this.#closeParts());
    return this.#closing;
  }

  async #closeParts(): Promise<void> {
    const web = this.#web;
    const broker = this.#broker;
    const s3 = this.#s3;
    this.#web = this.#broker = this.#s3 = undefined;
    await web?.close();
    await broker?.close();
    await s3?.close();
  }

  #checkStopping(): void {
    if (this.#stopping) throw new StackStoppedError('hoist dev was stopped while starting');
  }
}

/** Where the broker goes and what the banner shows of it. */
interface StoreOfBroker {
  broker: Pick<
    DevBrokerOptions,
    's3Endpoint' | 'stsEndpoint' | 'region' | 'bucket' | 'key' | 'roleArn' | 'acceptOverwriteRisk'
  >;
  info: DevStackInfo['s3'];
}

function externalStore(store: ExternalStore): StoreOfBroker {
  return {
    broker: {
      s3Endpoint: store.s3Endpoint,
      stsEndpoint: store.stsEndpoint,
      region: store.region,
      bucket: store.bucket,
      key: store.credentials,
      roleArn: store.roleArn,
      acceptOverwriteRisk: store.acceptOverwriteRisk ?? false,
    },
    info: {
      endpoint: store.s3Endpoint ?? `https://s3.${store.region}.amazonaws.com`,
      region: store.region,
      bucket: store.bucket,
      external: true,
    },
  };
}

async function startS3(dataDir: string, port: number): Promise<RunningServer> {
  try {
    return await startServer({ dataDir, port, buckets: [DEV_BUCKET] });
  } catch (error) {
    if (isAddressInUse(error)) throw new PortInUseError(port, '--s3-port', { cause: error });
    throw error;
  }
}
