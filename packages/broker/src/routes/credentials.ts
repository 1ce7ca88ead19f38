/** `POST /uploads/:id/credentials`: fresh temporary credentials for the same one key. */
import { Hono } from 'hono';
import type { UploadService } from '../uploads.ts';
import { type BrokerEnv, uploadIdParam } from './context.ts';

export function credentialRoutes(service: UploadService): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();
  app.post('/:id/credentials', async (c) =>
    c.json(await service.refreshCredentials(c.get('user'), uploadIdParam(c))),
  );
  return app;
}
