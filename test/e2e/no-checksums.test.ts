/**
 * Stores without flexible checksums (Ceph RGW 16.2 and the like), played by the local server
 * with the broker's `store.flexibleChecksums` pinned to false: parts and single PUTs carry
 * Content-MD5, the broker verifies the ETag chain, the engine picks all this up on its own,
 * resume adopts parts by ETag, and a mode that cannot keep no-overwrite refuses to start.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { StoreCapabilityError } from '@hoist/broker/internal/capabilities';
import { startBroker } from '@hoist/broker/internal/node';
import { UploadError } from '@hoist/client/internal/errors';
import { createJsonFileStore, createNodeUpload } from '@hoist/client/node';
import type { CreateUploadResponse, UploadMode } from '@hoist/protocol/internal/api';
import {
  BUCKET,
  brokerConfig,
  bytes,
  captureLogger,
  clientFor,
  createUpload,
  MiB,
  openMultipartKeys,
  putWithCredentials,
  sha256,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  TOKENS,
} from '../helpers/broker.ts';
import { type Hook, type TestServer, tmpDir } from '../helpers/server.ts';

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('base64');
const md5hex = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
/** The store keeps no checksums; everything else it does as AWS does. */
const NO_CHECKSUMS = { store: { flexibleChecksums: false } };

async function stack(t: Hook, mode: UploadMode, overrides: Record<string, unknown> = {}) {
  const server = await startBrokerBackend(t);
  const broker = await startTestBroker(t, brokerConfig(server, mode, { ...NO_CHECKSUMS, ...overrides }));
  const dir = await tmpDir(t);
  return { server, broker, dir };
}

async function writeRandom(dir: string, name: string, size: number) {
  const data = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, data);
  return { path, data };
}

async function objectChecksum(server: TestServer, key: string) {
  const head = await server.client.send(
    new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }),
  );
  return { etag: head.ETag?.replaceAll('"', ''), crc32c: head.ChecksumCRC32C, crc32: head.ChecksumCRC32 };
}

async function keyIsFree(server: TestServer, key: string): Promise<boolean> {
  try {
    await server.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return false;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return true;
    throw error;
  }
}

/** The ETag a multipart object of `data` in `partSize` parts has: md5(binary part MD5s)-N. */
function chainEtag(data: Buffer, partSize: number): string {
  const hash = createHash('md5');
  let n = 0;
  for (let at = 0; at < data.length; at += partSize, n++)
    hash.update(
      createHash('md5')
        .update(data.subarray(at, at + partSize))
        .digest(),
    );
  return `${hash.digest('hex')}-${n}`;
}

describe('no flexible checksums: the engine sends Content-MD5 and the broker checks ETags', () => {
  const cases: [UploadMode, number][] = [
    ['sts', 0],
    ['sts', 1 * MiB],
    ['sts', 20 * MiB],
    ['presign', 0],
    ['presign', 1 * MiB],
    ['presign', 20 * MiB],
  ];
  for (const [mode, size] of cases) {
    test(`${mode}: ${size} bytes arrive intact, verified by their MD5s`, async (t) => {
      const { server, broker, dir } = await stack(t, mode);
      const file = await writeRandom(dir, 'data.bin', size);
      const upload = await createNodeUpload(file.path, { brokerUrl: broker.url, token: TOKENS.alice });
      const view = await upload.start();
      assert.equal(view.status, 'completed');
      assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
      const stored = await objectChecksum(server, view.key);
      // Nothing was sent as x-amz-checksum-*: the store kept none, the ETag is what was checked.
      assert.equal(stored.crc32c, undefined);
      assert.equal(view.checksum, undefined);
      const expected = size <= 5 * MiB ? md5hex(file.data) : chainEtag(file.data, 5 * MiB);
      assert.equal(stored.etag, expected);
      assert.equal(view.etag, expected);
    });
  }
});

describe('no flexible checksums: what the broker refuses', () => {
  test('sts: parts whose MD5s are not the claimed ones are rejected, and nothing stays at the key', async (t) => {
    const { server, broker } = await stack(t, 'sts');
    const data = randomBytes(7 * MiB);
    const created = await createUpload(broker.api, {
      filename: 'a.bin',
      size: data.length,
      contentType: 'application/octet-stream',
    });
    assert.equal(created.integrity, 'content-md5');
    const slices = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)];
    const s3 = clientFor(created);
    t.after(() => s3.destroy());
    const parts = [];
    for (const [i, body] of slices.entries()) {
      // A client that sends no Content-MD5, then claims other bytes' MD5s.
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: created.key,
          UploadId: created.uploadId!,
          PartNumber: i + 1,
          Body: body,
        }),
      );
      parts.push({ partNumber: i + 1, etag: out.ETag!, checksum: md5(body) });
    }
    parts[1]!.checksum = md5(randomBytes(16));
    const res = await broker.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.detail, /part 2: its ETag is not the MD5.*this store keeps no checksums/);
    assert.ok(await keyIsFree(server, created.key));
    assert.deepEqual(await openMultipartKeys(server.client), []);
  });

  test('sts: parts without their MD5s, or a whole-file checksum, are refused (400)', async (t) => {
    const { broker } = await stack(t, 'sts');
    const created = await createUpload(broker.api, {
      filename: 'a.bin',
      size: 6 * MiB,
      contentType: 'application/octet-stream',
    });
    const missing = await broker.api('alice', 'POST', `/uploads/${created.id}/complete`, {
      parts: [{ partNumber: 1, etag: '"x"' }],
    });
    assert.equal(missing.status, 400);
    assert.match(JSON.stringify(missing.body.errors), /base64 MD5/);
    const whole = await broker.api('alice', 'POST', `/uploads/${created.id}/complete`, {
      parts: [{ partNumber: 1, etag: '"x"', checksum: md5(Buffer.from('x')) }],
      checksum: 'AAAAAA==',
    });
    assert.equal(whole.status, 400);
    assert.match(JSON.stringify(whole.body.errors), /this store keeps no checksums/);
  });

  test('sts: a single PUT of other bytes than the declared MD5 is rejected and deleted', async (t) => {
    const { server, broker } = await stack(t, 'sts');
    const data = randomBytes(MiB);
    const created = await createUpload(broker.api, {
      filename: 'a.bin',
      size: data.length,
      contentType: 'application/octet-stream',
      contentMd5: md5(data),
    });
    assert.equal(created.uploadId, null);
    const other = randomBytes(MiB);
    const put = await putWithCredentials(created, other, { ...created.putHeaders });
    assert.equal(put.status, 200, put.body);
    const res = await broker.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts: [] });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.detail, /ETag is not the MD5 of the file.*this store keeps no checksums/);
    assert.ok(await keyIsFree(server, created.key));
  });

  test('a small file without a declared MD5 goes multipart (its parts carry theirs)', async (t) => {
    const { broker } = await stack(t, 'sts');
    const created = await createUpload(broker.api, {
      filename: 'a.bin',
      size: MiB,
      contentType: 'application/octet-stream',
    });
    assert.notEqual(created.uploadId, null);
    assert.equal(created.putHeaders, undefined);
  });

  test('presign: the part MD5 is signed into the URL; other bytes or another MD5 are refused by S3', async (t) => {
    const { server, broker } = await stack(t, 'presign');
    const data = randomBytes(6 * MiB);
    const created: CreateUploadResponse = await createUpload(broker.api, {
      filename: 'a.bin',
      size: data.length,
      contentType: 'application/octet-stream',
    });
    assert.equal(created.integrity, 'content-md5');
    const first = data.subarray(0, 5 * MiB);
    const urls = await broker.api('alice', 'POST', `/uploads/${created.id}/parts`, {
      partNumbers: [1],
      checksums: { 1: md5(first) },
    });
    assert.equal(urls.status, 200, JSON.stringify(urls.body));
    const url = urls.body.parts[0];
    assert.equal(url.headers['content-md5'], md5(first));
    const corrupted = Buffer.from(first);
    corrupted[100] = (corrupted[100]! + 1) % 256;
    const bad = await fetch(url.url, { method: 'PUT', headers: url.headers, body: bytes(corrupted) });
    assert.equal(bad.status, 400, 'the store verifies Content-MD5');
    assert.match(await bad.text(), /BadDigest/);
    const swapped = await fetch(url.url, {
      method: 'PUT',
      headers: { ...url.headers, 'content-md5': md5(corrupted) },
      body: bytes(corrupted),
    });
    assert.equal(swapped.status, 403, 'the MD5 is signed');
    const notMd5 = await broker.api('alice', 'POST', `/uploads/${created.id}/parts`, {
      partNumbers: [1],
      checksums: { 1: 'AAAAAA==' },
    });
    assert.equal(notMd5.status, 400);
    assert.deepEqual(await openMultipartKeys(server.client), [created.key]);
  });
});

describe('no flexible checksums: resume', () => {
  test('parts the store holds are adopted by ETag after hashing the file, none sent again', async (t) => {
    const { server, broker, dir } = await stack(t, 'sts');
    const file = await writeRandom(dir, 'resume.bin', 23 * MiB);
    const stateFile = join(dir, 'state.json');
    const first = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
      concurrency: 1,
      adaptiveConcurrency: false,
    });
    const sentFirst = new Set<number>();
    first.on('part', ({ partNumber }) => {
      sentFirst.add(partNumber);
      if (sentFirst.size === 3) void first.pause();
    });
    void first.start().catch(() => {});
    for (let i = 0; i < 2000 && first.state !== 'paused'; i++) await new Promise((r) => setTimeout(r, 10));
    await first.pause();
    // A crash before the state was written: the record knows no parts; only the store does.
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    const [entry] = Object.values(state.records) as { parts: unknown[]; integrity?: string }[];
    assert.ok(entry);
    assert.equal(entry.integrity, 'content-md5');
    entry.parts = [];
    await writeFile(stateFile, JSON.stringify(state));
    const held = await broker.api('alice', 'GET', `/uploads/${first.id}`);
    const onStore = (held.body.parts as { partNumber: number; checksum?: string }[]).map((p) => p.partNumber);
    assert.ok(onStore.length >= 3);
    // The store keeps no checksums: the broker lists each part's MD5, taken from its ETag.
    for (const part of held.body.parts as { partNumber: number; checksum?: string }[]) {
      const start = (part.partNumber - 1) * 5 * MiB;
      assert.equal(part.checksum, md5(file.data.subarray(start, start + 5 * MiB)));
    }

    const second = await createNodeUpload(file.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
    });
    const resent = new Set<number>();
    second.on('part', ({ partNumber }) => resent.add(partNumber));
    const view = await second.start();
    assert.equal(view.id, first.id);
    for (const part of onStore) assert.ok(!resent.has(part), `part ${part} was on the store and sent again`);
    assert.equal(sha256(await storedBytes(server.client, view.key)), sha256(file.data));
    assert.deepEqual(await createJsonFileStore(stateFile).list(), []);
  });

  test('a different file is still refused', async (t) => {
    const { broker, dir } = await stack(t, 'presign');
    const original = await writeRandom(dir, 'a.bin', 12 * MiB);
    const stateFile = join(dir, 'state.json');
    const first = await createNodeUpload(original.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      stateFile,
    });
    first.on('part', () => void first.pause());
    void first.start().catch(() => {});
    for (let i = 0; i < 2000 && first.state !== 'paused'; i++) await new Promise((r) => setTimeout(r, 10));
    await first.pause();
    const [record] = await createJsonFileStore(stateFile).list();
    assert.ok(record);
    const other = await writeRandom(dir, 'b.bin', 12 * MiB);
    const wrong = await createNodeUpload(other.path, {
      brokerUrl: broker.url,
      token: TOKENS.alice,
      resumeFrom: record,
    });
    await assert.rejects(
      wrong.start(),
      (error: unknown) => error instanceof UploadError && error.code === 'resume-mismatch',
    );
  });
});

describe('no-overwrite: the broker refuses a mode its store cannot keep safe', () => {
  for (const mode of ['sts', 'federation'] as const) {
    test(`${mode}: a store without the conditional-write policy keys stops the start, naming the remedies`, async (t) => {
      const server = await startBrokerBackend(t);
      const { logger } = captureLogger();
      const config = brokerConfig(server, mode, { store: { conditionalWriteKeys: false } });
      await assert.rejects(startBroker(config, { logger }), (error: unknown) => {
        assert.ok(error instanceof StoreCapabilityError);
        assert.equal(error.code, 'overwrite-not-preventable');
        assert.deepEqual(error.missing, ['conditionalWriteKeys']);
        assert.match(error.message, /s3:if-none-match/);
        assert.match(error.message, /presign/);
        assert.match(error.message, /acceptOverwriteRisk/);
        return true;
      });
    });
  }

  test('sts: If-None-Match ignored on CompleteMultipartUpload is named too', async (t) => {
    const server = await startBrokerBackend(t);
    const config = brokerConfig(server, 'sts', { store: { ifNoneMatchOnComplete: false } });
    await assert.rejects(
      startBroker(config, { logger: captureLogger().logger }),
      (error: unknown) =>
        error instanceof StoreCapabilityError && error.missing.join() === 'ifNoneMatchOnComplete',
    );
  });

  test('federation: no GetFederationToken stops the start', async (t) => {
    const server = await startBrokerBackend(t);
    const config = brokerConfig(server, 'federation', { store: { federationToken: false } });
    await assert.rejects(
      startBroker(config, { logger: captureLogger().logger }).then(async (started) => {
        await started.close();
        return started;
      }),
      (error: unknown) => error instanceof StoreCapabilityError && error.code === 'federation-unavailable',
    );
  });

  test('sts with acceptOverwriteRisk starts, and says so in a warning; presign starts with no warning', async (t) => {
    const server = await startBrokerBackend(t);
    const risky = captureLogger();
    const broker = await startBroker(
      brokerConfig(server, 'sts', { store: { conditionalWriteKeys: false, acceptOverwriteRisk: true } }),
      { logger: risky.logger },
    );
    t.after(() => broker.close());
    const warning = risky.lines.find((l) => l.level === 40 && /acceptOverwriteRisk/.test(String(l.msg)));
    assert.ok(warning, JSON.stringify(risky.lines));
    const safe = captureLogger();
    const presign = await startBroker(
      brokerConfig(server, 'presign', {
        store: { conditionalWriteKeys: false, ifNoneMatchOnComplete: false, flexibleChecksums: false },
      }),
      { logger: safe.logger },
    );
    t.after(() => presign.close());
    assert.equal(
      safe.lines.filter((l) => l.level === 40).length,
      0,
      JSON.stringify(safe.lines.filter((l) => l.level === 40)),
    );
  });
});
