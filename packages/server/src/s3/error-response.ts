/**
 * S3 error responses: any thrown error becomes AWS's XML error document with the
 * right status (unknown errors are InternalError, logged, details withheld), and a
 * body the client is still sending is drained first (bounded) so it can read the answer.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderXml, S3Error } from '@hoist/aws/s3';
import type { S3WireError } from '../to-s3-error.ts';

/** Unread request bodies up to this size are drained before an error is sent, so clients see the error. */
const DRAIN_LIMIT = 8 * 1024 * 1024;

export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

export function renderErrorXml(
  error: S3WireError,
  resource: string,
  requestId: string,
  hostId: string,
): string {
  return renderXml(
    'Error',
    {
      Code: error.code,
      Message: error.message || error.code,
      ...(error.extra ?? {}),
      Resource: resource,
      RequestId: requestId,
      HostId: hostId,
    },
    { xmlns: false },
  );
}

async function drain(req: IncomingMessage): Promise<void> {
  if (req.complete || req.readableEnded) return;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (!(declared <= DRAIN_LIMIT)) return;
  try {
    for await (const _ of req) {
      // discard
    }
  } catch {
    // the client went away; nothing to answer
  }
}

export async function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: S3WireError,
  baseHeaders: Record<string, string>,
  resource: string,
  options: { bodyWithheld?: boolean } = {},
): Promise<void> {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A client waiting for 100 Continue sends no body to drain: answer, then close.
  if (!options.bodyWithheld) await drain(req);
  const requestId = baseHeaders['x-amz-request-id'] ?? newRequestId();
  const hostId = baseHeaders['x-amz-id-2'] ?? '';
  const headers: Record<string, string> =
    error instanceof S3Error ? { ...baseHeaders, ...error.headers } : { ...baseHeaders };
  const bodyUnread = !req.complete;
  if (bodyUnread) headers.connection = 'close';
  if (error.status === 304 || req.method === 'HEAD') {
    res.writeHead(error.status, headers);
    res.end();
  } else {
    const body = Buffer.from(renderErrorXml(error, resource, requestId, hostId));
    res.writeHead(error.status, {
      ...headers,
      'content-type': 'application/xml',
      'content-length': String(body.length),
    });
    res.end(body);
  }
  if (bodyUnread) res.once('finish', () => req.socket.destroySoon());
}
