/**
 * The broker as one Hono app: `createBroker(config, deps?)`. No I/O happens here (the
 * registry connects and migrates on first use), so the same app serves Node (node.ts),
 * Lambda (lambda.ts) and tests (`app.request()`); every dependency can be injected.
 *
 * @example
 * ```ts
 * const broker = createBroker(loadBrokerConfig());
 * const res = await broker.request('/healthz');
 * await broker.close();
 * ```
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { createAuthenticator } from './auth.ts';
import { type AwsClients, createAwsClients, destroyAwsClients } from './aws.ts';
import type { StoreCapabilities } from './capabilities.ts';
import { type BrokerConfig, requireAuthConfig } from './config.ts';
import { BrokerProblem } from './errors.ts';
import { checkCreateUpload, createRateLimiter } from './limits.ts';
import { auditCredentialIssued, createLogger, type Logger } from './log.ts';
import { type BrokerMetrics, createMetrics } from './metrics.ts';
import { openRegistry } from './registry/index.ts';
import { completeRoutes } from './routes/complete.ts';
import { type BrokerEnv, MAX_BODY_BYTES } from './routes/context.ts';
import { credentialRoutes } from './routes/credentials.ts';
import { healthRoutes } from './routes/health.ts';
import { partRoutes } from './routes/parts.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { type CapabilityGate, createCapabilityGate } from './store-gate.ts';
import { storeProbe } from './store-probe.ts';
import type { Authenticator, Registry, UploadRecord } from './types.ts';
import { type LifecycleHooks, RESERVED_METADATA_PREFIX, UploadService } from './uploads.ts';
import { mountUppy } from './uppy/index.ts';
import { sdkCalls } from './upstream/calls.ts';
import { createWebhookSender, type WebhookSender } from './webhook.ts';

/** Everything the broker uses that a test (or an app embedding it) may provide instead. */
export interface BrokerDeps {
  /** @default openRegistry(config.registry.url) — closed by `close()` only when created here */
  registry?: Registry;
  /**
   * The application's own authentication; `config.auth` may then be empty.
   * @default createAuthenticator(config.auth) — which needs static tokens or JWT configured
   */
  authenticator?: Authenticator;
  /** ms since epoch. @default Date.now */
  clock?: () => number;
  /** @default createLogger() */
  logger?: Logger;
  /**
   * S3 client for the broker's own calls. Injecting it (or `sts`) routes every store call
   * through the SDK, CreateMultipartUpload and the credential mint included. @default from config.s3
   */
  s3?: S3Client;
  /** S3 client that signs URLs for clients (public endpoint). @default from config.s3 */
  presigner?: S3Client;
  /** @default from config.sts */
  sts?: STSClient;
  /** @default createMetrics() */
  metrics?: BrokerMetrics;
  /** @default createWebhookSender(config.webhook) when configured */
  webhook?: WebhookSender;
  /** Upload ids. @default 128 random bits in base36 */
  newId?: () => string;
  /**
   * The store's capabilities, instead of the config's pins and a probe of the store.
   * @default pinned by `config.store`, the rest probed once with the broker's clients
   */
  capabilities?: StoreCapabilities;
}

/** The Hono app plus what its runtime entries need to run and stop it. */
export type BrokerApp = Hono<BrokerEnv> & {
  readonly config: BrokerConfig;
  readonly registry: Registry;
  readonly aws: AwsClients;
  readonly logger: Logger;
  readonly metrics: BrokerMetrics;
  readonly uploads: UploadService;
  /**
   * The store's capabilities (probed once, then kept); rejects with StoreCapabilityError when
   * the mode cannot run on this store, or StoreProbeError when the store could not be probed.
   */
  readonly capabilities: CapabilityGate;
  /** Drains webhooks, closes what the broker opened itself. */
  close(): Promise<void>;
  /** Waits (bounded) for webhook deliveries in flight: see WebhookSender.settle. */
  settle(timeoutMs?: number): Promise<void>;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createBroker(config: BrokerConfig, deps: BrokerDeps = {}): BrokerApp {
  // Before anything is opened, so a broker nobody could call fails at once, naming `auth`.
  if (!deps.authenticator) requireAuthConfig(config);
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? createLogger();
  const ownsRegistry = deps.registry === undefined;
  const registry = deps.registry ?? openRegistry(config.registry.url, { clock });
  const created = createAwsClients(config);
  const s3 = deps.s3 ?? created.s3;
  const sts = deps.sts ?? created.sts;
  const aws: AwsClients = {
    s3,
    presigner: deps.presigner ?? created.presigner,
    sts,
    // Injected SDK clients carry the app's own setup (credentials, tracing): they make every call.
    calls: deps.s3 || deps.sts ? sdkCalls(s3, sts, config.s3.bucket) : created.calls,
  };
  const authenticator = deps.authenticator ?? createAuthenticator(config.auth);
  const metrics = deps.metrics ?? createMetrics();
  const webhook =
    deps.webhook ??
    (config.webhook
      ? createWebhookSender({ url: config.webhook.url, secret: config.webhook.secret, clock })
      : undefined);
  const given = deps.capabilities;
  const capabilities: CapabilityGate = createCapabilityGate({
    mode: config.mode,
    // Injected capabilities pin everything: nothing is probed.
    store: given ? { ...config.store, ...given } : config.store,
    logger,
    probe: storeProbe(config, aws),
  });
  const limiter = createRateLimiter({ perMinute: config.limits.maxCredentialMintsPerMinute, clock });

  const hooks: LifecycleHooks = {
    async checkCreate(user, request) {
      try {
        await checkCreateUpload(request, user, { limits: config.limits, registry, now: clock() });
      } catch (error) {
        if (error instanceof BrokerProblem) metrics.uploadRejected(error.type);
        throw error;
      }
    },
    beforeMint(user) {
      limiter.take(user.id);
    },
    credentialIssued(event) {
      metrics.credentialsIssued.inc({ mode: event.mode });
      if (event.policy !== undefined) {
        auditCredentialIssued(logger, {
          userId: event.userId,
          uploadId: event.uploadId,
          key: event.key,
          expiration: event.expiration,
          policy: event.policy,
          mode: event.mode,
          ...(event.accessKeyId ? { accessKeyId: event.accessKeyId } : {}),
        });
      } else {
        // Presigned URLs carry no policy: the grant is the signed operation itself.
        logger.info(
          {
            audit: 'urls-issued',
            kind: event.kind,
            userId: event.userId,
            uploadId: event.uploadId,
            key: event.key,
            expiration: event.expiration,
          },
          'presigned urls issued',
        );
      }
    },
    uploadCreated(record) {
      metrics.uploadsCreated.inc({ mode: record.mode });
    },
    uploadEnded(record) {
      try {
        if (record.status === 'completed') {
          metrics.uploadCompleted(record.mode, record.size);
          webhook?.send({ type: 'upload.completed', data: webhookData(record) });
        } else if (record.status === 'rejected') {
          metrics.uploadRejected('upload-rejected');
          webhook?.send({ type: 'upload.rejected', data: webhookData(record) });
        }
      } catch (error) {
        logger.warn({ err: error, uploadId: record.id }, 'upload event not delivered');
      }
    },
  };
  const uploads = new UploadService({
    settings: config,
    registry,
    aws,
    clock,
    logger,
    capabilities,
    ...(deps.newId ? { newId: deps.newId } : {}),
    hooks,
  });

  const app = new Hono<BrokerEnv>();

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    const seconds = (performance.now() - started) / 1000;
    const path = routePath(c, -1);
    const route = path.includes('*') ? 'unmatched' : path;
    metrics.observeRequest({ method: c.req.method, route, status: c.res.status, seconds });
    // The path only: query strings never reach the log.
    logger.info(
      {
        requestId,
        method: c.req.method,
        route,
        status: c.res.status,
        ms: Math.round(seconds * 1000),
        ...(c.get('user') ? { userId: c.get('user').id } : {}),
      },
      'request',
    );
  });

  if (config.cors.origins.length > 0) {
    const allowed = new Set(config.cors.origins);
    const any = config.cors.allowAnyOrigin && allowed.has('*');
    app.use(
      '*',
      cors({
        origin: (origin) => (any || allowed.has(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowHeaders: ['authorization', 'content-type', 'x-request-id', 'idempotency-key'],
        exposeHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
        maxAge: 600,
      }),
    );
  }

  app.route('/', healthRoutes({ registry, metrics }));

  app.use('/uploads', authenticate(authenticator));
  app.use('/uploads/*', authenticate(authenticator));
  app.use(
    '/uploads/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new BrokerProblem('invalid-request', `The request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.use(
    '/uploads',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new BrokerProblem('invalid-request', `The request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.route('/uploads', uploadRoutes(uploads));
  app.route('/uploads', credentialRoutes(uploads));
  app.route('/uploads', partRoutes(uploads));
  app.route('/uploads', completeRoutes(uploads));

  if (config.uppy.enabled)
    mountUppy(app, {
      config,
      registry,
      aws,
      authenticator,
      hooks,
      clock,
      logger,
      capabilities,
      newId: deps.newId,
    });

  app.notFound(() => {
    throw new BrokerProblem('not-found', 'No such route');
  });

  app.onError((error, c) => {
    const requestId = c.get('requestId') ?? randomUUID();
    let problem: BrokerProblem;
    if (error instanceof BrokerProblem) {
      problem = error;
      if (problem.status >= 500) logger.warn({ err: error.cause ?? error, requestId }, problem.message);
    } else if (error instanceof HTTPException && error.status < 500) {
      problem = new BrokerProblem('invalid-request', 'The request is not valid');
    } else {
      // Unknown failures are logged in full and answered without a detail.
      logger.error({ err: error, requestId }, 'unhandled error');
      problem = new BrokerProblem('internal', 'Something went wrong; quote the request id when reporting it');
    }
    const headers: Record<string, string> = {
      'content-type': 'application/problem+json',
      'x-request-id': requestId,
      'cache-control': 'no-store',
    };
    if (problem.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(problem.retryAfter));
    if (problem.type === 'unauthorized') headers['www-authenticate'] = 'Bearer';
    return c.body(JSON.stringify(problem.toProblem(requestId)), problem.status as 400, headers);
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (!deps.webhook) await webhook?.close({ timeoutMs: 5000 });
      if (ownsRegistry) await registry.close();
      destroyAwsClients(created);
    })();
    return closing;
  };

  const settle = async (timeoutMs = 3000) => {
    await webhook?.settle({ timeoutMs });
  };

  return Object.assign(app, {
    config,
    registry,
    aws,
    logger,
    metrics,
    uploads,
    capabilities,
    close,
    settle,
  });
}

function authenticate(authenticator: Authenticator) {
  return async (c: Context<BrokerEnv>, next: () => Promise<void>) => {
    if (c.req.method === 'OPTIONS') return next();
    const user = await authenticator.authenticate(c.req.raw.headers);
    if (!user) throw new BrokerProblem('unauthorized', 'Send "Authorization: Bearer <token>"');
    c.set('user', user);
    await next();
  };
}

function webhookData(record: UploadRecord): Record<string, unknown> {
  return {
    id: record.id,
    userId: record.userId,
    status: record.status,
    bucket: record.bucket,
    key: record.key,
    filename: record.filename,
    contentType: record.contentType,
    size: record.size,
    ...(record.etag ? { etag: record.etag } : {}),
    ...(record.checksum ? { checksum: record.checksum, checksumAlgorithm: record.checksumAlgorithm } : {}),
    ...(record.reason ? { reason: record.reason } : {}),
    // The application's metadata only: the broker's own entries (the declared checksum…) stay inside.
    metadata: Object.fromEntries(
      Object.entries(record.metadata).filter(([name]) => !name.startsWith(RESERVED_METADATA_PREFIX)),
    ),
  };
}
