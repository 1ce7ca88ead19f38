/**
 * The local S3 server on node:http: opening storage, IAM and the token key, the HTTP
 * server's limits and its answers to malformed requests. Each request runs through the
 * steps of request-pipeline.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { S3Error } from '@hoist/aws/s3';
import { createAuthorizer } from './authz.ts';
import { HashPool } from './checksum/hash-pool.ts';
import { iamSeedFromConfig, loadIamConfig, parseIamConfig } from './iam/config.ts';
import { openIamStore } from './iam/store.ts';
import { createCredentialLookup, DEFAULT_ACCOUNT_ID } from './identity.ts';
import { type RootCredentials, resolveServerOptions, type ServerOptions } from './options.ts';
import { createRequestHandler } from './request-pipeline.ts';
import { resolveRootCredentials } from './root-credentials.ts';
import { newRequestId, renderErrorXml } from './s3/error-response.ts';
import { loadOrCreateTokenKey } from './session-token.ts';
import { openStorage } from './storage/index.ts';
import type { Storage } from './storage/types.ts';

export interface RunningServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  region: string;
  rootCredentials: RootCredentials & { source: string };
  storage: Storage;
  close(): Promise<void>;
}

/** Largest request head accepted (request line + headers); S3 refuses heads past 8 KB of headers. */
const MAX_HEADER_BYTES = 16 * 1024;

function headerOverflowResponse(): string {
  const body = renderErrorXml(
    new S3Error('RequestHeaderSectionTooLarge', undefined, {
      extra: { MaxSizeAllowed: String(MAX_HEADER_BYTES) },
    }),
    '/',
    newRequestId(),
    '',
  );
  return `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function methodNotAllowedResponse(): string {
  const body = renderErrorXml(
    new S3Error('MethodNotAllowed', undefined, { extra: { Method: 'CONNECT', ResourceType: 'SERVICE' } }),
    '/',
    newRequestId(),
    '',
  );
  return `HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Starts the local S3 server. Resolves once it is listening. */
export async function startServer(input: ServerOptions): Promise<RunningServer> {
  const options = resolveServerOptions(input);
  const root = resolveRootCredentials(options.dataDir, options.rootCredentials);
  const storage = openStorage({ dataDir: options.dataDir, clock: options.clock });
  for (const name of options.buckets) {
    if (!storage.getBucket(name)) storage.createBucket(name, options.region);
  }
  const iamConfig =
    options.iam === undefined
      ? undefined
      : typeof options.iam === 'string'
        ? loadIamConfig(options.iam)
        : parseIamConfig(options.iam);
  const accountId = iamConfig?.accountId ?? options.accountId ?? DEFAULT_ACCOUNT_ID;
  const iam = openIamStore({
    dataDir: options.dataDir,
    accountId,
    clock: options.clock,
    ...(iamConfig ? { seed: iamSeedFromConfig(iamConfig) } : {}),
  });
  const tokenKey = loadOrCreateTokenKey(options.dataDir);
  const lookup = createCredentialLookup({ root, accountId, iam, tokenKey, clock: options.clock });
  const authorizer = createAuthorizer({ iam, clock: options.clock });
  const hashPool = new HashPool();
  const handle = createRequestHandler({ options, storage, lookup, hashPool, iam, authorizer, tokenKey });
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0, headersTimeout: 60_000 },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res, true);
  });
  // S3 ignores Expect values other than 100-continue (Node would answer 417).
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  });
  // CONNECT is no S3 method: answer it as S3 answers an unknown method, then close.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    if (socket.writable) socket.end(methodNotAllowedResponse());
    else socket.destroy();
  });
  server.timeout = options.idleTimeoutMs;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    if (error.code === 'HPE_HEADER_OVERFLOW') socket.end(headerOverflowResponse());
    else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    region: options.region,
    rootCredentials: root,
    storage,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => {
          storage.close();
          hashPool.close().then(resolve, resolve);
        });
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
