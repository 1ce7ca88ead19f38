/** `POST /uploads`, `GET /uploads`, `GET|DELETE /uploads/:id`, `GET /uploads/:id/download`. */
import { Hono } from 'hono';
import type { CreateUploadInput, UploadService } from '../uploads.ts';
import { type BrokerEnv, jsonBody, uploadIdParam } from './context.ts';
import { createUploadSchema, listQuerySchema, parse } from './schemas.ts';

export function uploadRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();

  app.post('/', async (c) => {
    const body = parse(createUploadSchema, await jsonBody(c));
    const input: CreateUploadInput = {
      filename: body.filename,
      size: body.size,
      contentType: body.contentType,
    };
    if (body.checksumAlgorithm) input.checksumAlgorithm = body.checksumAlgorithm;
    if (body.metadata) input.metadata = body.metadata;
    if (body.checksum) input.checksum = body.checksum;
    if (body.partSize) input.partSize = body.partSize;
    return c.json(await service.create(c.get('user'), input), 201);
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
