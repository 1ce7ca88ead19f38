/**
 * The AWS Query-protocol endpoint on the same port as S3: `POST /` with a form body
 * (or `GET /?Action=…`), signed for the `sts` or `iam` service. The service is named
 * by the request's credential scope, as AWS's own endpoints are told apart by host.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { S3Error } from '@hoist/aws/s3';
import type { VerifiedRequest } from '@hoist/aws/sigv4';
import { SigV4Error, verifyRequest } from '@hoist/aws/sigv4';
import { ClientAbortError, isClientAbort } from './client-abort.ts';
import { ProtocolError } from './errors.ts';
import { IAM_XMLNS } from './iam/xml.ts';
import type { CredentialLookup, Identity } from './identity.ts';
import { queryAuthError, renderQueryError, STS_XMLNS, StsError } from './sts/errors.ts';
import { type S3WireError, toS3Error } from './to-s3-error.ts';

const MAX_QUERY_BODY = 64 * 1024;

export type QueryService = 'sts' | 'iam';

export interface QueryEndpointDeps {
  lookup: CredentialLookup;
  region: string;
  clock: () => number;
  /** Runs an authenticated action; returns status and XML, or throws a ProtocolError (StsError, IamError). */
  run(
    service: QueryService,
    params: URLSearchParams,
    auth: VerifiedRequest<Identity>,
    requestId: string,
  ): { status: number; body: string };
}

/** Is this request for the Query endpoint rather than S3? (S3 has no operation on `POST /`.) */
export function isQueryRequest(method: string | undefined, rawPath: string, rawQuery: string): boolean {
  if (rawPath !== '/') return false;
  if (method === 'POST') return true;
  return method === 'GET' && /(^|&)Action=/.test(rawQuery);
}

function scopeService(req: IncomingMessage, rawQuery: string): string | undefined {
  const authorization = req.headers.authorization ?? '';
  const fromHeader = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(authorization)?.[1];
  if (fromHeader) return fromHeader;
  const credential = new URLSearchParams(rawQuery).get('X-Amz-Credential') ?? '';
  return credential.split('/')[3];
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_QUERY_BODY)
    throw new StsError('ValidationError', `Request body is larger than ${MAX_QUERY_BODY} bytes.`);
  const pieces: Buffer[] = [];
  let size = 0;
  try {
    for await (const piece of req) {
      size += (piece as Buffer).length;
      if (size > MAX_QUERY_BODY)
        throw new StsError('ValidationError', `Request body is larger than ${MAX_QUERY_BODY} bytes.`);
      pieces.push(piece as Buffer);
    }
  } catch (error) {
    if (error instanceof StsError) throw error;
    throw new ClientAbortError({ cause: error });
  }
  // A socket closed between chunks can also end the stream early without an error.
  if (!req.complete) throw new ClientAbortError();
  return Buffer.concat(pieces);
}

/** The errors the Query endpoint answers with their own code and status, by class; others are internal. */
function queryErrorOf(error: unknown): ProtocolError | S3WireError | undefined {
  return error instanceof ProtocolError || error instanceof S3Error || error instanceof SigV4Error
    ? error
    : undefined;
}

export async function handleQueryRequest(
  req: IncomingMessage,
  res: ServerResponse,
  target: { rawPath: string; rawQuery: string },
  requestId: string,
  deps: QueryEndpointDeps,
): Promise<void> {
  let service: QueryService = scopeService(req, target.rawQuery) === 'iam' ? 'iam' : 'sts';
  const send = (status: number, body: string) => {
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-requestid': requestId,
      // The server's own (injectable) clock: SDKs correct their clock skew from this header.
      date: new Date(deps.clock()).toUTCString(),
    });
    res.end(body);
  };
  try {
    const scope = scopeService(req, target.rawQuery);
    const body = await readBody(req);
    if (scope !== undefined && scope !== 'sts' && scope !== 'iam') {
      throw new StsError('InvalidAction', `The service "${scope}" is not served on this endpoint.`);
    }
    service = scope === 'iam' ? 'iam' : 'sts';
    let auth: VerifiedRequest<Identity>;
    try {
      auth = await verifyRequest({
        method: req.method ?? 'POST',
        rawPath: target.rawPath,
        rawQuery: target.rawQuery,
        rawHeaders: req.rawHeaders,
        now: deps.clock(),
        // IAM is a global service signed for us-east-1.
        region: service === 'iam' ? 'us-east-1' : deps.region,
        service,
        crypto: nodeSigV4Crypto,
        lookup: deps.lookup,
        bodySha256: createHash('sha256').update(body).digest('hex'),
      });
    } catch (error) {
      const known = toS3Error(error);
      if (!known) throw error;
      throw queryAuthError(known.code, known.message);
    }
    const params = new URLSearchParams(target.rawQuery);
    const contentType = req.headers['content-type'] ?? '';
    if (body.length > 0) {
      if (!contentType.startsWith('application/x-www-form-urlencoded')) {
        throw new StsError('ValidationError', 'The request body must be application/x-www-form-urlencoded.');
      }
      for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params.append(name, value);
    }
    const result = deps.run(service, params, auth, requestId);
    send(result.status, result.body);
  } catch (error) {
    if (isClientAbort(error)) {
      // Nobody is left to read an answer, and it is not our fault: no log, no response.
      res.destroy();
      return;
    }
    const shape = queryErrorOf(error);
    if (!shape)
      process.stderr.write(
        `hoist server: internal error on request ${requestId}: ${(error as Error)?.stack ?? String(error)}\n`,
      );
    const { code, status, message } = shape ?? {
      code: 'InternalFailure',
      status: 500,
      message: 'We encountered an internal error.',
    };
    send(
      status,
      renderQueryError(service === 'iam' ? IAM_XMLNS : STS_XMLNS, code, message, requestId, status),
    );
  }
}
