/** `POST /uploads/:id/parts` (presign mode): presigned UploadPart URLs, signed just in time. */

import type { PartUrlsRequest } from '@hoist/protocol';
import { Hono } from 'hono';
import type { UploadService } from '../uploads.ts';
import { type BrokerEnv, jsonBody, uploadIdParam } from './context.ts';
import { parse, partUrlsSchema } from './schemas.ts';

export function partRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();
  app.post('/:id/parts', async (c) => {
    const id = uploadIdParam(c);
    const body = parse(partUrlsSchema, await jsonBody(c));
    const request: PartUrlsRequest = { partNumbers: body.partNumbers };
    if (body.checksums) request.checksums = body.checksums;
    return c.json(await service.partUrls(c.get('user'), id, request));
  });
  return app;
}
