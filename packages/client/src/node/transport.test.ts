import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { signRequest } from '@hoist/aws/sigv4';
import { startTestServer, TEST_CREDENTIALS } from '../../../../test/helpers/server.ts';
import { type Hook, startHttp } from './test-helpers.ts';
import { createNodeTransport } from './transport.ts';

const MiB = 1024 * 1024;

function transport(t: Hook) {
  const tr = createNodeTransport();
  t.after(() => tr.close());
  return tr;
}

async function sha256Of(req: IncomingMessage): Promise<{ sha: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of req) {
    hash.update(chunk as Buffer);
    length += (chunk as Buffer).byteLength;
  }
  return { sha: hash.digest('hex'), length };
}

function isAbortError(error: unknown): boolean {
  assert.ok(error instanceof DOMException, `expected a DOMException, got ${String(error)}`);
  assert.equal(error.name, 'AbortError');
  return true;
}

describe('createNodeTransport', () => {
  it('PUTs a 20 MiB body byte-identical with Content-Length and monotonic progress', async (t) => {
    const seen: { headers?: IncomingMessage['headers'] } = {};
    const server = await startHttp(t, async (req, res) => {
      seen.headers = req.headers;
      const { sha, length } = await sha256Of(req);
      res.writeHead(200, { ETag: '"abc"', 'X-Multi': ['a', 'b'], 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ sha, length }));
    });
    const body = new Uint8Array(randomBytes(20 * MiB + 7));
    const progress: number[] = [];
    const res = await transport(t).send({
      method: 'PUT',
      url: `${server.url}/bucket/key?partNumber=1`,
      headers: { 'X-Amz-Meta-Test': 'yes', 'Content-Length': '1' },
      body,
      signal: new AbortController().signal,
      onUploadProgress: (sent) => progress.push(sent),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), {
      sha: createHash('sha256').update(body).digest('hex'),
      length: body.byteLength,
    });
    assert.equal(res.header('etag'), '"abc"');
    assert.equal(res.header('ETag'), '"abc"');
    assert.equal(res.header('x-multi'), 'a, b');
    assert.equal(res.header('x-missing'), null);
    assert.equal(seen.headers?.['content-length'], String(body.byteLength));
    assert.equal(seen.headers?.['x-amz-meta-test'], 'yes');
    assert.equal(seen.headers?.['transfer-encoding'], undefined);
    assert.ok(progress.length > 1);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! > progress[i - 1]!, 'monotonic');
    assert.equal(progress.at(-1), body.byteLength);
  });

  it('returns error statuses and bodies instead of rejecting; sends strings and empty bodies', async (t) => {
    const server = await startHttp(t, async (req, res) => {
      const { length } = await sha256Of(req);
      res.writeHead(req.url === '/missing' ? 404 : 201, { 'x-len': String(length) });
      res.end(req.url === '/missing' ? '<Error><Code>NoSuchKey</Code></Error>' : '');
    });
    const tr = transport(t);
    const signal = new AbortController().signal;
    const missing = await tr.send({ method: 'GET', url: `${server.url}/missing`, headers: {}, signal });
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '<Error><Code>NoSuchKey</Code></Error>');
    const text = await tr.send({
      method: 'POST',
      url: `${server.url}/s`,
      headers: {},
      body: 'héllo',
      signal,
    });
    assert.equal(text.status, 201);
    assert.equal(text.header('x-len'), '6');
    const empty = await tr.send({
      method: 'PUT',
      url: `${server.url}/e`,
      headers: {},
      body: new Uint8Array(),
      signal,
    });
    assert.equal(empty.header('x-len'), '0');
  });

  it('keeps at most 1 MiB of a response body', async (t) => {
    const server = await startHttp(t, (_req, res) => res.end(Buffer.alloc(3 * MiB, 'x')));
    const res = await transport(t).send({
      method: 'GET',
      url: server.url,
      headers: {},
      signal: new AbortController().signal,
    });
    assert.equal(res.text.length, MiB);
  });

  it('reuses keep-alive sockets', async (t) => {
    const server = await startHttp(t, async (req, res) => {
      await sha256Of(req);
      res.end('ok');
    });
    const tr = transport(t);
    for (let i = 0; i < 10; i++) {
      const res = await tr.send({
        method: 'PUT',
        url: `${server.url}/${i}`,
        headers: {},
        body: new Uint8Array(1000),
        signal: new AbortController().signal,
      });
      assert.equal(res.text, 'ok');
    }
    assert.equal(server.connections(), 1);
  });

  it('rejects with AbortError when the signal fires mid-body, or before sending', async (t) => {
    const controller = new AbortController();
    let requests = 0;
    // Never reads the body: the client is stuck mid-body when it aborts.
    const server = await startHttp(t, () => {
      requests++;
      controller.abort();
    });
    const tr = transport(t);
    const progress: number[] = [];
    await assert.rejects(
      tr.send({
        method: 'PUT',
        url: server.url,
        headers: {},
        body: new Uint8Array(64 * MiB),
        signal: controller.signal,
        onUploadProgress: (sent) => progress.push(sent),
      }),
      isAbortError,
    );
    assert.equal(requests, 1);
    assert.ok((progress.at(-1) ?? 0) < 64 * MiB);

    await assert.rejects(
      tr.send({ method: 'GET', url: server.url, headers: {}, signal: AbortSignal.abort() }),
      isAbortError,
    );
    assert.equal(requests, 1);
  });

  it('rejects with AbortError while waiting for the response', async (t) => {
    const controller = new AbortController();
    const server = await startHttp(t, async (req) => {
      await sha256Of(req);
      controller.abort(); // and never answer
    });
    await assert.rejects(
      transport(t).send({
        method: 'PUT',
        url: server.url,
        headers: {},
        body: new Uint8Array(1000),
        signal: controller.signal,
      }),
      isAbortError,
    );
  });

  it('rejects with a coded network error when the server drops the connection mid-body', async (t) => {
    const server = await startHttp(t, (req) => {
      req.once('data', () => req.socket.destroy());
    });
    await assert.rejects(
      transport(t).send({
        method: 'PUT',
        url: server.url,
        headers: {},
        body: new Uint8Array(32 * MiB),
        signal: new AbortController().signal,
      }),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(typeof (error as { code?: unknown }).code, 'string', String(error));
        return true;
      },
    );
  });

  it('rejects with ECONNREFUSED when nothing listens', async (t) => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      transport(t).send({
        method: 'GET',
        url: `http://127.0.0.1:${port}/`,
        headers: {},
        signal: new AbortController().signal,
      }),
      { code: 'ECONNREFUSED' },
    );
  });

  it('resolves an early answer without waiting for the rest of the body, then recovers', async (t) => {
    const server = await startHttp(t, (req, res) => {
      if (req.url === '/early') res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
      else sha256Of(req).then(({ length }) => res.end(String(length)));
    });
    const tr = transport(t);
    const signal = new AbortController().signal;
    const early = await tr.send({
      method: 'PUT',
      url: `${server.url}/early`,
      headers: {},
      body: new Uint8Array(16 * MiB),
      signal,
    });
    assert.equal(early.status, 403);
    assert.match(early.text, /AccessDenied/);
    const next = await tr.send({
      method: 'PUT',
      url: `${server.url}/ok`,
      headers: {},
      body: new Uint8Array(10),
      signal,
    });
    assert.equal(next.text, '10');
  });

  it('validates its options', () => {
    assert.throws(() => createNodeTransport({ maxSockets: 0 }), /maxSockets/);
  });

  it('uploads a SigV4-signed PutObject to the local S3 server', async (t) => {
    const server = await startTestServer(t);
    await server.client.send(new CreateBucketCommand({ Bucket: 'bucket' }));
    const body = new Uint8Array(randomBytes(3 * MiB + 1));
    const url = `${server.url}/bucket/dir/object.bin`;
    const headers = { 'content-type': 'application/octet-stream' };
    const signed = await signRequest({
      method: 'PUT',
      url,
      headers,
      service: 's3',
      region: server.region,
      credentials: { ...TEST_CREDENTIALS },
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    const res = await transport(t).send({
      method: 'PUT',
      url,
      headers: { ...headers, ...signed },
      body,
      signal: new AbortController().signal,
    });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.header('etag'));
    const got = await server.client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'dir/object.bin' }));
    const bytes = await got.Body!.transformToByteArray();
    assert.equal(got.ContentLength, body.byteLength);
    assert.ok(Buffer.from(bytes).equals(body));
  });
});
