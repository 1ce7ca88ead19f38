/**
 * The upload engine end to end in Node: a real broker in front of the real local S3 + STS
 * server, files generated at run time, and the stored object's SHA-256 compared with the file's.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { UploadError } from '@hoist/client/internal/errors';
import type { Upload } from '@hoist/client/internal/upload';
import { createJsonFileStore, createNodeUpload, type NodeUploadOptions } from '@hoist/client/node';
import type { UploadMode } from '@hoist/protocol/internal/api';
import {
  BROKER_IAM,
  BUCKET,
  brokerConfig,
  MiB,
  openMultipartKeys,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  TOKENS,
} from '../helpers/broker.ts';
import { type Hook, startTestServer, type TestServer, tmpDir } from '../helpers/server.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function writeRandom(dir: string, name: string, size: number): Promise<{ path: string; data: Buffer }> {
  const data = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, data);
  return { path, data };
}

/** A large file written in chunks, hashed on the way: no single huge buffer in the test. */
async function writeLargeRandom(
  dir: string,
  name: string,
  size: number,
): Promise<{ path: string; sha: string }> {
  const path = join(dir, name);
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const chunk = 4 * MiB;
  for (let written = 0; written < size; written += chunk) {
    const piece = randomBytes(Math.min(chunk, size - written));
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return { path, sha: hash.digest('hex') };
}

async function stack(t: Hook, mode: UploadMode = 'sts', overrides: Record<string, unknown> = {}) {
  const server = await startBrokerBackend(t);
  const broker = await startTestBroker(t, brokerConfig(server, mode, overrides));
  const dir = await tmpDir(t);
  return { server, broker, dir };
}

describe('engine: sizes and modes', () => {
  const cases: [UploadMode, number][] = [
    ['sts', 0],
    ['sts', 1],
    ['sts', 5 * MiB],
    ['sts', 5 * MiB + 1],
    ['federation', 5 * MiB + 1],
    ['presign', 1],
    ['presign', 5 * MiB + 1],
    ['presign', 12 * MiB + 7],
  ];
  for (const [mode, size] of cases) {
    test(`${mode}: ${size} bytes arrive intact`, async (t) => {
      const { server, broker, dir } = await stack(t, mode);
      const file = await writeRandom(dir, 'data.bin', size);
      const upload = await createNodeUpload(file.path, { brokerUrl: broker.url, token: TOKENS.alice });
      const states: string[] = [];
      upload.on('state', ({ state }) => states.push(state));
      const view = await upload.start();
      assert.equal(view.status, 'completed');
      assert.equal(view.size, size);
      assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
      assert.deepEqual(states, ['preparing', 'uploading', 'completing', 'completed']);
      assert.equal(upload.progress.fraction, 1);
      assert.equal(upload.progress.confirmedBytes, size);
    });
  }

  test('200 MiB in 8 MiB parts: bytes, full-object CRC32C, parts and monotonic progress', async (t) => {
    const { server, broker, dir } = await stack(t, 'sts', {
      partSize: '8MiB',
      limits: { maxObjectSize: '256MiB' },
    });
    const file = await writeLargeRandom(dir, 'big.bin', 200 * MiB);
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      checksumAlgorithm: 'CRC32C',
    });
    const parts = new Set<number>();
    let last = { confirmed: 0, fraction: 0 };
    let regressions = 0;
    upload.on('part', ({ partNumber }) => parts.add(partNumber));
    upload.on('progress', (p) => {
      if (p.confirmedBytes < last.confirmed || p.fraction < last.fraction) regressions++;
      last = { confirmed: p.confirmedBytes, fraction: p.fraction };
    });
    const view = await upload.start();
    assert.equal(parts.size, 25);
    assert.equal(regressions, 0);
    assert.equal(view.checksumAlgorithm, 'CRC32C');
    assert.ok(view.checksum && !view.checksum.includes('-'), `full-object checksum, got ${view.checksum}`);
    assert.equal(sha256(await storedBytes(server.client, view.key)), file.sha);
  });

  test('SHA256 uploads complete with a COMPOSITE checksum the engine checks', async (t) => {
    const { server, broker, dir } = await stack(t);
    const file = await writeRandom(dir, 'sha.bin', 11 * MiB);
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      checksumAlgorithm: 'SHA256',
    });
    const view = await upload.start();
    assert.match(view.checksum ?? '', /-3$/);
    assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
  });

  test("Node's default CRC32, parts from reused chunk buffers: every part's own bytes, in order", async (t) => {
    const { server, broker, dir } = await stack(t);
    // Nine parts, each different, more in flight than idle chunk buffers at the start: a reused
    // buffer overwritten too early would put one part's bytes into another.
    const file = await writeRandom(dir, 'parts.bin', 9 * 5 * MiB + 123);
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      partSize: 5 * MiB,
      concurrency: 8,
    });
    const view = await upload.start();
    assert.equal(view.checksumAlgorithm, 'CRC32');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(file.data) >>> 0);
    assert.equal(view.checksum, crc.toString('base64'), 'the full-object CRC32 of the file');
    const stored = await storedBytes(server.client, view.key);
    assert.equal(stored.length, file.data.length);
    assert.ok(Buffer.from(stored).equals(file.data), 'byte for byte');
  });
});

describe('engine: control', () => {
  test('pause stops sending, resume finishes the same upload', async (t) => {
    const { server, broker, dir } = await stack(t);
    const file = await writeRandom(dir, 'pause.bin', 30 * MiB);
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      concurrency: 1,
      adaptiveConcurrency: false,
    });
    const partsWhilePaused: number[] = [];
    let paused = false;
    upload.on('part', ({ partNumber }) => {
      if (paused) partsWhilePaused.push(partNumber);
      else if (partNumber === 2) {
        upload.pause();
        paused = true;
      }
    });
    const done = upload.start();
    await until(() => upload.state === 'paused');
    const id = upload.id;
    // Let any request that was cancelled settle; nothing new may start while paused.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(partsWhilePaused, []);
    paused = false;
    upload.resume();
    const view = await done;
    assert.equal(view.id, id);
    assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
  });

  test('abort cancels in flight, aborts the multipart upload and rejects start()', async (t) => {
    const { server, broker, dir } = await stack(t);
    const file = await writeRandom(dir, 'abort.bin', 30 * MiB);
    const stateFile = join(dir, 'state.json');
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
    });
    upload.on('part', () => void upload.abort());
    await assert.rejects(
      upload.start(),
      (error: unknown) => error instanceof UploadError && error.code === 'aborted',
    );
    assert.equal(upload.state, 'aborted');
    assert.deepEqual(await openMultipartKeys(server.client), []);
    assert.deepEqual(await createJsonFileStore(stateFile).list(), []);
    const view = await broker.api('alice', 'GET', `/uploads/${upload.id}`);
    assert.equal(view.body.status, 'aborted');
  });

  test('resume after a crash re-sends only the missing parts and verifies unrecorded ones', async (t) => {
    const { server, broker, dir } = await stack(t);
    const file = await writeRandom(dir, 'resume.bin', 40 * MiB);
    const stateFile = join(dir, 'state.json');
    const first = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
      concurrency: 2,
      adaptiveConcurrency: false,
    });
    const firstParts = new Set<number>();
    first.on('part', ({ partNumber }) => {
      firstParts.add(partNumber);
      // A crash: the process stops; whatever was written down is all the next run gets.
      if (firstParts.size === 4) first.pause();
    });
    void first.start().catch(() => {});
    await until(() => first.state === 'paused');
    const stored = await createJsonFileStore(stateFile).list();
    assert.equal(stored.length, 1);
    // What S3 holds now: the finished parts, plus any whose bytes arrived while the pause cut
    // off their answers (never recorded: the next run must hash and adopt them, not resend them).
    await first.pause();
    const held = await broker.api('alice', 'GET', `/uploads/${first.id}`);
    const onS3 = new Set((held.body.parts as { partNumber: number }[]).map((p) => p.partNumber));
    for (const part of firstParts) assert.ok(onS3.has(part), `finished part ${part} is on S3`);

    const second = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
    });
    const resent = new Set<number>();
    second.on('part', ({ partNumber }) => resent.add(partNumber));
    const view = await second.start();
    assert.equal(view.id, first.id);
    for (const part of firstParts) assert.ok(!resent.has(part), `part ${part} was sent again`);
    // Only parts S3 lacked were sent again. The others were on S3 at the pause, or landed just
    // after it (at most the 2 in flight) and were adopted once their bytes hashed the same.
    for (const part of resent) assert.ok(!onS3.has(part), `part ${part} was on S3 and sent again`);
    const adopted = [1, 2, 3, 4, 5, 6, 7, 8].filter((part) => !onS3.has(part) && !resent.has(part));
    assert.ok(adopted.length <= 2, `parts neither on S3 at the pause nor resent: ${adopted.join(', ')}`);
    assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
    assert.deepEqual(await createJsonFileStore(stateFile).list(), []);
  });

  test('resuming with a different file is refused before anything is sent', async (t) => {
    const { broker, dir } = await stack(t);
    const original = await writeRandom(dir, 'a.bin', 12 * MiB);
    const stateFile = join(dir, 'state.json');
    await interrupted(original.path, { brokerUrl: broker.url, token: TOKENS.alice, stateFile });
    const [record] = await createJsonFileStore(stateFile).list();
    assert.ok(record);

    const other = await writeRandom(dir, 'b.bin', 12 * MiB);
    const wrong = await createNodeUpload(other.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      resumeFrom: record,
    });
    let sentParts = 0;
    wrong.on('part', () => sentParts++);
    await assert.rejects(
      wrong.start(),
      (error: unknown) => error instanceof UploadError && error.code === 'resume-mismatch',
    );
    assert.equal(sentParts, 0);
  });

  test('a file changed since the interrupted run starts a new upload and aborts the old one', async (t) => {
    const { server, broker, dir } = await stack(t);
    const file = await writeRandom(dir, 'changing.bin', 12 * MiB);
    const stateFile = join(dir, 'state.json');
    const first = await interrupted(file.path, { brokerUrl: broker.url, token: TOKENS.alice, stateFile });
    const changed = randomBytes(12 * MiB);
    await writeFile(file.path, changed);
    const second = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
    });
    const view = await second.start();
    assert.notEqual(view.id, first.id);
    assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(changed));
    const old = await broker.api('alice', 'GET', `/uploads/${first.id}`);
    assert.equal(old.body.status, 'aborted');
    assert.deepEqual(await openMultipartKeys(server.client), []);
  });

  test('bad input: a token the broker refuses fails with unauthorized and creates nothing', async (t) => {
    const { server, broker, dir } = await stack(t);
    const file = await writeRandom(dir, 'x.bin', 1024);
    const upload = await createNodeUpload(file.path, { brokerUrl: broker.url, token: 'not-a-token' });
    await assert.rejects(
      upload.start(),
      (error: unknown) => error instanceof UploadError && error.code === 'unauthorized',
    );
    assert.deepEqual(await openMultipartKeys(server.client), []);
  });

  test('bad input: a file over the broker limit is refused before any byte is sent', async (t) => {
    const { server, broker, dir } = await stack(t, 'sts', { limits: { maxObjectSize: '10MiB' } });
    const file = await writeRandom(dir, 'big.bin', 11 * MiB);
    const upload = await createNodeUpload(file.path, { brokerUrl: broker.url, token: TOKENS.alice });
    await assert.rejects(
      upload.start(),
      (error: unknown) => error instanceof UploadError && error.code === 'too-large',
    );
    assert.deepEqual(await openMultipartKeys(server.client), []);
    const list = await broker.api('alice', 'GET', '/uploads');
    assert.deepEqual(list.body.uploads, []);
  });
});

describe('engine: credentials and clocks', () => {
  test('credentials that expire mid-upload are refreshed, the clock corrected, and no part is lost', async (t) => {
    // The server's clock jumps 20 minutes ahead after the first part: the credentials have
    // expired and the engine's signatures look 20 minutes old (RequestTimeTooSkewed).
    let offset = 0;
    const server: TestServer = await startTestServer(t, {
      iam: BROKER_IAM,
      clock: () => Date.now() + offset,
    });
    await server.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const broker = await startTestBroker(t, brokerConfig(server, 'sts'));
    const dir = await tmpDir(t);
    const file = await writeRandom(dir, 'slow.bin', 20 * MiB);
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      concurrency: 1,
      adaptiveConcurrency: false,
      retry: { baseDelayMs: 1, maxDelayMs: 10 },
    });
    const refreshed: string[] = [];
    const retried: string[] = [];
    upload.on('part', ({ partNumber }) => {
      if (partNumber === 1) offset = 20 * 60_000;
    });
    upload.on('credentials', ({ expiration }) => refreshed.push(expiration));
    upload.on('retry', ({ error }) => retried.push(error.upstreamCode ?? error.code));
    const view = await upload.start();
    offset = 0;
    assert.ok(refreshed.length >= 1, 'credentials were refreshed');
    assert.ok(
      retried.some((code) => code === 'ExpiredToken' || code === 'RequestTimeTooSkewed'),
      `retries: ${retried.join(', ')}`,
    );
    assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
  });

  test('the resume record survives in the JSON state file with the finished parts', async (t) => {
    const { broker, dir } = await stack(t);
    const file = await writeRandom(dir, 'state.bin', 16 * MiB);
    const stateFile = join(dir, 'state.json');
    const upload = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
    });
    upload.on('part', ({ partNumber }) => {
      if (partNumber >= 1) upload.pause();
    });
    void upload.start().catch(() => {});
    await until(() => upload.state === 'paused');
    let text = '';
    let record: { parts: unknown[]; id: string } | undefined;
    await untilAsync(async () => {
      text = await readFile(stateFile, 'utf8').catch(() => '{"records":{}}');
      record = Object.values(JSON.parse(text).records)[0] as typeof record;
      return (record?.parts.length ?? 0) >= 1;
    });
    assert.equal(record?.id, upload.id);
    assert.ok(!text.includes(TOKENS.alice), 'no token in the state file');
    assert.ok(!/secretAccessKey|sessionToken/i.test(text), 'no credentials in the state file');
    await upload.abort();
  });
});

/** An upload stopped (paused, as a crash would leave it) once `parts` parts are done. */
async function interrupted(path: string, options: NodeUploadOptions, parts = 1): Promise<Upload> {
  const upload = await createNodeUpload(path, options);
  let done = 0;
  upload.on('part', () => {
    if (++done >= parts) upload.pause();
  });
  void upload.start().catch(() => {});
  await until(() => upload.state === 'paused');
  return upload;
}

async function untilAsync(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('condition not reached');
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'condition not reached');
}

test('engine: the partSize option reaches the broker (whole MiB, at least 5 MiB)', async (t) => {
  const { server, broker, dir } = await stack(t);
  const file = await writeRandom(dir, 'parts.bin', 13 * MiB);
  const upload = await createNodeUpload(file.path, {
    brokerUrl: broker.url,
    token: TOKENS.alice,
    partSize: 6 * MiB,
  });
  const parts: number[] = [];
  upload.on('part', ({ size }) => parts.push(size));
  const view = await upload.start();
  assert.equal(view.partSize, 6 * MiB);
  assert.deepEqual(
    parts.sort((a, b) => b - a),
    [6 * MiB, 6 * MiB, MiB],
  );
  assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
  await assert.rejects(
    createNodeUpload(file.path, { brokerUrl: broker.url, token: TOKENS.alice, partSize: 5 * MiB + 1 }),
    (error: unknown) =>
      error instanceof UploadError && error.code === 'invalid-options' && /partSize/.test(error.message),
  );
});
