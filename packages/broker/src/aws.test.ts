/** The broker's S3/STS helpers against the real local server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateBucketCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { startTestServer } from '../../../test/helpers/server.ts';
import { abortQuietly, headObject, listAllParts, publicEndpoint, sessionName } from './aws.ts';

test('listAllParts reads every page; a missing upload is undefined', async (t) => {
  const server = await startTestServer(t);
  const s3 = server.client;
  await s3.send(new CreateBucketCommand({ Bucket: 'pages' }));
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'pages', Key: 'k', ChecksumAlgorithm: 'CRC32C' }),
  );
  for (let n = 1; n <= 5; n++) {
    await s3.send(
      new UploadPartCommand({
        Bucket: 'pages',
        Key: 'k',
        UploadId,
        PartNumber: n,
        Body: `part ${n}`,
        ChecksumAlgorithm: 'CRC32C',
      }),
    );
  }
  const target = { bucket: 'pages', key: 'k', uploadId: UploadId!, algorithm: 'CRC32C' as const };
  const parts = await listAllParts(s3, { ...target, pageSize: 2 });
  assert.deepEqual(
    parts?.map((p) => [p.partNumber, p.size]),
    [1, 2, 3, 4, 5].map((n) => [n, 6]),
  );
  assert.ok(parts?.every((p) => p.checksum && p.etag));
  await abortQuietly(s3, target);
  await abortQuietly(s3, target);
  assert.equal(await listAllParts(s3, target), undefined);
  assert.equal(await headObject(s3, { bucket: 'pages', key: 'k', algorithm: 'CRC32C' }), undefined);
});

test('STS session names fit their limits and alphabet', () => {
  const id = '0123456789abcdefghijklmno';
  assert.equal(sessionName('alice', id, 64), `alice.${id}`);
  assert.equal(sessionName('a|b c', id, 64), `a_b_c.${id}`);
  const federated = sessionName('a-very-long-user-name@example.com', id, 32);
  assert.equal(federated.length, 32);
  assert.match(federated, /^[\w+=,.@-]+$/);
  assert.equal(sessionName('x'.repeat(100), id, 64).length, 64);
});

test('publicEndpoint: configured, or AWS regional', () => {
  assert.equal(publicEndpoint({ region: 'eu-west-1', bucket: 'b' }), 'https://s3.eu-west-1.amazonaws.com');
  assert.equal(
    publicEndpoint({ region: 'cn-north-1', bucket: 'b' }),
    'https://s3.cn-north-1.amazonaws.com.cn',
  );
  assert.equal(
    publicEndpoint({
      region: 'us-east-1',
      bucket: 'b',
      endpoint: 'http://10.0.0.1:9000',
      publicEndpoint: 'https://s3.example.com/',
    }),
    'https://s3.example.com',
  );
});
