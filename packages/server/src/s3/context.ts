/**
 * The per-request context every S3 handler receives, and the few ways a handler
 * answers: XML, empty, or a stream. Errors are thrown as S3Error and rendered in http.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Operation } from '@hoist/aws/s3';
import { renderXml, type XmlNode } from '@hoist/aws/s3';
import type { VerifiedRequest } from '@hoist/aws/sigv4';
import type { HashPool } from '../checksum/hash-pool.ts';
import type { Identity } from '../identity.ts';
import type { ResolvedServerOptions } from '../options.ts';
import type { Storage } from '../storage/types.ts';

export interface S3Context {
  req: IncomingMessage;
  res: ServerResponse;
  operation: S3Operation;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  /** Lowercased request headers (Node's view; use req.rawHeaders for duplicates). */
  headers: IncomingMessage['headers'];
  auth: VerifiedRequest<Identity>;
  requestId: string;
  storage: Storage;
  /** Worker threads that hash large bodies. */
  hashPool: HashPool;
  options: ResolvedServerOptions;
  now: number;
  /** Whether the caller's policies allow `action` on `resource` (with this request's condition keys). */
  authorize(action: string, resource: string): boolean;
  /** Response headers set so far by the pipeline (CORS, request id). */
  responseHeaders: Record<string, string>;
}

export function header(ctx: S3Context, name: string): string | undefined {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export function sendXml(
  ctx: S3Context,
  status: number,
  root: string,
  body: XmlNode,
  extraHeaders: Record<string, string> = {},
): void {
  const payload = Buffer.from(renderXml(root, body));
  ctx.res.writeHead(status, {
    ...ctx.responseHeaders,
    ...extraHeaders,
    'content-type': 'application/xml',
    'content-length': String(payload.length),
  });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : payload);
}

export function sendEmpty(ctx: S3Context, status: number, extraHeaders: Record<string, string> = {}): void {
  ctx.res.writeHead(status, { ...ctx.responseHeaders, ...extraHeaders, 'content-length': '0' });
  ctx.res.end();
}

export function requireBucketName(ctx: S3Context): string {
  if (ctx.bucket === undefined) throw new Error('handler routed without a bucket');
  return ctx.bucket;
}

export function requireKey(ctx: S3Context): string {
  if (ctx.key === undefined) throw new Error('handler routed without a key');
  return ctx.key;
}

/** RFC 7231 date, as S3 sends in Last-Modified. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
