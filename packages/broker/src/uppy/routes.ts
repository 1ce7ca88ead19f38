/**
 * Companion's S3 routes, as `@uppy/aws-s3` (companionEndpoint) calls and reads them, under the
 * broker's `uppy.path`; plus `/session`, which turns a bearer token into the HttpOnly cookie
 * Uppy's plain fetches carry. Each route validates and calls UppyService; errors are the
 * broker's problem documents (and, for Uppy, which shows only the status line, the reason
 * phrase: see reason-phrase.ts).
 */
import { createUploadRequest } from '@hoist/protocol/schemas';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { BrokerProblem } from '../errors.ts';
import { REASON_HEADER, toReasonPhrase } from '../reason-phrase.ts';
import { type BrokerEnv, jsonBody } from '../routes/context.ts';
import type { BrokerUser } from '../types.ts';
import { sessionCookie } from './cookie-auth.ts';
import type { UppyService } from './service.ts';

export interface UppyRouteOptions {
  service: UppyService;
  /** Bearer header or (origin-checked) cookie; undefined means nobody signed in. */
  authenticate(headers: Headers): Promise<BrokerUser | undefined>;
  cookieName: string;
  /** Where a completed object is, for Uppy's `location`. */
  locationOf(bucket: string, key: string): string;
}

const DEFAULT_TYPE = 'application/octet-stream';
const filenameSchema = createUploadRequest.shape.filename;
const contentTypeSchema = createUploadRequest.shape.contentType;
const createSchema = z.object({
  filename: z.string(),
  type: z.string().optional(),
});
const completeSchema = z.object({
  parts: z
    .array(
      z.object({ PartNumber: z.coerce.number().int().min(1).max(10_000), ETag: z.string().min(1).max(1024) }),
    )
    .min(1)
    .max(10_000),
});

function invalid(message: string): BrokerProblem {
  return new BrokerProblem('invalid-request', message);
}

function parse<T>(schema: z.ZodType<T>, value: unknown, message: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(message);
  return result.data;
}

function keyParam(c: Context<BrokerEnv>): string {
  const key = c.req.query('key');
  if (!key) throw invalid('The "key" query parameter is required');
  return key;
}

export function uppyRoutes(options: UppyRouteOptions): Hono<BrokerEnv> {
  const { service } = options;
  const app = new Hono<BrokerEnv>();

  // Uppy shows only the status line of a failure: the detail goes there too (reason-phrase.ts).
  app.use('*', async (c, next) => {
    await next();
    if (c.res.status < 400) return;
    const problem = (await c.res
      .clone()
      .json()
      .catch(() => undefined)) as { detail?: unknown } | undefined;
    if (typeof problem?.detail === 'string') c.res.headers.set(REASON_HEADER, toReasonPhrase(problem.detail));
  });

  app.post('/session', async (c) => {
    // Only a bearer token makes a session: the cookie itself must never renew itself cross-site.
    const header = c.req.header('authorization') ?? '';
    const token = /^Bearer (\S+)$/.exec(header)?.[1];
    const user = token ? await options.authenticate(c.req.raw.headers) : undefined;
    if (!token || !user) throw new BrokerProblem('unauthorized', 'Send "Authorization: Bearer <token>"');
    const secure = new URL(c.req.url).protocol === 'https:';
    c.header('set-cookie', sessionCookie(options.cookieName, token, secure));
    c.header('cache-control', 'no-store');
    return c.json({ user: user.id });
  });

  app.delete('/session', (c) => {
    const secure = new URL(c.req.url).protocol === 'https:';
    c.header('set-cookie', sessionCookie(options.cookieName, undefined, secure));
    return c.body(null, 204);
  });

  app.use('/s3/*', async (c, next) => {
    if (c.req.method === 'OPTIONS') return next();
    const user = await options.authenticate(c.req.raw.headers);
    if (!user) throw new BrokerProblem('unauthorized', 'Please sign in to upload');
    c.set('user', user);
    await next();
  });

  // Uppy's small-file path POSTs a form straight to S3 and never tells the backend it is done:
  // the broker could not verify the object, so it does not hand one out (docs/uppy.md).
  app.get('/s3/params', () => {
    throw new BrokerProblem(
      'conflict',
      'Single-request uploads are not verified; configure Uppy with shouldUseMultipart: true',
    );
  });

  app.post('/s3/multipart', async (c) => {
    const body = parse(createSchema, await jsonBody(c), 'The body must be {filename, type, metadata}');
    const filename = parse(filenameSchema, body.filename, 'The file name is not allowed');
    const contentType = parse(
      contentTypeSchema,
      body.type || DEFAULT_TYPE,
      'The file type is not a media type',
    );
    const { key, uploadId } = await service.create(c.get('user'), { filename, contentType });
    return c.json({ key, uploadId });
  });

  app.get('/s3/multipart/:uploadId/:partNumber', async (c) => {
    const partNumber = Number(c.req.param('partNumber'));
    const signed = await service.signPart(c.get('user'), c.req.param('uploadId'), keyParam(c), partNumber);
    const expires = Math.max(0, Math.round((Date.parse(signed.expiresAt) - Date.now()) / 1000));
    return c.json({ url: signed.url, expires });
  });

  app.get('/s3/multipart/:uploadId', async (c) => {
    const parts = await service.listParts(c.get('user'), c.req.param('uploadId'), keyParam(c));
    return c.json(parts.map((p) => ({ PartNumber: p.partNumber, Size: p.size, ETag: p.etag })));
  });

  app.post('/s3/multipart/:uploadId/complete', async (c) => {
    const body = parse(completeSchema, await jsonBody(c), 'The body must be {parts: [{PartNumber, ETag}]}');
    const parts = body.parts
      .map((p) => ({ partNumber: p.PartNumber, etag: p.ETag }))
      .sort((a, b) => a.partNumber - b.partNumber);
    const done = await service.complete(c.get('user'), c.req.param('uploadId'), keyParam(c), parts);
    return c.json({
      location: options.locationOf(done.bucket, done.key),
      bucket: done.bucket,
      key: done.key,
    });
  });

  app.delete('/s3/multipart/:uploadId', async (c) => {
    await service.abort(c.get('user'), c.req.param('uploadId'), keyParam(c));
    return c.json({});
  });

  return app;
}
