/**
 * The broker as a Node request handler, to mount in an existing `node:http` server, Express or
 * Fastify app under a path of its choosing. Mount it before any body parser: the broker reads
 * the request body itself.
 *
 * @example
 * ```ts
 * const broker = createBroker(loadBrokerConfig({ file: 'broker.json' }));
 * await broker.registry.migrate();
 * expressApp.use('/api/hoist', createNodeHandler(broker));            // Express strips the path
 * http.createServer(createNodeHandler(broker, { basePath: '/api/hoist' })); // plain node:http
 * await fastify.register(async (scope) => {                             // Fastify: a scope
 *   scope.removeAllContentTypeParsers();                                 // without body parsing
 *   scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
 *   scope.all('/api/hoist/*', (request, reply) => {
 *     reply.hijack();
 *     handler(request.raw, reply.raw); // handler = createNodeHandler(broker, { basePath: '/api/hoist' })
 *   });
 * });
 * ```
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { BrokerApp } from './app.ts';

export interface NodeHandlerOptions {
  /**
   * The path the broker answers under (`/api/hoist`), removed from the URL before routing;
   * requests outside it go to `next` (Express/Connect) or get a 404. Leave it out when the
   * framework strips the mount path itself (Express's `app.use(path, handler)`).
   */
  basePath?: string | undefined;
}

export type NodeHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/** `/api/hoist/` → `/api/hoist`; `''` and `/` → no base path. */
function normalizeBasePath(path: string | undefined): string {
  const trimmed = (path ?? '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The URL below `base`, or undefined when `url` is outside it. */
export function stripBasePath(url: string, base: string): string | undefined {
  if (base === '') return url;
  if (!url.startsWith(base)) return undefined;
  const rest = url.slice(base.length);
  if (rest === '') return '/';
  if (rest.startsWith('/')) return rest;
  if (rest.startsWith('?')) return `/${rest}`;
  return undefined;
}

/** A `(request, response, next?)` handler serving `app` (see the module example). */
export function createNodeHandler(app: BrokerApp, options: NodeHandlerOptions = {}): NodeHandler {
  const base = normalizeBasePath(options.basePath);
  const listener = getRequestListener(app.fetch);
  return (request, response, next) => {
    const inner = stripBasePath(request.url ?? '/', base);
    if (inner === undefined) {
      if (next) next();
      else response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    request.url = inner;
    listener(request, response).catch((error: unknown) => {
      if (next) next(error);
      else response.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  };
}
