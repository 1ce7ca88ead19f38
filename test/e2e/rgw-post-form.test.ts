/**
 * POST-form uploads on Ceph RGW 16.2 (no flexible checksums): the broker's forms accepted by
 * RGW, RGW refusing forms that break their policy with nothing written, and the broker verifying
 * what arrived by size and type (and by ETag = MD5 when the client declared one).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseBrokerConfig } from '@hoist/broker/internal/config';
import { type RunningBroker, startBroker } from '@hoist/broker/internal/node';
import { apiClient, captureLogger, MiB, TOKENS } from '../helpers/broker.ts';
import { type Form, postForm } from '../helpers/post-form.ts';
import { type RgwEndpoint, rgwClient, rgwUnavailable, uniqueBucket, useRgw } from '../helpers/rgw.ts';

const skip = rgwUnavailable();
const PREFIX = 'files';
const APP = 'http://app.example.test';
const COOKIE = 'hoist_session';

const md5 = (data: Buffer) => createHash('md5').update(data);

describe('Ceph RGW: POST-form uploads', { skip }, () => {
  let rgw: RgwEndpoint;
  let owner: S3Client;
  let broker: RunningBroker;
  const bucket = uniqueBucket('forms');

  before(async () => {
    rgw = await useRgw();
    owner = rgwClient(rgw);
    await owner.send(new CreateBucketCommand({ Bucket: bucket }));
    broker = await startBroker(
      parseBrokerConfig({
        mode: 'presign',
        s3: {
          endpoint: rgw.endpoint,
          region: rgw.region,
          bucket,
          forcePathStyle: true,
          credentials: { ...rgw.credentials },
        },
        keyPrefix: PREFIX,
        singleRequestMaxSize: '5MiB',
        auth: { tokens: { ...TOKENS } },
        registry: { url: 'sqlite::memory:' },
        port: 0,
        sweepIntervalSeconds: 0,
        cors: { origins: [APP] },
        uppy: { enabled: true, path: '/companion', cookieName: COOKIE },
      }),
      { logger: captureLogger().logger },
    );
  });
  after(async () => {
    await broker?.close();
    owner?.destroy();
  });

  const api = () => apiClient(broker.url);

  async function params(query: Record<string, string>): Promise<Form> {
    const res = await fetch(`${broker.url}/companion/s3/params?${new URLSearchParams(query)}`, {
      headers: { cookie: `${COOKIE}=${TOKENS.alice}`, origin: APP },
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  }

  async function exists(key: string): Promise<boolean> {
    try {
      await owner.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  }

  test("Companion's form (unknown size): RGW stores it, the owner's read verifies size and type", async () => {
    const form = await params({ filename: 'notes.txt', type: 'text/plain' });
    assert.equal(form.fields['x-amz-checksum-algorithm'], undefined, 'no checksum fields on this store');
    const data = randomBytes(1 * MiB);
    const sent = await postForm(form, data);
    assert.equal(sent.status, 201, sent.text);
    const list = await api()('alice', 'GET', '/uploads');
    const entry = list.body.uploads.find((u: { key: string }) => u.key === form.fields.key);
    assert.equal(entry.status, 'completed');
    assert.equal(entry.size, data.length);
    assert.equal(entry.etag, md5(data).digest('hex'));
    const stored = await owner.send(new GetObjectCommand({ Bucket: bucket, Key: form.fields.key }));
    assert.ok(Buffer.from(await stored.Body!.transformToByteArray()).equals(data));
    assert.equal(stored.ContentType, 'text/plain');
  });

  test('RGW refuses a form that breaks its policy, and nothing is written', async () => {
    const form = await params({ filename: 'exact.bin', type: 'application/octet-stream', size: '1000' });
    const key = form.fields.key ?? '';
    const other = `${PREFIX}/alice/someone-else/exact.bin`;
    const attempts: [string, Awaited<ReturnType<typeof postForm>>, string][] = [
      ['one byte more', await postForm(form, randomBytes(1001)), 'EntityTooLarge'],
      ['one byte less', await postForm(form, randomBytes(999)), 'EntityTooSmall'],
      ['another key', await postForm(form, randomBytes(1000), { key: other }), 'AccessDenied'],
      [
        'another type',
        await postForm(form, randomBytes(1000), { 'Content-Type': 'text/html' }),
        'AccessDenied',
      ],
    ];
    for (const [what, res, code] of attempts)
      assert.equal(/<Code>([^<]*)</.exec(res.text)?.[1], code, `${what}: ${res.status} ${res.text}`);
    assert.equal(await exists(key), false, 'nothing at the key');
    assert.equal(await exists(other), false, 'nothing at the other key');
  });

  test("POST /uploads with singleRequest 'post' and contentMd5: the ETag is checked at completion", async () => {
    const data = randomBytes(32 * 1024);
    const created = await api()('alice', 'POST', '/uploads', {
      filename: 'sum.bin',
      size: data.length,
      contentType: 'application/octet-stream',
      contentMd5: md5(data).digest('base64'),
      singleRequest: 'post',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.integrity, 'content-md5');
    // Other bytes of the same size pass RGW's policy check; the broker's ETag check does not.
    assert.equal((await postForm(created.body.postForm, randomBytes(data.length))).status, 201);
    const done = await api()('alice', 'POST', `/uploads/${created.body.id}/complete`, { parts: [] });
    assert.equal(done.status, 422, JSON.stringify(done.body));
    assert.match(done.body.detail, /ETag is not the MD5 of the file/);
    assert.equal(await exists(created.body.key), false, 'deleted');
  });
});
