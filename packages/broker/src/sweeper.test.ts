import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { makeRecord } from '../../../test/helpers/registry-suite.ts';
import { objectExists } from '../../../test/helpers/s3.ts';
import { startTestServer } from '../../../test/helpers/server.ts';
import { openRegistry } from './registry/index.ts';
import { startSweeper, sweep } from './sweeper.ts';
import type { Registry, UploadRecord } from './types.ts';

const HOUR = 3_600_000;
const BUCKET = 'uploads';

async function setup(t: { after(fn: () => unknown): void }) {
  // The server's clock is shifted to create uploads "two hours ago"; a client signing
  // with the same offset keeps SigV4's skew check happy.
  let offset = 0;
  const server = await startTestServer(t, { buckets: [BUCKET], clock: () => Date.now() + offset });
  // A new client per request: the SDK "corrects" its offset from node:http's real Date header.
  const past = () => server.makeClient({ systemClockOffset: -2 * HOUR });
  const registry = openRegistry('sqlite::memory:');
  t.after(() => registry.close());
  const create = async (client: S3Client, key: string) => {
    const out = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    return out.UploadId!;
  };
  const register = async (key: string, uploadId: string | null, overrides: Partial<UploadRecord>) => {
    const record = makeRecord({ bucket: BUCKET, key, uploadId, ...overrides });
    await registry.insert(record);
    return record;
  };
  const remaining = async () => {
    const out = await server.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    return (out.Uploads ?? []).map((u) => u.Key).sort();
  };
  return {
    server,
    registry,
    create,
    register,
    remaining,
    inThePast: async <T>(fn: () => Promise<T>) => {
      offset = -2 * HOUR;
      try {
        return await fn();
      } finally {
        offset = 0;
      }
    },
    past,
  };
}

describe('sweep', () => {
  it('aborts stale registered uploads and old orphans, keeps fresh and open ones', async (t) => {
    const { server, registry, create, register, remaining, inThePast, past } = await setup(t);
    const s3 = server.client;
    const now = Date.now();

    const old = await inThePast(async () => ({
      orphan: await create(past(), 'u/eve/o1/orphan.bin'),
      open: await create(past(), 'u/alice/r1/long-running.bin'),
      closed: await create(past(), 'u/alice/r2/abort-failed-before.bin'),
      outside: await create(past(), 'elsewhere/orphan.bin'),
    }));
    const longRunning = await register('u/alice/r1/long-running.bin', old.open, {
      status: 'uploading',
      expiresAt: now + HOUR,
    });
    await register('u/alice/r2/abort-failed-before.bin', old.closed, { status: 'aborted' });
    const staleId = await create(s3, 'u/alice/r3/stale.bin');
    const stale = await register('u/alice/r3/stale.bin', staleId, {
      status: 'uploading',
      expiresAt: now - 1,
    });
    const staleSingle = await register('u/alice/r4/small.txt', null, {
      status: 'created',
      expiresAt: now - 1,
    });
    const gone = await register('u/alice/r5/gone.bin', 'no-such-upload-id', {
      status: 'created',
      expiresAt: now - 1,
    });
    await create(s3, 'u/bob/o2/fresh-orphan.bin');

    const result = await sweep({
      registry,
      s3,
      bucket: BUCKET,
      keyPrefix: 'u/',
      now,
      olderThanMs: HOUR,
      pageSize: 2,
    });

    assert.deepEqual(result, { expired: 3, aborted: 4, orphans: 2, kept: 2, deleted: 0, failed: 0 });
    assert.deepEqual(await remaining(), [
      'elsewhere/orphan.bin',
      'u/alice/r1/long-running.bin',
      'u/bob/o2/fresh-orphan.bin',
    ]);
    for (const record of [stale, staleSingle, gone]) {
      const after = await registry.get(record.id);
      assert.equal(after?.status, 'expired');
      assert.equal(after?.updatedAt, now);
      assert.ok(after?.reason);
    }
    assert.deepEqual(await registry.get(longRunning.id), longRunning);

    const again = await sweep({ registry, s3, bucket: BUCKET, keyPrefix: 'u/', now, olderThanMs: HOUR });
    assert.deepEqual(again, { expired: 0, aborted: 0, orphans: 0, kept: 2, deleted: 0, failed: 0 });
  });

  it('treats the prefix as a folder: "u" never reaches "u2/…"', async (t) => {
    const { server, registry, create, remaining, inThePast, past } = await setup(t);
    await inThePast(async () => {
      await create(past(), 'u/eve/o1/orphan.bin');
      await create(past(), 'u2/not-ours.bin');
    });
    const result = await sweep({
      registry,
      s3: server.client,
      bucket: BUCKET,
      keyPrefix: 'u',
      now: Date.now(),
      olderThanMs: HOUR,
    });
    assert.deepEqual(result, { expired: 0, aborted: 1, orphans: 1, kept: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await remaining(), ['u2/not-ours.bin']);
  });

  it('reports a failed abort and goes on', async (t) => {
    const { server, registry, register, create } = await setup(t);
    const now = Date.now();
    const elsewhere = await register('u/a/r1/x.bin', 'mpu-1', {
      bucket: 'no-such-bucket',
      expiresAt: now - 1,
    });
    const staleId = await create(server.client, 'u/a/r2/y.bin');
    await register('u/a/r2/y.bin', staleId, { expiresAt: now - 1 });
    const errors: { name: string; id: string | undefined }[] = [];
    const result = await sweep({
      registry,
      s3: server.client,
      bucket: BUCKET,
      keyPrefix: 'u/',
      now,
      olderThanMs: HOUR,
      onError: (error, upload) => errors.push({ name: (error as Error).name, id: upload.id }),
    });
    assert.deepEqual(result, { expired: 2, aborted: 1, orphans: 0, kept: 0, deleted: 0, failed: 1 });
    assert.deepEqual(errors, [{ name: 'NoSuchBucket', id: elsewhere.id }]);
  });

  it('deletes whatever is at the key of an upload it expires: never verified, never kept', async (t) => {
    const { server, registry, create, register } = await setup(t);
    const s3 = server.client;
    const now = Date.now();
    // A client completed its multipart upload itself and never asked the broker to complete.
    const selfKey = 'u/alice/r1/self-completed.bin';
    const uploadId = await create(s3, selfKey);
    const part = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: selfKey, UploadId: uploadId, PartNumber: 1, Body: 'abc' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: selfKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
      }),
    );
    const selfCompleted = await register(selfKey, uploadId, { status: 'uploading', expiresAt: now - 1 });
    // A single-request upload whose PutObject arrived but whose completion never did.
    const singleKey = 'u/alice/r2/put.txt';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: singleKey, Body: 'hello' }));
    const single = await register(singleKey, null, { expiresAt: now - 1 });
    // Neither expired nor open: left alone.
    const doneKey = 'u/alice/r3/done.txt';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: doneKey, Body: 'verified' }));
    await register(doneKey, null, { status: 'completed', expiresAt: now - 1 });
    const liveKey = 'u/alice/r4/live.txt';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: liveKey, Body: 'not yet completed' }));
    await register(liveKey, null, { expiresAt: now + HOUR });

    const deleted: { key: string; id: string; size: number }[] = [];
    const result = await sweep({
      registry,
      s3,
      bucket: BUCKET,
      keyPrefix: 'u/',
      now,
      olderThanMs: HOUR,
      onObjectDeleted: (upload) => deleted.push(upload),
    });
    assert.deepEqual(result, { expired: 2, aborted: 1, orphans: 0, kept: 0, deleted: 2, failed: 0 });
    assert.deepEqual(
      deleted.sort((a, b) => a.key.localeCompare(b.key)),
      [
        { key: selfKey, id: selfCompleted.id, size: 3 },
        { key: singleKey, id: single.id, size: 5 },
      ],
    );
    assert.equal(await objectExists(s3, BUCKET, selfKey), false);
    assert.equal(await objectExists(s3, BUCKET, singleKey), false);
    assert.equal(await objectExists(s3, BUCKET, doneKey), true);
    assert.equal(await objectExists(s3, BUCKET, liveKey), true);
  });

  it('validates its options', async () => {
    const registry = openRegistry('sqlite::memory:');
    const base = {
      registry,
      s3: { send() {} } as never,
      bucket: 'b',
      keyPrefix: 'u/',
      now: 0,
      olderThanMs: 1,
    };
    await assert.rejects(sweep({ ...base, bucket: '' }), { name: 'TypeError', message: /bucket/ });
    await assert.rejects(sweep({ ...base, now: Number.NaN }), /now/);
    await assert.rejects(sweep({ ...base, olderThanMs: -1 }), /olderThanMs/);
    await assert.rejects(sweep({ ...base, pageSize: 5000 }), /pageSize/);
    await assert.rejects(sweep({ ...base, registry: {} as Registry }), /registry/);
    await assert.rejects(sweep({ ...base, onObjectDeleted: 1 as never }), /onObjectDeleted/);
    assert.throws(() => startSweeper({ ...base, intervalMs: 0 }), /intervalMs/);
    await registry.close();
  });
});

describe('startSweeper', () => {
  it('sweeps with the injected clock, one run at a time, and stops', async (t) => {
    const { server, registry, register } = await setup(t);
    const now = 1_800_000_000_000;
    const record = await register('u/a/r1/x.txt', null, { expiresAt: now - 1 });
    const sweeper = startSweeper({
      registry,
      s3: server.client,
      bucket: BUCKET,
      keyPrefix: 'u/',
      olderThanMs: HOUR,
      intervalMs: HOUR,
      clock: () => now,
    });
    const [first, second] = await Promise.all([sweeper.run(), sweeper.run()]);
    assert.equal(first, second, 'a run already under way is joined, not doubled');
    assert.equal(first.expired, 1);
    assert.equal((await registry.get(record.id))?.updatedAt, now);
    await sweeper.stop();
  });
});
