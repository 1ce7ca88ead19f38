/**
 * The engine's single-request uploads as the broker's presigned POST form (the default), against
 * the real broker and local S3 server: the file goes as a multipart/form-data POST and is verified
 * by the broker; a form S3 refuses fails with a typed error and keeps nothing; 'put' still PUTs.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { UploadError } from '@hoist/client/internal/errors';
import type { FormBody, HttpRequest, HttpTransport } from '@hoist/client/internal/types';
import { createNodeHasher, createNodeTransport, createNodeUpload } from '@hoist/client/node';
import type { UploadMode } from '@hoist/protocol/internal/api';
import {
  BUCKET,
  brokerConfig,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  TOKENS,
} from '../helpers/broker.ts';
import { type Hook, tmpDir } from '../helpers/server.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The real Node transport, remembering each request's method and Content-Type; `change` may alter a form. */
function recordingTransport(t: Hook, change?: (form: FormBody) => FormBody) {
  const inner = createNodeTransport();
  t.after(() => inner.close());
  const sent: { method: string; contentType: string }[] = [];
  const transport: HttpTransport = {
    send(request: HttpRequest) {
      const body = request.body;
      const form = typeof body === 'object' && 'fields' in body ? body : undefined;
      sent.push({
        method: request.method,
        contentType: form ? 'multipart/form-data' : (request.headers['content-type'] ?? ''),
      });
      return inner.send(form && change ? { ...request, body: change(form) } : request);
    },
  };
  return { transport, sent };
}

async function setup(t: Hook, mode: UploadMode, size: number) {
  const server = await startBrokerBackend(t);
  const broker = await startTestBroker(t, brokerConfig(server, mode));
  const data = randomBytes(size);
  const path = join(await tmpDir(t), 'small.bin');
  await writeFile(path, data);
  return { server, broker, data, path };
}

async function keysInBucket(t: Awaited<ReturnType<typeof setup>>): Promise<string[]> {
  const out = await t.server.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (out.Contents ?? []).map((object) => object.Key as string);
}

for (const mode of ['presign', 'sts'] as const) {
  test(`engine, ${mode} mode: a small file goes as the broker's POST form, verified byte for byte`, async (t) => {
    const s = await setup(t, mode, 300 * 1024 + 5);
    const { transport, sent } = recordingTransport(t);
    const upload = await createNodeUpload(s.path, {
      brokerUrl: s.broker.url,
      token: TOKENS.alice,
      transport,
    });
    let progressed = 0;
    upload.on('progress', ({ confirmedBytes, inFlightBytes }) => {
      progressed = Math.max(progressed, confirmedBytes + inFlightBytes);
    });
    const view = await upload.start();
    assert.equal(view.status, 'completed');
    assert.deepEqual(sent, [{ method: 'POST', contentType: 'multipart/form-data' }]);
    assert.equal(sha256(await storedBytes(s.server.client, view.key)), sha256(s.data));
    assert.equal(progressed, s.data.byteLength);
    assert.equal(upload.progress.fraction, 1);
  });
}

test("engine: singleRequest 'put' still sends one PutObject", async (t) => {
  const s = await setup(t, 'presign', 1000);
  const { transport, sent } = recordingTransport(t);
  const upload = await createNodeUpload(s.path, {
    brokerUrl: s.broker.url,
    token: TOKENS.alice,
    transport,
    singleRequest: 'put',
  });
  const view = await upload.start();
  assert.equal(view.status, 'completed');
  assert.deepEqual(
    sent.map((r) => r.method),
    ['PUT'],
  );
  assert.equal(sha256(await storedBytes(s.server.client, view.key)), sha256(s.data));
});

test('engine: an empty file goes as a form too', async (t) => {
  const s = await setup(t, 'presign', 0);
  const { transport, sent } = recordingTransport(t);
  const upload = await createNodeUpload(s.path, { brokerUrl: s.broker.url, token: TOKENS.alice, transport });
  const view = await upload.start();
  assert.equal(view.size, 0);
  assert.deepEqual(
    sent.map((r) => r.method),
    ['POST'],
  );
  assert.equal((await storedBytes(s.server.client, view.key)).byteLength, 0);
});

test('bad input: a file longer than the form declares is refused by S3 (EntityTooLarge), nothing kept', async (t) => {
  const s = await setup(t, 'presign', 4096);
  // The file grew after the broker was asked: more bytes than the policy's exact size.
  const { transport, sent } = recordingTransport(t, (form) => ({
    ...form,
    file: new Blob([new Uint8Array(s.data), new Uint8Array(10)]),
  }));
  const upload = await createNodeUpload(s.path, { brokerUrl: s.broker.url, token: TOKENS.alice, transport });
  await assert.rejects(
    upload.start(),
    (error: unknown) =>
      error instanceof UploadError &&
      error.code === 's3-error' &&
      error.upstreamCode === 'EntityTooLarge' &&
      /PostObject failed: EntityTooLarge/.test(error.message),
  );
  assert.equal(sent.length, 1, 'refused for good, not retried');
  assert.deepEqual(await keysInBucket(s), []);
});

test('bad input: a tampered form (another Content-Type) is refused by the policy (access-denied), nothing kept', async (t) => {
  const s = await setup(t, 'presign', 4096);
  const { transport } = recordingTransport(t, (form) => ({
    ...form,
    fields: { ...form.fields, 'Content-Type': 'text/html' },
  }));
  const upload = await createNodeUpload(s.path, { brokerUrl: s.broker.url, token: TOKENS.alice, transport });
  await assert.rejects(
    upload.start(),
    (error: unknown) =>
      error instanceof UploadError && error.code === 'access-denied' && error.upstreamCode === 'AccessDenied',
  );
  assert.deepEqual(await keysInBucket(s), []);
});

test("bad input: singleRequest must be 'put' or 'post'", async (t) => {
  const s = await setup(t, 'presign', 10);
  await assert.rejects(
    createNodeUpload(s.path, {
      brokerUrl: s.broker.url,
      token: TOKENS.alice,
      singleRequest: 'get' as 'put',
    }),
    (error: unknown) =>
      error instanceof UploadError && error.code === 'invalid-options' && /singleRequest/.test(error.message),
  );
  assert.deepEqual(await keysInBucket(s), []);
});

test('a file over the broker’s single-request size but hashed first goes multipart, not as a form', async (t) => {
  // The broker takes single requests up to 5 MiB (brokerConfig); the engine hashes files up to 8 MiB first.
  const s = await setup(t, 'presign', 6 * 1024 * 1024);
  const { transport, sent } = recordingTransport(t);
  const upload = await createNodeUpload(s.path, { brokerUrl: s.broker.url, token: TOKENS.alice, transport });
  const view = await upload.start();
  assert.ok(sent.length >= 2 && sent.every((r) => r.method === 'PUT'), 'parts, each a PUT');
  assert.equal(sha256(await storedBytes(s.server.client, view.key)), sha256(s.data));
});

test('small files: the MD5 is hashed only until the broker says its store keeps checksums', async (t) => {
  for (const flexibleChecksums of [true, false]) {
    const server = await startBrokerBackend(t);
    const broker = await startTestBroker(
      t,
      brokerConfig(server, 'presign', { store: { flexibleChecksums } }),
    );
    const dir = await tmpDir(t);
    const algorithms: string[][] = [];
    for (const name of ['first.bin', 'second.bin']) {
      const data = randomBytes(4096);
      const path = join(dir, name);
      await writeFile(path, data);
      const inner = createNodeHasher();
      const used: string[] = [];
      const upload = await createNodeUpload(path, {
        brokerUrl: broker.url,
        token: TOKENS.alice,
        hasher: {
          ...inner,
          digest: (algorithm, bytes) => {
            used.push(algorithm);
            return inner.digest(algorithm, bytes);
          },
        },
      });
      const view = await upload.start();
      assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(data));
      algorithms.push(used);
    }
    const md5s = algorithms.map((used) => used.filter((a) => a === 'MD5').length);
    // The first file to a broker is hashed both ways; later ones only where the store needs the MD5.
    assert.deepEqual(
      md5s,
      flexibleChecksums ? [1, 0] : [1, 1],
      `${flexibleChecksums}: ${JSON.stringify(algorithms)}`,
    );
  }
});
