/** `POST /uploads`, `GET /uploads`, `GET|DELETE /uploads/:id`, `GET /uploads/:id/download`. */
import { Hono } from 'hono';
import { BrokerProblem } from '../errors.ts';
import type { CreateUploadInput, UploadService } from '../uploads.ts';
import { type BrokerEnv, jsonBody, uploadIdParam } from './context.ts';
import { createUploadSchema, listQuerySchema, parse } from './schemas.ts';

/** What an `Idempotency-Key` may be: a UUID fits, and it is safe to store and log. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{1,128}$/;

export function uploadRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();

  app.post('/', async (c) => {
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey))
      throw new BrokerProblem('invalid-request', 'The Idempotency-Key header is not valid', {
        errors: [{ path: 'Idempotency-Key', message: 'must be 1-128 characters of A-Z, a-z, 0-9, _ and -' }],
      });
    const body = parse(createUploadSchema, await jsonBody(c));
    const input: CreateUploadInput = {
      filename: body.filename,
      size: body.size,
      contentType: body.contentType,
    };
    if (body.checksumAlgorithm) input.checksumAlgorithm = body.checksumAlgorithm;
    if (body.metadata) input.metadata = body.metadata;
    if (body.checksum) input.checksum = body.checksum;
    if (body.contentMd5) input.contentMd5 = body.contentMd5;
    if (body.partSize) input.partSize = body.partSize;
    if (body.singleRequest) input.singleRequest = body.singleRequest;
    const { upload, replayed } = await service.createOnce(c.get('user'), input, idempotencyKey);
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(upload, 201);
  });

  app.get('/', async (c) => {
    const query = parse(listQuerySchema, c.req.query(), 'query');
    const options: { limit: number; cursor?: string } = { limit: query.limit ?? 20 };
    if (query.cursor) options.cursor = query.cursor;
    return c.json(await service.list(c.get('user'), options));
  });

  app.get('/:id', async (c) => c.json(await service.get(c.get('user'), uploadIdParam(c))));

  app.delete('/:id', async (c) => c.json(await service.abort(c.get('user'), uploadIdParam(c))));

  app.get('/:id/download', async (c) => c.json(await service.download(c.get('user'), uploadIdParam(c))));

  return app;
}
