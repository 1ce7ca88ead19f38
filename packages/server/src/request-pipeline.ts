/**
 * One request through the local server, as a pipeline of named steps: addressing, the
 * browser form upload and the Query API (each signed its own way), CORS preflight,
 * authentication, limits, classification, authorisation and dispatch to the S3 handler.
 * Any step may throw; the error is answered once, at the end, through `toS3Error`.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { s3BucketArn, s3ObjectArn } from '@hoist/aws/policy';
import { classifyS3Request, S3Error, type S3Operation } from '@hoist/aws/s3';
import { parseAmzDate, type VerifiedRequest, verifyRequest } from '@hoist/aws/sigv4';
import { S3_LIMITS } from '@hoist/protocol';
import { parseTarget, type Target } from './addressing.ts';
import type { Authorizer } from './authz.ts';
import type { HashPool } from './checksum/hash-pool.ts';
import { isClientAbort } from './client-abort.ts';
import type { IamStore } from './iam/types.ts';
import type { CredentialLookup, Identity } from './identity.ts';
import type { ResolvedServerOptions } from './options.ts';
import { createQueryActionRunner } from './query-actions.ts';
import { handleQueryRequest, isQueryRequest } from './query-endpoint.ts';
import { answerAcl } from './s3/acl.ts';
import { requestConditionKeys, s3AuthorizationRequests, s3ConditionKeys } from './s3/authz-requests.ts';
import type { S3Context } from './s3/context.ts';
import { actualRequestCorsHeaders, answerPreflight } from './s3/cors.ts';
import { newRequestId, sendError } from './s3/error-response.ts';
import { handlePostObject, isPostObject } from './s3/post-object.ts';
import { S3_HANDLERS } from './s3/router.ts';
import { unsupportedSubresourceAction } from './s3/unsupported-actions.ts';
import { rejectSignatureV2, rejectUnsupportedHeaders } from './s3/unsupported-headers.ts';
import type { Storage } from './storage/types.ts';
import { toS3Error } from './to-s3-error.ts';

export interface ServerInternals {
  options: ResolvedServerOptions;
  storage: Storage;
  hashPool: HashPool;
  lookup: CredentialLookup;
  iam: IamStore;
  authorizer: Authorizer;
  tokenKey: KeyObject;
}

type Steps = ServerInternals & { runQueryAction: ReturnType<typeof createQueryActionRunner> };

/** One request on its way through the steps, and what every answer to it carries. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  /** Headers of every answer: request ids, the date, CORS once the bucket is known. */
  headers: Record<string, string>;
  /** The path error documents name as their Resource. */
  resource: string;
  /** The client waits for `100 Continue` before it sends its body. */
  bodyWithheld: boolean;
}

/** What authentication established: the verified signature, and facts derived from it once. */
interface Authenticated {
  auth: VerifiedRequest<Identity>;
  now: number;
  /** ms since the request was signed. */
  signatureAgeMs: number;
  sourceIp: string;
}

/** Lets the body come: `100 Continue` when the client waits for it. */
function allowBody(ex: Exchange): void {
  if (!ex.bodyWithheld) return;
  ex.bodyWithheld = false;
  ex.res.writeContinue();
}

/** Addressing: bucket and key from the path or the virtual host. */
function address(steps: Steps, ex: Exchange): Target {
  const target = parseTarget(ex.req.url ?? '/', ex.req.headers.host, steps.options.virtualHostDomains);
  ex.resource = target.rawPath;
  return target;
}

/** A browser form upload (POST Object) carries its signature in the form: nothing to check before the body. */
async function formUpload(steps: Steps, ex: Exchange, bucket: string): Promise<void> {
  Object.assign(ex.headers, actualRequestCorsHeaders(steps.storage, bucket, ex.req));
  allowBody(ex);
  await handlePostObject(ex.req, ex.res, bucket, {
    storage: steps.storage,
    hashPool: steps.hashPool,
    options: steps.options,
    lookup: steps.lookup,
    authorizer: steps.authorizer,
    requestId: ex.requestId,
    now: steps.options.clock(),
    responseHeaders: ex.headers,
  });
}

/** The STS/IAM Query API: signed over the body, so the body is read before anything is checked. */
async function queryApi(steps: Steps, ex: Exchange, target: Target): Promise<void> {
  const sourceIp = ex.req.socket.remoteAddress ?? '';
  allowBody(ex);
  await handleQueryRequest(ex.req, ex.res, target, ex.requestId, {
    lookup: steps.lookup,
    region: steps.options.region,
    clock: steps.options.clock,
    run: (service, params, auth, id) => steps.runQueryAction(service, params, auth.identity, id, sourceIp),
  });
}

/** CORS preflight: answered from the bucket's rules, unauthenticated as on S3. */
async function corsPreflight(steps: Steps, ex: Exchange, bucket: string | undefined): Promise<void> {
  const refused = answerPreflight(steps.storage, bucket, ex.req, ex.res, ex.headers);
  if (refused)
    await sendError(ex.req, ex.res, refused, ex.headers, ex.resource, {
      bodyWithheld: ex.bodyWithheld,
    });
}

/** Authentication: the bucket's CORS headers on every answer, SigV2 refused, SigV4 verified. */
async function authenticate(steps: Steps, ex: Exchange, target: Target): Promise<Authenticated> {
  Object.assign(ex.headers, actualRequestCorsHeaders(steps.storage, target.bucket, ex.req));
  rejectSignatureV2(ex.req.headers, target.rawQuery);
  const now = steps.options.clock();
  const auth = await verifyRequest({
    method: ex.req.method ?? 'GET',
    rawPath: target.rawPath,
    rawQuery: target.rawQuery,
    rawHeaders: ex.req.rawHeaders,
    now,
    region: steps.options.region,
    service: 's3',
    crypto: nodeSigV4Crypto,
    lookup: steps.lookup,
  });
  return {
    auth,
    now,
    signatureAgeMs: Math.max(0, now - (parseAmzDate(auth.datetime) ?? 0)),
    sourceIp: ex.req.socket.remoteAddress ?? '',
  };
}

/** Limits that hold for every operation: the key's length. */
function checkLimits(target: Target): void {
  if (target.key !== undefined && Buffer.byteLength(target.key) > S3_LIMITS.maxKeyBytes) {
    throw new S3Error('KeyTooLongError', undefined, {
      extra: { Size: String(Buffer.byteLength(target.key)), MaxSizeAllowed: String(S3_LIMITS.maxKeyBytes) },
    });
  }
}

/**
 * Classification: the S3 operation (method, path and query markers), or the unsupported
 * sub-resource asked for. Unknown methods and headers the server would drop are refused.
 */
function classify(
  ex: Exchange,
  target: Target,
  query: URLSearchParams,
): { operation: S3Operation } | { unsupported: string } {
  const classification = classifyS3Request({
    method: ex.req.method ?? 'GET',
    bucket: target.bucket,
    key: target.key,
    query,
    hasCopySource: ex.req.headers['x-amz-copy-source'] !== undefined,
  });
  if ('unsupported' in classification) return classification;
  if ('methodNotAllowed' in classification) {
    throw new S3Error('MethodNotAllowed', undefined, {
      extra: { Method: ex.req.method ?? '', ResourceType: target.key === undefined ? 'BUCKET' : 'OBJECT' },
    });
  }
  // Tags, ACLs, KMS, object lock are not stored: refuse them rather than drop them.
  rejectUnsupportedHeaders(ex.req.headers, classification.operation);
  return classification;
}

/**
 * An unsupported sub-resource. As on AWS, a caller without the permission learns AccessDenied,
 * not what is implemented; ACLs are answered as an owner-enforced bucket does (read = owner
 * FULL_CONTROL, write refused); the rest is NotImplemented.
 */
function unsupportedSubresource(
  steps: Steps,
  ex: Exchange,
  target: Target,
  signed: Authenticated,
  unsupported: string,
): void {
  const { auth } = signed;
  const action = unsupportedSubresourceAction(unsupported, ex.req.method ?? 'GET', target.key !== undefined);
  if (action !== undefined && target.bucket !== undefined) {
    const arn =
      target.key !== undefined ? s3ObjectArn(target.bucket, target.key) : s3BucketArn(target.bucket);
    const keys = {
      ...requestConditionKeys(auth.presigned, auth.payloadHash, signed.signatureAgeMs),
      'aws:SourceIp': signed.sourceIp,
    };
    if (!steps.authorizer.isAllowed(auth.identity, action, arn, keys)) throw new S3Error('AccessDenied');
    if (unsupported === 'acl') {
      answerAcl({
        req: ex.req,
        res: ex.res,
        storage: steps.storage,
        bucket: target.bucket,
        key: target.key,
        ownerId: auth.identity.accountId,
        responseHeaders: ex.headers,
      });
      return;
    }
  }
  throw new S3Error(
    'NotImplemented',
    `The ${unsupported} sub-resource is not implemented by the Hoist local server.`,
  );
}

/** An authenticated request classified as one S3 operation: what authorisation and dispatch act on. */
interface S3Request {
  target: Target;
  signed: Authenticated;
  operation: S3Operation;
  query: URLSearchParams;
}

/** Authorisation: every IAM action the operation needs; returns the check handlers reuse. */
function authorise(steps: Steps, ex: Exchange, request: S3Request): S3Context['authorize'] {
  const { target, signed, operation, query } = request;
  const { auth } = signed;
  const facts = {
    operation,
    bucket: target.bucket,
    key: target.key,
    query,
    headers: ex.req.headers,
    presigned: auth.presigned,
    payloadHash: auth.payloadHash,
    signatureAgeMs: signed.signatureAgeMs,
  };
  const conditionKeys = { ...s3ConditionKeys(facts), 'aws:SourceIp': signed.sourceIp };
  const authorize = (action: string, resource: string) =>
    steps.authorizer.isAllowed(auth.identity, action, resource, conditionKeys);
  for (const needed of s3AuthorizationRequests(facts)) {
    if (!authorize(needed.action, needed.resource)) throw new S3Error('AccessDenied');
  }
  return authorize;
}

/** Dispatch: the body may come now; the operation's handler answers. */
async function dispatch(
  steps: Steps,
  ex: Exchange,
  request: S3Request,
  authorize: S3Context['authorize'],
): Promise<void> {
  const { target, signed, operation, query } = request;
  const ctx: S3Context = {
    req: ex.req,
    res: ex.res,
    operation,
    bucket: target.bucket,
    key: target.key,
    query,
    headers: ex.req.headers,
    auth: signed.auth,
    requestId: ex.requestId,
    storage: steps.storage,
    hashPool: steps.hashPool,
    options: steps.options,
    now: signed.now,
    authorize,
    responseHeaders: ex.headers,
  };
  allowBody(ex);
  await S3_HANDLERS[operation](ctx);
}

async function runSteps(steps: Steps, ex: Exchange): Promise<void> {
  const target = address(steps, ex);
  if (target.bucket !== undefined && isPostObject(ex.req, target.bucket, target.key))
    return formUpload(steps, ex, target.bucket);
  if (isQueryRequest(ex.req.method, target.rawPath, target.rawQuery)) return queryApi(steps, ex, target);
  if (ex.req.method === 'OPTIONS') return corsPreflight(steps, ex, target.bucket);
  const signed = await authenticate(steps, ex, target);
  checkLimits(target);
  const query = new URLSearchParams(target.rawQuery);
  const classification = classify(ex, target, query);
  if ('unsupported' in classification)
    return unsupportedSubresource(steps, ex, target, signed, classification.unsupported);
  const request: S3Request = { target, signed, operation: classification.operation, query };
  return dispatch(steps, ex, request, authorise(steps, ex, request));
}

/** The answer to a failed step: its S3 error, or InternalError (logged); nothing for a client that left. */
async function answerError(ex: Exchange, error: unknown): Promise<void> {
  const known = toS3Error(error);
  if (!known && isClientAbort(error)) {
    ex.res.destroy();
    return;
  }
  if (!known) {
    process.stderr.write(
      `hoist server: internal error on request ${ex.requestId}: ${(error as Error)?.stack ?? String(error)}\n`,
    );
  }
  await sendError(ex.req, ex.res, known ?? new S3Error('InternalError'), ex.headers, ex.resource, {
    bodyWithheld: ex.bodyWithheld,
  });
}

export function createRequestHandler(internals: ServerInternals) {
  const { options, iam, authorizer, tokenKey } = internals;
  const steps: Steps = {
    ...internals,
    runQueryAction: createQueryActionRunner({ options, iam, authorizer, tokenKey }),
  };

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
    const requestId = newRequestId();
    const ex: Exchange = {
      req,
      res,
      requestId,
      headers: {
        'x-amz-request-id': requestId,
        'x-amz-id-2': randomBytes(24).toString('base64'),
        server: 'AmazonS3',
        // From the injected clock, so clients that correct their skew from Date see the server's time.
        date: new Date(options.clock()).toUTCString(),
      },
      resource: '/',
      bodyWithheld: expectContinue,
    };
    try {
      await runSteps(steps, ex);
    } catch (error) {
      await answerError(ex, error);
    }
  };
}
