/**
 * The Lambda entry: `handler` (configured from HOIST_CONFIG) answers Lambda function URL
 * events (payload format 2.0, built by hand as AWS documents it) in front of the real local
 * S3 + STS server.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LambdaEvent } from 'hono/aws-lambda';
import type { CreateUploadResponse } from '../../src/protocol/api.ts';
import {
  BROKER_KEYS,
  BUCKET,
  clientFor,
  PREFIX,
  ROLE_ARN,
  startBrokerBackend,
  TOKENS,
} from '../helpers/broker.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { type TestServer, tmpDir } from '../helpers/server.ts';

/**
 * A function URL invocation event (payload format version 2.0) as AWS sends it: no `body`
 * without one and no `authorizer` with auth type NONE (hono's type insists on both).
 */
function functionUrlEvent(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; query?: string } = {},
): LambdaEvent {
  const domain = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws';
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: {
      host: domain,
      'user-agent': 'hoist-test',
      'x-amzn-trace-id': 'Root=1-5f84c7a9-0e5b1e0f3d1c2b3a4f5e6d7c',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...options.headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: domain,
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'hoist-test' },
      requestId: 'c3d5e4f0-7b8a-4c1d-9e2f-0a1b2c3d4e5f',
      routeKey: '$default',
      stage: '$default',
      time: '22/Nov/2026:18:00:00 +0000',
      timeEpoch: 1_795_284_000_000,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: false,
  };
  return event as unknown as LambdaEvent;
}

describe('Lambda handler (function URL events)', () => {
  const t = suiteCleanup();
  let server: TestServer;
  let handler: typeof import('../../src/broker/lambda.ts').handler;
  const hooks: { type: string; data: { id: string } }[] = [];

  before(async () => {
    server = await startBrokerBackend(t);
    // The completion webhook's receiver: it must have the event when the handler returns,
    // because Lambda freezes the container right after.
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const dir = await tmpDir(t);
    const file = join(dir, 'broker.json');
    await writeFile(
      file,
      JSON.stringify({
        mode: 'sts',
        s3: { endpoint: server.url, region: server.region, bucket: BUCKET, credentials: BROKER_KEYS },
        sts: { roleArn: ROLE_ARN },
        keyPrefix: PREFIX,
        auth: { tokens: TOKENS },
        registry: { url: 'sqlite::memory:' },
        webhook: { url: hookUrl, secret: 'lambda-webhook-secret-0123456789' },
      }),
    );
    process.env.HOIST_CONFIG = file;
    process.env.HOIST_LOG_LEVEL = 'silent';
    ({ handler } = await import('../../src/broker/lambda.ts'));
  });

  test('GET /healthz', async () => {
    const res = await handler(functionUrlEvent('GET', '/healthz'));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
    assert.ok(res.headers?.['x-request-id']);
  });

  test('POST /uploads returns credentials that can upload the key', async () => {
    const res = await handler(
      functionUrlEvent('POST', '/uploads', {
        headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'lambda.txt', size: 5, contentType: 'text/plain' }),
      }),
    );
    assert.equal(res.statusCode, 201, res.body);
    const created = JSON.parse(res.body) as CreateUploadResponse;
    assert.equal(created.key, `${PREFIX}/alice/${created.id}/lambda.txt`);
    assert.equal(created.uploadId, null);
    const s3 = clientFor(created);
    t.after(() => s3.destroy());
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: created.key,
        Body: 'hello',
        ContentType: 'text/plain',
        IfNoneMatch: '*',
      }),
    );
    const done = await handler(
      functionUrlEvent('POST', `/uploads/${created.id}/complete`, {
        headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
        body: '{"parts":[]}',
      }),
    );
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(JSON.parse(done.body).status, 'completed');
    // Delivered before the handler returned, not left to a frozen container.
    assert.deepEqual(
      hooks.map((hook) => [hook.type, hook.data.id]),
      [['upload.completed', created.id]],
    );
  });

  test('errors are problem+json', async () => {
    const res = await handler(functionUrlEvent('GET', '/uploads', { query: 'limit=5' }));
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers?.['content-type'], 'application/problem+json');
    assert.equal(JSON.parse(res.body).type, 'https://hoist.dev/problems/unauthorized');
  });
});
