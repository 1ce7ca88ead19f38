/** `GET /healthz`, `GET /metrics` (Prometheus text), `GET /openapi.json`: no authentication. */
import { Hono } from 'hono';
import type { BrokerMetrics } from '../metrics.ts';
import { openApiDocument } from '../openapi.ts';
import type { Registry } from '../types.ts';
import type { BrokerEnv } from './context.ts';

export function healthRoutes(deps: { registry: Registry; metrics: BrokerMetrics }): Hono<BrokerEnv> {
  const app = new Hono<BrokerEnv>();

  app.get('/healthz', async (c) => {
    try {
      // A cheap query proves the registry answers (and runs migrations on first use).
      await deps.registry.countActive('healthz');
      return c.json({ status: 'ok' });
    } catch {
      return c.json({ status: 'unavailable', registry: 'unreachable' }, 503);
    }
  });

  app.get('/metrics', async (c) => {
    c.header('content-type', deps.metrics.contentType);
    return c.body(await deps.metrics.metricsText());
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  return app;
}
