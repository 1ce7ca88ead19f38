/** `POST /uploads`, `GET /uploads`, `GET|DELETE /uploads/:id`, `GET /uploads/:id/download`. */
import { createUploadRequest, IDEMPOTENCY_KEY, listUploadsQuery } from '@hoist/protocol/schemas';
import { Hono } from 'hono';
import { BrokerProblem } from '../errors.ts';
import type { UploadService } from '../uploads.ts';
import { type BrokerEnv, jsonBody, uploadIdParam } from './context.ts';
import { parse } from './parse.ts';

export function uploadRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();

  app.post('/', async (c) => {
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey))
      throw new BrokerProblem('invalid-request', 'The Idempotency-Key header is not valid', {
        errors: [{ path: 'Idempotency-Key', message: 'must be 1-128 characters of A-Z, a-z, 0-9, _ and -' }],
      });
    const body = parse(createUploadRequest, await jsonBody(c));
    const { upload, replayed } = await service.createOnce(c.get('user'), body, idempotencyKey);
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(upload, 201);
  });

  app.get('/', async (c) =>
    c.json(await service.list(c.get('user'), parse(listUploadsQuery, c.req.query(), 'query'))),
  );

  app.get('/:id', async (c) => c.json(await service.get(c.get('user'), uploadIdParam(c))));

  app.delete('/:id', async (c) => c.json(await service.abort(c.get('user'), uploadIdParam(c))));

  app.get('/:id/download', async (c) => c.json(await service.download(c.get('user'), uploadIdParam(c))));

  return app;
}
