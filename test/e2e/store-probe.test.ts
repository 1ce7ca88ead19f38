/**
 * The start-up capability probe against the local server (which does all AWS does), against a
 * store that never answers (bounded, never hanging), and that it leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { createAwsClients, destroyAwsClients } from '@hoist/broker/internal/aws';
import { CAPABILITY_NAMES } from '@hoist/broker/internal/capabilities';
import { probeStore, StoreProbeError } from '@hoist/broker/internal/store-probe';
import { sdkCalls } from '@hoist/broker/internal/upstream/calls';
import { BUCKET, brokerConfig, openMultipartKeys, PREFIX, startBrokerBackend } from '../helpers/broker.ts';
import { silentServer } from '../helpers/net.ts';

for (const mode of ['sts', 'federation', 'presign'] as const) {
  test(`${mode}: the local server has every capability probed, and the probe leaves nothing behind`, async (t) => {
    const server = await startBrokerBackend(t);
    const config = brokerConfig(server, mode);
    const aws = createAwsClients(config);
    t.after(() => destroyAwsClients(aws));
    const probe = mode === 'presign' ? CAPABILITY_NAMES.slice(0, 3) : CAPABILITY_NAMES;
    const found = await probeStore({
      aws,
      mode,
      s3: config.s3,
      sts: config.sts,
      keyPrefix: config.keyPrefix,
      probe: mode === 'sts' ? probe.filter((n) => n !== 'federationToken') : probe,
      timeoutMs: 10_000,
    });
    const expected = Object.fromEntries(
      (mode === 'sts' ? probe.filter((n) => n !== 'federationToken') : probe).map((n) => [n, true]),
    );
    assert.deepEqual(found, expected);
    const left = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/` }));
    assert.equal(left.KeyCount, 0);
    assert.deepEqual(await openMultipartKeys(server.client), []);
  });
}

test('a store that accepts connections and never answers fails the probe within its bound, once', async (t) => {
  let connections = 0;
  const endpoint = await silentServer(t, () => connections++);
  const settings = {
    region: 'us-east-1',
    bucket: 'uploads',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x'.repeat(40) },
  };
  const s3 = new S3Client({ ...settings, maxAttempts: 1 });
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: settings.credentials });
  t.after(() => {
    s3.destroy();
    sts.destroy();
  });
  await assert.rejects(
    probeStore({
      aws: { s3, calls: sdkCalls(s3, sts, settings.bucket) },
      mode: 'presign',
      s3: settings,
      sts: {},
      keyPrefix: 'uploads',
      probe: ['flexibleChecksums'],
      timeoutMs: 300,
    }),
    (error: unknown) =>
      error instanceof StoreProbeError &&
      error.step === 'PutObject' &&
      /300 ms/.test(String((error.cause as Error).message)),
  );
  // The PutObject met its bound (the message above), then one bounded cleanup request.
  assert.equal(connections, 2);
});
