/** `POST /uploads/:id/complete`: complete, verify (size, type, checksum), record — or reject. */

import type { CompletedPart, CompleteUploadRequest } from '@hoist/protocol';
import { Hono } from 'hono';
import type { UploadService } from '../uploads.ts';
import { type BrokerEnv, jsonBody, uploadIdParam } from './context.ts';
import { completeSchema, parse } from './schemas.ts';

export function completeRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();
  app.post('/:id/complete', async (c) => {
    const id = uploadIdParam(c);
    const body = parse(completeSchema, await jsonBody(c));
    const parts = body.parts.map((p) => {
      const part: CompletedPart = { partNumber: p.partNumber, etag: p.etag };
      if (p.checksum !== undefined) part.checksum = p.checksum;
      return part;
    });
    const request: CompleteUploadRequest = { parts };
    if (body.checksum !== undefined) request.checksum = body.checksum;
    return c.json(await service.complete(c.get('user'), id, request));
  });
  return app;
}
