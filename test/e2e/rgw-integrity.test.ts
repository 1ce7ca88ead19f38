/**
 * The broker and the engine on Ceph RGW 16.2, a store without flexible checksums, policy keys
 * for conditional writes or If-None-Match on completion: the capability probe finds exactly
 * that, presign mode uploads verified by Content-MD5 and the ETag chain, completion never goes
 * over an object already at the key, and sts mode refuses to start, naming why.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StoreCapabilityError } from '@hoist/broker/internal/capabilities';
import { parseBrokerConfig } from '@hoist/broker/internal/config';
import { startBroker } from '@hoist/broker/internal/node';
import { uploadRolePolicy } from '@hoist/cli/internal/aws/policies';
import { createNodeUpload } from '@hoist/client/node';
import type { UploadMode } from '@hoist/protocol/internal/api';
import { apiClient, captureLogger, MiB, sha256, TOKENS } from '../helpers/broker.ts';
import {
  createUploadRole,
  type RgwEndpoint,
  rgwClient,
  rgwUnavailable,
  uniqueBucket,
  useRgw,
} from '../helpers/rgw.ts';
import { tmpDir } from '../helpers/server.ts';

const skip = rgwUnavailable();
const PREFIX = 'files';

describe('Ceph RGW: capabilities, presign uploads, and the sts refusal', { skip }, () => {
  let rgw: RgwEndpoint;
  let owner: S3Client;
  let roleArn: string;
  const bucket = uniqueBucket('integrity');
  const clients: { destroy(): void }[] = [];

  const config = (mode: UploadMode, overrides: Record<string, unknown> = {}) =>
    parseBrokerConfig({
      mode,
      s3: {
        endpoint: rgw.endpoint,
        region: rgw.region,
        bucket,
        forcePathStyle: true,
        credentials: { ...rgw.credentials },
      },
      sts: { roleArn },
      keyPrefix: PREFIX,
      partSize: '5MiB',
      singleRequestMaxSize: '5MiB',
      auth: { tokens: { ...TOKENS } },
      registry: { url: 'sqlite::memory:' },
      port: 0,
      sweepIntervalSeconds: 0,
      ...overrides,
    });

  before(async () => {
    rgw = await useRgw();
    owner = rgwClient(rgw);
    clients.push(owner);
    await owner.send(new CreateBucketCommand({ Bucket: bucket }));
    roleArn = await createUploadRole(rgw, {
      roleName: `hoist-upload-${bucket}`,
      policy: uploadRolePolicy({ bucket, prefix: PREFIX }),
    });
  });
  after(() => {
    for (const c of clients) c.destroy();
  });

  test('sts mode refuses to start: the probe finds no policy keys and no If-None-Match on completion', async () => {
    const { lines, logger } = captureLogger();
    await assert.rejects(startBroker(config('sts'), { logger }), (error: unknown) => {
      assert.ok(error instanceof StoreCapabilityError, String(error));
      assert.equal(error.code, 'overwrite-not-preventable');
      assert.deepEqual(error.missing, ['conditionalWriteKeys', 'ifNoneMatchOnComplete']);
      assert.match(error.message, /presign/);
      return true;
    });
    const probed = lines.find((l) => l.msg === 'store capabilities probed');
    assert.deepEqual(probed?.absent, ['flexibleChecksums', 'ifNoneMatchOnComplete', 'conditionalWriteKeys']);
    assert.deepEqual(probed?.present, ['ifNoneMatchOnPut', 'federationToken']); // the latter unused: not probed
    assert.ok(!((probed?.probed ?? []) as string[]).includes('federationToken'));
  });

  describe('presign mode', () => {
    let url: string;
    let close: () => Promise<void>;
    let logged: Record<string, unknown>[];

    before(async () => {
      const { lines, logger } = captureLogger();
      logged = lines;
      const broker = await startBroker(config('presign'), { logger });
      url = broker.url;
      close = () => broker.close();
    });
    after(() => close?.());

    test('the probe finds what RGW 16.2 does, and leaves nothing behind', async () => {
      const probed = logged.find((l) => l.msg === 'store capabilities probed');
      assert.deepEqual(probed?.probed, ['flexibleChecksums', 'ifNoneMatchOnPut', 'ifNoneMatchOnComplete']);
      assert.deepEqual(probed?.absent, ['flexibleChecksums', 'ifNoneMatchOnComplete']);
      const open = await owner.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      assert.deepEqual(open.Uploads ?? [], []);
    });

    for (const size of [0, MiB, 20 * MiB]) {
      test(`${size} bytes upload through the engine, verified by MD5s and ETags`, async (t) => {
        const dir = await tmpDir(t);
        const data = randomBytes(size);
        const path = join(dir, 'data.bin');
        await writeFile(path, data);
        const upload = await createNodeUpload(path, { brokerUrl: url, token: TOKENS.alice });
        const view = await upload.start();
        assert.equal(view.status, 'completed');
        const out = await owner.send(new GetObjectCommand({ Bucket: bucket, Key: view.key }));
        const stored = Buffer.from(await out.Body!.transformToByteArray());
        assert.equal(sha256(stored), sha256(data));
        if (size > 5 * MiB) assert.match(view.etag ?? '', /-4$/);
        else assert.equal(view.etag, createHash('md5').update(data).digest('hex'));
      });
    }

    test('resume adopts the parts RGW holds by their ETags (no checksums there), none sent again', async (t) => {
      const dir = await tmpDir(t);
      const data = randomBytes(16 * MiB);
      const path = join(dir, 'resume.bin');
      await writeFile(path, data);
      const stateFile = join(dir, 'state.json');
      const first = await createNodeUpload(path, {
        brokerUrl: url,
        token: TOKENS.alice,
        stateFile,
        concurrency: 1,
        adaptiveConcurrency: false,
      });
      let sent = 0;
      first.on('part', () => {
        if (++sent === 2) void first.pause();
      });
      void first.start().catch(() => {});
      for (let i = 0; i < 2000 && first.state !== 'paused'; i++) await new Promise((r) => setTimeout(r, 10));
      await first.pause();
      // As if the process died before writing its state: only the store knows the parts.
      const state = JSON.parse(await readFile(stateFile, 'utf8'));
      for (const record of Object.values(state.records) as { parts: unknown[] }[]) record.parts = [];
      await writeFile(stateFile, JSON.stringify(state));
      const held = await apiClient(url)('alice', 'GET', `/uploads/${first.id}`);
      const onStore = (held.body.parts as { partNumber: number }[]).map((p) => p.partNumber);
      assert.ok(onStore.length >= 2, JSON.stringify(held.body));

      const second = await createNodeUpload(path, { brokerUrl: url, token: TOKENS.alice, stateFile });
      const resent: number[] = [];
      second.on('part', ({ partNumber }) => resent.push(partNumber));
      const view = await second.start();
      assert.equal(view.id, first.id);
      for (const part of onStore) assert.ok(!resent.includes(part), `part ${part} was sent again`);
      const out = await owner.send(new GetObjectCommand({ Bucket: bucket, Key: view.key }));
      assert.equal(sha256(Buffer.from(await out.Body!.transformToByteArray())), sha256(data));
    });

    test('completion never goes over an object already at the key (RGW ignores If-None-Match there)', async () => {
      const api = apiClient(url);
      const data = randomBytes(6 * MiB);
      const created = await api('alice', 'POST', '/uploads', {
        filename: 'race.bin',
        size: data.length,
        contentType: 'application/octet-stream',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.integrity, 'content-md5');
      const slices = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)];
      const md5s = slices.map((s) => createHash('md5').update(s).digest('base64'));
      const urls = await api('alice', 'POST', `/uploads/${created.body.id}/parts`, {
        partNumbers: [1, 2],
        checksums: { 1: md5s[0], 2: md5s[1] },
      });
      assert.equal(urls.status, 200, JSON.stringify(urls.body));
      const parts = [];
      for (const part of urls.body.parts) {
        const put = await fetch(part.url, {
          method: 'PUT',
          headers: part.headers,
          body: new Uint8Array(slices[part.partNumber - 1]!),
        });
        assert.equal(put.status, 200, await put.text());
        parts.push({
          partNumber: part.partNumber,
          etag: put.headers.get('etag'),
          checksum: md5s[part.partNumber - 1],
        });
      }
      // Someone else's object lands at the key first.
      await owner.send(
        new PutObjectCommand({ Bucket: bucket, Key: created.body.key, Body: 'not the upload' }),
      );
      const res = await api('alice', 'POST', `/uploads/${created.body.id}/complete`, { parts });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(res.body.detail, /an object the broker did not complete is at the key/);
    });
  });
});
