/**
 * The Lambda entry: `handler` (configured from HOIST_CONFIG) answers Lambda function URL
 * events (payload format 2.0, built by hand as AWS documents it) in front of the real local
 * S3 + STS server.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { CreateUploadResponse } from '@hoist/protocol/internal/api';
import {
  BUCKET,
  clientFor,
  PREFIX,
  startBrokerBackend,
  TOKENS,
  writeBrokerConfigFile,
} from '../helpers/broker.ts';
import { functionUrlEvent } from '../helpers/lambda.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { type TestServer, tmpDir } from '../helpers/server.ts';

describe('Lambda handler (function URL events)', () => {
  const t = suiteCleanup();
  let server: TestServer;
  let handler: typeof import('@hoist/broker/lambda').handler;
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
    await writeBrokerConfigFile(file, server, {
      registry: { url: 'sqlite::memory:' },
      webhook: { url: hookUrl, secret: 'lambda-webhook-secret-0123456789' },
    });
    process.env.HOIST_CONFIG = file;
    process.env.HOIST_LOG_LEVEL = 'silent';
    ({ handler } = await import('@hoist/broker/lambda'));
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
