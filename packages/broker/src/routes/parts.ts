/** `POST /uploads/:id/parts` (presign mode): presigned UploadPart URLs, signed just in time. */
import { partUrlsRequest } from '@hoist/protocol/schemas';
import { Hono } from 'hono';
import type { UploadService } from '../uploads.ts';
import { type BrokerEnv, jsonBody, uploadIdParam } from './context.ts';
import { parse } from './parse.ts';

export function partRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();
  app.post('/:id/parts', async (c) => {
    const id = uploadIdParam(c);
    return c.json(await service.partUrls(c.get('user'), id, parse(partUrlsRequest, await jsonBody(c))));
  });
  return app;
}
