/**
 * The broker on Node: `startBroker(config)` serves the Hono app with @hono/node-server and
 * runs the sweeper on its interval. `close()` stops both and waits for open requests.
 * `openBroker(config)` is the same without the listener, for hosts that mount `app.fetch`.
 *
 * @example
 * ```ts
 * const broker = await startBroker(loadBrokerConfig({ file: 'broker.json' }));
 * console.log(broker.url);
 * ```
 * @module
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type BrokerApp, type BrokerDeps, createBroker } from './app.ts';
import type { BrokerConfig } from './config.ts';
import { reasonPhrasesFor } from './reason-phrase.ts';
import { settleExpiredForms } from './reconcile.ts';
import { type Sweeper, startSweeper } from './sweeper.ts';

export interface RunningBroker {
  /** `http://host:port` */
  url: string;
  app: BrokerApp;
  close(): Promise<void>;
}

export interface StartBrokerOptions extends BrokerDeps {
  /** Run the sweeper every `config.sweepIntervalSeconds` (0 disables it). @default true */
  sweeper?: boolean;
}

/** A broker ready to serve requests through `app.fetch`, with no listener of its own. */
export interface OpenBroker {
  app: BrokerApp;
  /** Stops the sweeper and closes the app (registry, clients). */
  close(): Promise<void>;
}

/**
 * The broker ready to serve, for hosts that mount `app.fetch` themselves (`hoist dev`): the
 * store checked for the mode (a store that cannot keep its promises stops the start here),
 * the registry migrated, and the sweeper running.
 */
export async function openBroker(
  config: BrokerConfig,
  options: StartBrokerOptions = {},
): Promise<OpenBroker> {
  const { sweeper: runSweeper = true, ...deps } = options;
  const app = createBroker(config, deps);
  try {
    await app.capabilities();
    await app.registry.migrate();
  } catch (error) {
    await app.close();
    throw error;
  }
  const sweeper =
    runSweeper && config.sweepIntervalSeconds > 0 ? sweepFor(config, app, deps.clock) : undefined;
  let closing: Promise<void> | undefined;
  return {
    app,
    close() {
      closing ??= (async () => {
        await sweeper?.stop();
        await app.close();
      })();
      return closing;
    },
  };
}

function sweepFor(config: BrokerConfig, app: BrokerApp, clock: (() => number) | undefined): Sweeper {
  return startSweeper({
    registry: app.registry,
    s3: app.aws.s3,
    bucket: config.s3.bucket,
    keyPrefix: config.keyPrefix,
    // Expired POST-form uploads are verified first: their object may be a finished upload.
    settle: settleExpiredForms(app.uploads),
    olderThanMs: config.uploadTtlSeconds * 1000,
    intervalMs: config.sweepIntervalSeconds * 1000,
    ...(clock ? { clock } : {}),
    onResult: (result) => {
      if (result.expired + (result.settled ?? 0) + result.aborted + result.failed > 0)
        app.logger.info({ sweep: result }, 'sweep');
    },
    onSweepError: (error) => app.logger.warn({ err: error }, 'sweep failed'),
    onError: (error, upload) => app.logger.warn({ err: error, key: upload.key }, 'sweep step failed'),
    onObjectDeleted: (upload) =>
      app.logger.warn(
        { uploadId: upload.id, key: upload.key, size: upload.size },
        'unverified object deleted: its upload expired without a completion',
      ),
  });
}

/** The broker listening on `config.host`:`config.port` (see {@link openBroker}). */
export async function startBroker(
  config: BrokerConfig,
  options: StartBrokerOptions = {},
): Promise<RunningBroker> {
  const broker = await openBroker(config, options);
  const { app } = broker;
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
        resolve(s as Server),
      );
      s.once('error', reject);
    });
  } catch (error) {
    await broker.close();
    throw error;
  }
  server.keepAliveTimeout = 5000;
  // Only the Uppy routes set a reason phrase: no per-request writeHead wrapper without them.
  if (config.uppy.enabled) reasonPhrasesFor(server);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  app.logger.info({ url, mode: config.mode, bucket: config.s3.bucket }, 'broker listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await broker.close();
      })();
      return closing;
    },
  };
}
