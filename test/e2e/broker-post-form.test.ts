/**
 * Single-request uploads as presigned POST forms, against the real local S3 server: the forms
 * `GET {uppy.path}/s3/params` and `POST /uploads` (singleRequest: 'post') hand out, sent as a
 * browser's FormData would; S3 refusing every form that breaks its policy with nothing written;
 * and the broker verifying what arrived without a completion call — on the owner's reads and,
 * once the form has expired, in the sweeper.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { settleExpiredForms, sweep } from '@hoist/broker';
import { hoistAwsS3Options } from '@hoist/client/internal/uppy';
import {
  BUCKET,
  brokerConfig,
  crc32cBase64,
  MiB,
  PREFIX,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  type TestBroker,
  TOKENS,
} from '../helpers/broker.ts';
import { type Form, policyOf, postForm } from '../helpers/post-form.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import type { TestServer } from '../helpers/server.ts';

const APP = 'http://app.example.test';
const COOKIE = 'hoist_session';
const LIMIT = 20 * MiB;

describe('single-request uploads as POST forms', () => {
  const hook = suiteCleanup();
  let server: TestServer;
  let broker: TestBroker;
  /** The broker's clock runs this many ms behind real time (the S3 server's). */
  let lag = 0;
  /** Webhook events the broker delivered. */
  const events: { type: string; data: { id: string; size: number; metadata: object } }[] = [];

  before(async () => {
    server = await startBrokerBackend(hook);
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        events.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hook.after(() => new Promise((resolve) => receiver.close(resolve)));
    const { port } = receiver.address() as AddressInfo;
    broker = await startTestBroker(
      hook,
      brokerConfig(server, 'presign', {
        limits: { maxObjectSize: LIMIT, maxConcurrentUploadsPerUser: 100, maxCredentialMintsPerMinute: 1000 },
        cors: { origins: [APP] },
        uppy: { enabled: true, path: '/companion', cookieName: COOKIE },
        webhook: { url: `http://127.0.0.1:${port}/hook`, secret: 'webhook-secret-0123456789' },
      }),
      { clock: () => Date.now() - lag },
    );
  });

  async function params(user: keyof typeof TOKENS, query: Record<string, string>) {
    const res = await fetch(`${broker.url}/companion/s3/params?${new URLSearchParams(query)}`, {
      headers: { cookie: `${COOKIE}=${TOKENS[user]}`, origin: APP },
    });
    return { status: res.status, statusText: res.statusText, body: await res.json() };
  }

  async function companionForm(user: keyof typeof TOKENS = 'alice', filename = 'notes.txt'): Promise<Form> {
    const res = await params(user, { filename, type: 'text/plain' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  const idOf = (form: Form) => form.fields['x-amz-meta-hoist-upload'] ?? '';
  const status = async (id: string) => (await broker.app.registry.get(id))?.status;

  test("Companion's path: a form for a file of unknown size, stored by S3, settled by its owner's GET /uploads", async () => {
    const form = await companionForm();
    assert.equal(new URL(form.url).pathname, `/${BUCKET}`);
    assert.match(form.fields.key ?? '', new RegExp(`^${PREFIX}/alice/[a-z0-9]+/notes\\.txt$`));
    const { conditions } = policyOf(form);
    assert.deepEqual(conditions[0], { bucket: BUCKET });
    assert.ok(conditions.some((c) => JSON.stringify(c) === JSON.stringify(['eq', '$key', form.fields.key])));
    assert.ok(conditions.some((c) => JSON.stringify(c) === '["eq","$Content-Type","text/plain"]'));
    assert.ok(
      conditions.some((c) => JSON.stringify(c) === JSON.stringify(['content-length-range', 1, 5 * MiB])),
      'unknown size: 1 byte up to the single-request size',
    );
    const data = randomBytes(1 * MiB);
    const sent = await postForm(form, data);
    assert.equal(sent.status, 201, sent.text);
    assert.match(sent.text, /<PostResponse>/);

    const id = idOf(form);
    assert.equal(await status(id), 'created', 'not counted before the broker verified it');
    // Another user's reads neither show nor settle it.
    assert.equal((await broker.api('bob', 'GET', `/uploads/${id}`)).status, 404);
    const bobs = await broker.api('bob', 'GET', '/uploads');
    assert.ok(!bobs.body.uploads.some((u: { id: string }) => u.id === id));
    assert.equal(await status(id), 'created');

    const list = await broker.api('alice', 'GET', '/uploads');
    const entry = list.body.uploads.find((u: { id: string }) => u.id === id);
    assert.equal(entry.status, 'completed', 'settled by the owner’s read');
    assert.equal(entry.size, data.length, 'sized from the object');
    assert.equal(entry.etag, createHash('md5').update(data).digest('hex'));
    assert.ok((await storedBytes(server.client, form.fields.key ?? '')).equals(data));
    // The webhook and the metric count it as any completion.
    await broker.app.settle();
    assert.equal(events.find((e) => e.data.id === id)?.type, 'upload.completed');
    const metrics = await (await fetch(`${broker.url}/metrics`)).text();
    assert.match(metrics, /hoist_uploads_completed_total\{mode="presign"\} [1-9]/);
  });

  test('S3 refuses a form that breaks its policy, and nothing is written', async () => {
    const signer = hoistAwsS3Options({
      endpoint: `${broker.url}/companion`,
      token: TOKENS.alice,
      singleRequestMaxSize: 5 * MiB,
    });
    const ref = signer.generateObjectKey({ name: 'exact.bin', type: 'application/octet-stream', size: 1000 });
    const signed = await signer.signRequest({ method: 'PUT', key: ref });
    assert.ok(signed.fields, 'a form, not a URL');
    const form = { url: signed.url, fields: signed.fields };
    assert.equal(signed.key, form.fields.key);
    assert.ok(
      policyOf(form).conditions.some((c) => JSON.stringify(c) === '["content-length-range",1000,1000]'),
      'the declared size, exactly',
    );
    const key = form.fields.key ?? '';
    const other = `${PREFIX}/alice/someone-else/exact.bin`;
    const attempts: [string, Awaited<ReturnType<typeof postForm>>, RegExp][] = [
      ['one byte more', await postForm(form, randomBytes(1001)), /EntityTooLarge/],
      ['one byte less', await postForm(form, randomBytes(999)), /EntityTooSmall/],
      [
        'another key',
        await postForm(form, randomBytes(1000), { key: other }),
        /Policy Condition failed.*\$key/,
      ],
      [
        'another type',
        await postForm(form, randomBytes(1000), { 'Content-Type': 'text/html' }),
        /Policy Condition failed.*\$content-type/i,
      ],
      [
        'an extra field',
        await postForm(form, randomBytes(1000), { 'x-amz-meta-extra': '1' }),
        /Extra input fields/,
      ],
    ];
    for (const [what, res, code] of attempts) {
      assert.ok(res.status === 400 || res.status === 403, `${what}: ${res.status}`);
      assert.match(res.text, code, what);
    }
    assert.equal(await objectExists(server.client, BUCKET, key), false, 'nothing at the key');
    assert.equal(await objectExists(server.client, BUCKET, other), false, 'nothing at the other key');

    // Over the limits: refused before any form exists, with a message for people.
    const tooBig = await params('alice', {
      filename: 'big.bin',
      type: 'text/plain',
      size: String(LIMIT + 1),
    });
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.detail, 'This file is larger than your 20 MiB limit');
    assert.equal(tooBig.statusText, 'This file is larger than your 20 MiB limit', 'what Uppy shows');
    const notSmall = await params('alice', {
      filename: 'mid.bin',
      type: 'text/plain',
      size: String(6 * MiB),
    });
    assert.equal(notSmall.status, 413);
    assert.match(notSmall.body.detail, /Files over 5 MiB go in parts/);
  });

  test('an expired form is refused by S3; the sweeper then expires its upload', async () => {
    lag = 10 * 60_000;
    let form: Form;
    try {
      form = await companionForm('alice', 'late.txt');
    } finally {
      lag = 0;
    }
    const res = await postForm(form, randomBytes(100));
    assert.equal(res.status, 403);
    assert.match(res.text, /Policy expired/);
    assert.equal(await objectExists(server.client, BUCKET, form.fields.key ?? ''), false);
    await sweepNow();
    assert.equal(await status(idOf(form)), 'expired');
  });

  /** The sweeper's first pass an hour from now (every form expired), settling forms first. */
  async function sweepNow() {
    return sweep({
      registry: broker.app.registry,
      s3: broker.app.aws.s3,
      bucket: BUCKET,
      keyPrefix: PREFIX,
      now: Date.now() + 3600_000,
      olderThanMs: 86_400_000,
      settle: settleExpiredForms(broker.app.uploads),
    });
  }

  test('after the form expires the sweeper verifies what nobody completed: kept, deleted or expired', async () => {
    const valid = await companionForm('bob', 'valid.txt');
    const data = randomBytes(4096);
    assert.equal((await postForm(valid, data)).status, 201);
    const wrong = await companionForm('bob', 'wrong.txt');
    // Written around the broker, with another type: not what the form allowed.
    await server.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: wrong.fields.key,
        Body: 'zip',
        ContentType: 'application/zip',
      }),
    );
    const unused = await companionForm('bob', 'unused.txt');

    const result = await sweepNow();
    assert.ok((result.settled ?? 0) >= 2, JSON.stringify(result));
    const kept = await broker.app.registry.get(idOf(valid));
    assert.equal(kept?.status, 'completed');
    assert.equal(kept?.size, data.length);
    assert.ok((await storedBytes(server.client, valid.fields.key ?? '')).equals(data));
    const rejected = await broker.app.registry.get(idOf(wrong));
    assert.equal(rejected?.status, 'rejected');
    assert.match(rejected?.reason ?? '', /type is application\/zip/);
    assert.equal(await objectExists(server.client, BUCKET, wrong.fields.key ?? ''), false, 'deleted');
    assert.equal(await status(idOf(unused)), 'expired');
    // Announced as any completion or rejection, without the broker's own metadata.
    await broker.app.settle();
    const completed = events.find((e) => e.type === 'upload.completed' && e.data.id === idOf(valid));
    assert.equal(completed?.data.size, data.length);
    assert.deepEqual(completed?.data.metadata, {});
    assert.ok(events.some((e) => e.type === 'upload.rejected' && e.data.id === idOf(wrong)));
  });

  test("POST /uploads with singleRequest 'post': the checksum is pinned, and complete verifies at once", async () => {
    const data = randomBytes(64 * 1024);
    const created = await broker.api('alice', 'POST', '/uploads', {
      filename: 'sum.bin',
      size: data.length,
      contentType: 'application/octet-stream',
      checksum: crc32cBase64(data),
      singleRequest: 'post',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.putRequest, undefined);
    const form: Form = created.body.postForm;
    assert.equal(form.fields['x-amz-checksum-algorithm'], 'CRC32C');
    assert.equal(form.fields['x-amz-checksum-crc32c'], crc32cBase64(data));
    const other = randomBytes(data.length);
    const bad = await postForm(form, other);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /BadDigest/);
    assert.equal(await objectExists(server.client, BUCKET, created.body.key), false);
    assert.equal((await postForm(form, data)).status, 201);
    const done = await broker.api('alice', 'POST', `/uploads/${created.body.id}/complete`, { parts: [] });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, 'completed');
    assert.equal(done.body.checksum, crc32cBase64(data));
  });
});
