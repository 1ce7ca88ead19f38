/**
 * Mounts the Uppy routes on the broker (`uppy.enabled`): a presign-mode lifecycle sharing the
 * broker's registry, clients, hooks and ids, the cookie authenticator, and the routes.
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type AwsClients, publicEndpoint } from '../aws.ts';
import type { StoreCapabilities } from '../capabilities.ts';
import type { BrokerConfig } from '../config.ts';
import { BrokerProblem } from '../errors.ts';
import { type BrokerEnv, MAX_BODY_BYTES } from '../routes/context.ts';
import type { Authenticator, Registry } from '../types.ts';
import { type LifecycleHooks, type Logger, UploadService } from '../uploads.ts';
import { createCookieAuthenticator } from './cookie-auth.ts';
import { uppyPostForm } from './post-params.ts';
import { uppyRoutes } from './routes.ts';
import { UppyService } from './service.ts';

export interface UppyMountDeps {
  config: BrokerConfig;
  registry: Registry;
  aws: AwsClients;
  authenticator: Authenticator;
  hooks: LifecycleHooks;
  clock: () => number;
  logger: Logger;
  /**
   * The broker's store capabilities (store-gate.ts): the Uppy lifecycle verifies and completes
   * as the store allows (e.g. checks the key is free where If-None-Match on Complete is ignored).
   */
  capabilities: () => Promise<StoreCapabilities>;
  newId?: (() => string) | undefined;
}

export function mountUppy(app: Hono<BrokerEnv>, deps: UppyMountDeps): void {
  const { config } = deps;
  const uploads = new UploadService({
    settings: { ...config, mode: 'presign' },
    registry: deps.registry,
    aws: deps.aws,
    clock: deps.clock,
    logger: deps.logger,
    hooks: deps.hooks,
    capabilities: deps.capabilities,
    ...(deps.newId ? { newId: deps.newId } : {}),
  });
  const service = new UppyService({ uploads });
  const authenticate = createCookieAuthenticator(deps.authenticator, {
    cookieName: config.uppy.cookieName,
    allowedOrigins: config.cors.origins,
  });
  const endpoint = publicEndpoint(config.s3);
  const locationOf = (bucket: string, key: string) => {
    const path = key.split('/').map(encodeURIComponent).join('/');
    if (config.s3.forcePathStyle) return `${endpoint}/${bucket}/${path}`;
    const url = new URL(endpoint);
    return `${url.protocol}//${bucket}.${url.host}/${path}`;
  };
  app.use(
    `${config.uppy.path}/*`,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new BrokerProblem('invalid-request', `The request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.route(
    config.uppy.path,
    uppyRoutes({
      service,
      authenticate,
      cookieName: config.uppy.cookieName,
      locationOf,
      postForm: (user, input) => uppyPostForm(uploads, config, user, input),
    }),
  );
}
