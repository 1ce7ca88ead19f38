/**
 * The broker's Prometheus metrics, on a registry of its own (never prom-client's global one,
 * so several brokers in one process, and tests, do not collide). `metricsText()` renders
 * them for `GET /metrics`. Label values are bounded: routes are patterns (`/uploads/:id`),
 * reasons are stable codes.
 *
 * @example
 * ```ts
 * const metrics = createMetrics();
 * metrics.observeRequest({ method: 'POST', route: '/uploads', status: 201, seconds: 0.012 });
 * c.header('content-type', metrics.contentType); return c.body(await metrics.metricsText());
 * ```
 * @module
 */

import type { UploadMode } from '@hoist/protocol';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface MetricsOptions {
  /** Also collect Node process metrics (CPU, memory, event loop, GC). @default false */
  processMetrics?: boolean;
  /** Prefix of every metric name. @default 'hoist_' */
  prefix?: string;
}

export interface BrokerMetrics {
  readonly registry: Registry;
  /** `hoist_http_requests_total{method,route,status}` */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  /** `hoist_http_request_duration_seconds{method,route}` */
  readonly httpDuration: Histogram<'method' | 'route'>;
  /** `hoist_credentials_issued_total{mode}`: credentials or URL batches minted (create + refresh + parts). */
  readonly credentialsIssued: Counter<'mode'>;
  /** `hoist_uploads_created_total{mode}` */
  readonly uploadsCreated: Counter<'mode'>;
  /** `hoist_uploads_completed_total{mode}` */
  readonly uploadsCompleted: Counter<'mode'>;
  /** `hoist_uploads_rejected_total{reason}`: refused at creation or at completion. */
  readonly uploadsRejected: Counter<'reason'>;
  /** `hoist_upload_bytes_completed_total` */
  readonly bytesCompleted: Counter;
  /** Counts one HTTP request. `route` must be the matched pattern, never the raw path. */
  observeRequest(request: { method: string; route: string; status: number; seconds: number }): void;
  /** Counts a completed upload and its bytes. */
  uploadCompleted(mode: UploadMode, bytes: number): void;
  /** Counts a rejection; `reason` is a stable code (e.g. a problem type), anything else counts as `other`. */
  uploadRejected(reason: string): void;
  /** The Prometheus text exposition of every metric. */
  metricsText(): Promise<string>;
  /** Content-Type of `metricsText()`. */
  readonly contentType: string;
}

const REASON = /^[a-z0-9][a-z0-9-]{0,39}$/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** A fresh registry with the broker's metrics. */
export function createMetrics(options: MetricsOptions = {}): BrokerMetrics {
  const prefix = options.prefix ?? 'hoist_';
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix });
  const httpRequests = new Counter({
    name: `${prefix}http_requests_total`,
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'HTTP request duration by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const credentialsIssued = new Counter({
    name: `${prefix}credentials_issued_total`,
    help: 'Temporary credentials or presigned URL batches issued, by mode',
    labelNames: ['mode'] as const,
    registers,
  });
  const uploadsCreated = new Counter({
    name: `${prefix}uploads_created_total`,
    help: 'Uploads created, by mode',
    labelNames: ['mode'] as const,
    registers,
  });
  const uploadsCompleted = new Counter({
    name: `${prefix}uploads_completed_total`,
    help: 'Uploads completed and verified, by mode',
    labelNames: ['mode'] as const,
    registers,
  });
  const uploadsRejected = new Counter({
    name: `${prefix}uploads_rejected_total`,
    help: 'Uploads refused at creation or rejected at completion, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const bytesCompleted = new Counter({
    name: `${prefix}upload_bytes_completed_total`,
    help: 'Bytes of completed uploads',
    registers,
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    credentialsIssued,
    uploadsCreated,
    uploadsCompleted,
    uploadsRejected,
    bytesCompleted,
    observeRequest({ method, route, status, seconds }) {
      const m = METHODS.has(method.toUpperCase()) ? method.toUpperCase() : 'OTHER';
      httpRequests.inc({ method: m, route, status: String(status) });
      httpDuration.observe({ method: m, route }, seconds);
    },
    uploadCompleted(mode, bytes) {
      uploadsCompleted.inc({ mode });
      if (bytes > 0) bytesCompleted.inc(bytes);
    },
    uploadRejected(reason) {
      uploadsRejected.inc({ reason: REASON.test(reason) ? reason : 'other' });
    },
    metricsText: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
