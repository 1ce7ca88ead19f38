/** `POST /uploads/:id/complete`: complete, verify (size, type, checksum), record — or reject. */
import { completeUploadRequest } from '@hoist/protocol/schemas';
import { Hono } from 'hono';
import type { UploadService } from '../uploads.ts';
import { type BrokerEnv, jsonBody, uploadIdParam } from './context.ts';
import { parse } from './parse.ts';

export function completeRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();
  app.post('/:id/complete', async (c) => {
    const id = uploadIdParam(c);
    const body = parse(completeUploadRequest, await jsonBody(c));
    return c.json(await service.complete(c.get('user'), id, body));
  });
  return app;
}
