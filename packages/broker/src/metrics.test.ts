import assert from 'node:assert/strict';
import { test } from 'node:test';
import { register } from 'prom-client';
import { createMetrics } from './metrics.ts';

test('metrics: counters and histograms render as Prometheus text on a private registry', async () => {
  const metrics = createMetrics();
  metrics.observeRequest({ method: 'post', route: '/uploads', status: 201, seconds: 0.02 });
  metrics.observeRequest({ method: 'BREW', route: '/uploads/:id', status: 404, seconds: 0.001 });
  metrics.credentialsIssued.inc({ mode: 'sts' });
  metrics.credentialsIssued.inc({ mode: 'sts' });
  metrics.uploadsCreated.inc({ mode: 'presign' });
  metrics.uploadCompleted('sts', 1_048_576);
  metrics.uploadRejected('upload-rejected');
  metrics.uploadRejected('Size mismatch: 12 != 13');
  const text = await metrics.metricsText();
  assert.match(text, /hoist_http_requests_total\{method="POST",route="\/uploads",status="201"\} 1/);
  assert.match(text, /hoist_http_requests_total\{method="OTHER",route="\/uploads\/:id",status="404"\} 1/);
  assert.match(
    text,
    /hoist_http_request_duration_seconds_bucket\{le="0.025",method="POST",route="\/uploads"\} 1/,
  );
  assert.match(text, /hoist_credentials_issued_total\{mode="sts"\} 2/);
  assert.match(text, /hoist_uploads_created_total\{mode="presign"\} 1/);
  assert.match(text, /hoist_uploads_completed_total\{mode="sts"\} 1/);
  assert.match(text, /hoist_upload_bytes_completed_total 1048576/);
  assert.match(text, /hoist_uploads_rejected_total\{reason="upload-rejected"\} 1/);
  assert.match(text, /hoist_uploads_rejected_total\{reason="other"\} 1/);
  assert.match(metrics.contentType, /^text\/plain/);
  // Private registries: two instances do not collide, the global one stays empty.
  const other = createMetrics();
  assert.doesNotMatch(await other.metricsText(), /credentials_issued_total\{/);
  assert.doesNotMatch(await register.metrics(), /hoist_/);
});

test('metrics: process metrics on request', async () => {
  const metrics = createMetrics({ processMetrics: true });
  assert.match(await metrics.metricsText(), /hoist_process_cpu_user_seconds_total/);
});
