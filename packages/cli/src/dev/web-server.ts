/**
 * The dev stack's one web origin (node:http): the broker API mounted under /api (same
 * origin as the page, so the page needs no CORS to reach it), the demo page at /, the
 * built bundles under /assets/, and /config.json for the page's "sign in as a dev user".
 * It listens first and answers 503 until `serve()` gives it what to serve, so a taken port
 * is found before anything else is set up.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { useReasonHeader } from '@hoist/broker';
import { getRequestListener } from '@hono/node-server';
import { type BuiltAssets, contentTypeOf, readAsset, readDemoPage, UPPY_PAGE } from './assets.ts';
import { placeholderPage } from './pages.ts';
import { listen } from './ports.ts';

export const API_PREFIX = '/api';

export interface WebContent {
  /** The broker's fetch handler, given requests with /api taken off the path. */
  brokerFetch: (request: Request) => Response | Promise<Response>;
  /** Undefined when the build failed. */
  assets: BuiltAssets | undefined;
  buildError: string | undefined;
  /** The body of /config.json, for a page loaded from `origin`. */
  pageConfig: (origin: string) => Record<string, unknown>;
}

export interface WebServer {
  url: string;
  port: number;
  /** Origins the page may be loaded from (for the broker's CORS). */
  origins: string[];
  serve(content: WebContent): void;
  close(): Promise<void>;
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head = false): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  });
  res.end(head ? undefined : body);
}

export async function startWebServer(port: number, host = '127.0.0.1'): Promise<WebServer> {
  let content: WebContent | undefined;
  let api: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  // Only our own names: a page on another site that rebinds its DNS to 127.0.0.1 gets nothing.
  let allowedHosts = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!allowedHosts.has(hostHeader)) return send(res, 421, 'text/plain', 'Unknown host\n');
    if (!content || !api) return send(res, 503, 'text/plain', 'hoist dev is starting; reload in a moment\n');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
      req.url = (req.url ?? '').slice(API_PREFIX.length) || '/';
      if (!req.url.startsWith('/')) req.url = `/${req.url}`;
      useReasonHeader(res);
      return api(req, res);
    }
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return send(res, 405, 'text/plain', 'Method not allowed\n');
    const origin = `http://${hostHeader}`;
    if (path === '/' || path === '/index.html') {
      const page = content.buildError ? undefined : await readDemoPage();
      const html =
        page ?? placeholderPage({ brokerUrl: `${origin}${API_PREFIX}`, buildError: content.buildError });
      return send(res, 200, 'text/html; charset=utf-8', html, head);
    }
    if (path === '/uppy') {
      const page = content.buildError ? undefined : await readDemoPage(UPPY_PAGE);
      const html =
        page ?? placeholderPage({ brokerUrl: `${origin}${API_PREFIX}`, buildError: content.buildError });
      return send(res, 200, 'text/html; charset=utf-8', html, head);
    }
    if (path === '/config.json') {
      return send(
        res,
        200,
        'application/json; charset=utf-8',
        JSON.stringify(content.pageConfig(origin)),
        head,
      );
    }
    if (path === '/favicon.ico') {
      // No icon, and no 404 in the page's console for the one the browser asks for by itself.
      res.writeHead(204, COMMON_HEADERS).end();
      return;
    }
    if (path.startsWith('/assets/') && content.assets) {
      const name = path.slice('/assets/'.length);
      // Names are plain ASCII file names: nothing to decode, and anything encoded is not ours.
      const bytes = await readAsset(content.assets, name);
      if (bytes) return send(res, 200, contentTypeOf(name), bytes, head);
    }
    return send(res, 404, 'text/plain', 'Not found\n', head);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(
        `hoist dev: web request failed: ${error instanceof Error ? error.message : error}\n`,
      );
      if (!res.headersSent) send(res, 500, 'text/plain', 'Internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  const bound = await listen(server, port, host, '--port');
  const origins = [`http://127.0.0.1:${bound}`, `http://localhost:${bound}`];
  allowedHosts = new Set(origins.map((origin) => origin.slice('http://'.length)));

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    origins,
    serve(next) {
      content = next;
      api = getRequestListener((request) => next.brokerFetch(request));
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still open after a moment (a slow client) are cut: Ctrl-C must stop.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      return closing;
    },
  };
}
