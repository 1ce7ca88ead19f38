/**
 * The local S3 server on node:http: addressing, preflight, SigV4 authentication,
 * routing by operation, and error rendering. Storage sits behind its interface.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { classifyS3Request, S3Error } from '@hoist/aws/s3';
import { verifyRequest } from '@hoist/aws/sigv4';
import { S3_LIMITS } from '@hoist/protocol';
import { parseTarget } from './addressing.ts';
import { type Authorizer, createAuthorizer } from './authz.ts';
import { HashPool } from './checksum/hash-pool.ts';
import { isClientAbort } from './client-abort.ts';
import { iamSeedFromConfig, loadIamConfig, parseIamConfig } from './iam/config.ts';
import { openIamStore } from './iam/store.ts';
import type { IamStore } from './iam/types.ts';
import { type CredentialLookup, createCredentialLookup, DEFAULT_ACCOUNT_ID } from './identity.ts';
import {
  type ResolvedServerOptions,
  type RootCredentials,
  resolveServerOptions,
  type ServerOptions,
} from './options.ts';
import { createQueryActionRunner } from './query-actions.ts';
import { handleQueryRequest, isQueryRequest } from './query-endpoint.ts';
import { resolveRootCredentials } from './root-credentials.ts';
import { answerAcl } from './s3/acl.ts';
import {
  bucketArn,
  objectArn,
  requestConditionKeys,
  s3AuthorizationRequests,
  s3ConditionKeys,
} from './s3/authz-requests.ts';
import type { S3Context } from './s3/context.ts';
import { actualRequestCorsHeaders, answerPreflight } from './s3/cors.ts';
import { newRequestId, renderErrorXml, sendError } from './s3/error-response.ts';
import { handlePostObject, isPostObject } from './s3/post-object.ts';
import { S3_HANDLERS } from './s3/router.ts';
import { unsupportedSubresourceAction } from './s3/unsupported-actions.ts';
import { rejectSignatureV2, rejectUnsupportedHeaders } from './s3/unsupported-headers.ts';
import { loadOrCreateTokenKey } from './session-token.ts';
import { nodeSigV4Crypto } from './sigv4-node-crypto.ts';
import { openStorage } from './storage/index.ts';
import type { Storage } from './storage/types.ts';
import { toS3Error } from './to-s3-error.ts';

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
/** `yyyymmddThhmmssZ` → ms since the epoch. */
function amzDateToMs(datetime: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(datetime);
  return m
    ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
    : 0;
}

export interface ServerInternals {
  options: ResolvedServerOptions;
  storage: Storage;
  hashPool: HashPool;
  lookup: CredentialLookup;
  iam: IamStore;
  authorizer: Authorizer;
  tokenKey: KeyObject;
}

export function createRequestHandler(internals: ServerInternals) {
  const { options, storage, lookup, hashPool, iam, authorizer, tokenKey } = internals;

  const runQueryAction = createQueryActionRunner({ options, iam, authorizer, tokenKey });

  /**
   * `expectContinue`: the client sent `Expect: 100-continue` and waits for `100 Continue`
   * before its body. It is sent only once the request may go on (as S3 answers 403 first);
   * an error before that is answered without reading the body.
   */
  return async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    expectContinue = false,
  ): Promise<void> {
    let bodyWithheld = expectContinue;
    const allowBody = () => {
      if (!bodyWithheld) return;
      bodyWithheld = false;
      res.writeContinue();
    };
    const requestId = newRequestId();
    const baseHeaders: Record<string, string> = {
      'x-amz-request-id': requestId,
      'x-amz-id-2': randomBytes(24).toString('base64'),
      server: 'AmazonS3',
      // From the injected clock, so clients that correct their skew from Date see the server's time.
      date: new Date(options.clock()).toUTCString(),
    };
    let resource = '/';
    let bucket: string | undefined;
    try {
      const target = parseTarget(req.url ?? '/', req.headers.host, options.virtualHostDomains);
      bucket = target.bucket;
      resource = target.rawPath;
      // A browser form upload carries its signature in the form, not in the request head.
      if (target.bucket !== undefined && isPostObject(req, target.bucket, target.key)) {
        Object.assign(baseHeaders, actualRequestCorsHeaders(storage, bucket, req));
        // The form carries its own signature: nothing to check before the body.
        allowBody();
        await handlePostObject(req, res, target.bucket, {
          storage,
          hashPool,
          options,
          lookup,
          authorizer,
          requestId,
          now: options.clock(),
          responseHeaders: baseHeaders,
        });
        return;
      }
      if (isQueryRequest(req.method, target.rawPath, target.rawQuery)) {
        const sourceIp = req.socket.remoteAddress ?? '';
        // STS/IAM sign the body, so it is needed before anything can be checked.
        allowBody();
        await handleQueryRequest(req, res, target, requestId, {
          lookup,
          region: options.region,
          clock: options.clock,
          run: (service, params, auth, id) => runQueryAction(service, params, auth.identity, id, sourceIp),
        });
        return;
      }
      if (req.method === 'OPTIONS') {
        const refused = answerPreflight(storage, bucket, req, res, baseHeaders);
        if (refused) await sendError(req, res, refused, baseHeaders, resource, { bodyWithheld });
        return;
      }
      Object.assign(baseHeaders, actualRequestCorsHeaders(storage, bucket, req));
      rejectSignatureV2(req.headers, target.rawQuery);
      const now = options.clock();
      const auth = await verifyRequest({
        method: req.method ?? 'GET',
        rawPath: target.rawPath,
        rawQuery: target.rawQuery,
        rawHeaders: req.rawHeaders,
        now,
        region: options.region,
        service: 's3',
        crypto: nodeSigV4Crypto,
        lookup,
      });
      if (target.key !== undefined && Buffer.byteLength(target.key) > S3_LIMITS.maxKeyBytes) {
        throw new S3Error('KeyTooLongError', undefined, {
          extra: {
            Size: String(Buffer.byteLength(target.key)),
            MaxSizeAllowed: String(S3_LIMITS.maxKeyBytes),
          },
        });
      }
      const query = new URLSearchParams(target.rawQuery);
      const classification = classifyS3Request({
        method: req.method ?? 'GET',
        bucket: target.bucket,
        key: target.key,
        query,
        hasCopySource: req.headers['x-amz-copy-source'] !== undefined,
      });
      if ('unsupported' in classification) {
        // As on AWS, a caller without the permission learns AccessDenied, not what is implemented.
        const action = unsupportedSubresourceAction(
          classification.unsupported,
          req.method ?? 'GET',
          target.key !== undefined,
        );
        if (action !== undefined && target.bucket !== undefined) {
          const arn =
            target.key !== undefined ? objectArn(target.bucket, target.key) : bucketArn(target.bucket);
          const keys = {
            ...requestConditionKeys(
              auth.presigned,
              auth.payloadHash,
              Math.max(0, now - amzDateToMs(auth.datetime)),
            ),
            'aws:SourceIp': req.socket.remoteAddress ?? '',
          };
          if (!authorizer.isAllowed(auth.identity, action, arn, keys)) throw new S3Error('AccessDenied');
          // ACLs are answered as an owner-enforced bucket does: read = owner FULL_CONTROL, write refused.
          if (classification.unsupported === 'acl') {
            answerAcl({
              req,
              res,
              storage,
              bucket: target.bucket,
              key: target.key,
              ownerId: auth.identity.accountId,
              responseHeaders: baseHeaders,
            });
            return;
          }
        }
        throw new S3Error(
          'NotImplemented',
          `The ${classification.unsupported} sub-resource is not implemented by the Hoist local server.`,
        );
      }
      if ('methodNotAllowed' in classification) {
        throw new S3Error('MethodNotAllowed', undefined, {
          extra: { Method: req.method ?? '', ResourceType: target.key === undefined ? 'BUCKET' : 'OBJECT' },
        });
      }
      // Tags, ACLs, KMS, object lock are not stored: refuse them rather than drop them.
      rejectUnsupportedHeaders(req.headers, classification.operation);
      const facts = {
        operation: classification.operation,
        bucket: target.bucket,
        key: target.key,
        query,
        headers: req.headers,
        presigned: auth.presigned,
        payloadHash: auth.payloadHash,
        signatureAgeMs: Math.max(0, now - amzDateToMs(auth.datetime)),
      };
      const conditionKeys = { ...s3ConditionKeys(facts), 'aws:SourceIp': req.socket.remoteAddress ?? '' };
      const authorize = (action: string, resource: string) =>
        authorizer.isAllowed(auth.identity, action, resource, conditionKeys);
      for (const request of s3AuthorizationRequests(facts)) {
        if (!authorize(request.action, request.resource)) throw new S3Error('AccessDenied');
      }
      const ctx: S3Context = {
        req,
        res,
        operation: classification.operation,
        bucket: target.bucket,
        key: target.key,
        query,
        headers: req.headers,
        auth,
        requestId,
        storage,
        hashPool,
        options,
        now,
        authorize,
        responseHeaders: baseHeaders,
      };
      allowBody();
      await S3_HANDLERS[classification.operation](ctx);
    } catch (error) {
      const known = toS3Error(error);
      if (!known && isClientAbort(error)) {
        res.destroy();
        return;
      }
      if (!known) {
        process.stderr.write(
          `hoist server: internal error on request ${requestId}: ${(error as Error)?.stack ?? String(error)}\n`,
        );
      }
      await sendError(req, res, known ?? new S3Error('InternalError'), baseHeaders, resource, {
        bodyWithheld,
      });
    }
  };
}

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
