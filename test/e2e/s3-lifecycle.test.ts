/** Bucket lifecycle configuration through the AWS SDK: stored per bucket, AWS's XML and errors. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  type PutBucketLifecycleConfigurationCommandInput,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

type Rules = NonNullable<PutBucketLifecycleConfigurationCommandInput['LifecycleConfiguration']>['Rules'];

describe('bucket lifecycle', () => {
  let server: TestServer;
  const cleanup = suiteCleanup();
  before(async () => {
    server = await startTestServer(cleanup);
    await server.client.send(new CreateBucketCommand({ Bucket: 'life' }));
  });
  const put = (Rules: Rules, Bucket = 'life') =>
    server.client.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }),
    );
  const get = (Bucket = 'life') => server.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));

  test('put, get and delete round-trip the rules', async () => {
    await rejectsWith(get(), 'NoSuchLifecycleConfiguration', 404);
    await put([
      {
        ID: 'abort-uploads',
        Status: 'Enabled',
        Filter: { Prefix: 'uploads/' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      },
      {
        ID: 'expire-tmp',
        Status: 'Disabled',
        Filter: { And: { Prefix: 'tmp/', ObjectSizeGreaterThan: 10 } },
        Expiration: { Days: 30 },
      },
    ]);
    const out = await get();
    assert.deepEqual(
      out.Rules?.map((rule) => ({
        ID: rule.ID,
        Status: rule.Status,
        Filter: rule.Filter,
        Abort: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
        Days: rule.Expiration?.Days,
      })),
      [
        { ID: 'abort-uploads', Status: 'Enabled', Filter: { Prefix: 'uploads/' }, Abort: 2, Days: undefined },
        {
          ID: 'expire-tmp',
          Status: 'Disabled',
          Filter: { And: { Prefix: 'tmp/', ObjectSizeGreaterThan: 10 } },
          Abort: undefined,
          Days: 30,
        },
      ],
    );
    // A second put replaces the whole configuration.
    await put([{ ID: 'only', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
    assert.deepEqual(
      (await get()).Rules?.map((rule) => rule.ID),
      ['only'],
    );
    await server.client.send(new DeleteBucketLifecycleCommand({ Bucket: 'life' }));
    await rejectsWith(get(), 'NoSuchLifecycleConfiguration', 404);
  });

  test('invalid rules are refused with S3 codes; the stored configuration is unchanged', async () => {
    await put([{ ID: 'keep', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 5 } }]);
    await rejectsWith(put([{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'x/' } }]), 'InvalidRequest', 400);
    await rejectsWith(
      put([
        { ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } },
        { ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } },
      ]),
      'InvalidArgument',
      400,
    );
    await rejectsWith(
      put([
        {
          Status: 'Enabled',
          Filter: { Tag: { Key: 'k', Value: 'v' } },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ]),
      'InvalidRequest',
      400,
    );
    await rejectsWith(
      put([{ Status: 'Enabled', Filter: {}, Transitions: [{ Days: 1, StorageClass: 'GLACIER' }] }]),
      'NotImplemented',
      501,
    );
    await rejectsWith(put([{ Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }]), 'InvalidArgument');
    await rejectsWith(put([], 'nope'), 'NoSuchBucket', 404);
    assert.deepEqual(
      (await get()).Rules?.map((rule) => [rule.ID, rule.Expiration?.Days]),
      [['keep', 5]],
    );
  });

  test('the lifecycle subresource on an object key is not an object operation', async () => {
    await server.client.send(new PutObjectCommand({ Bucket: 'life', Key: 'k', Body: 'x' }));
    const response = await fetch(`${server.url}/life/k?lifecycle`, { method: 'GET' });
    // Anonymous and not a known operation on a key: refused either way, never an object read.
    assert.ok(response.status === 403 || response.status === 405, String(response.status));
    await response.body?.cancel();
  });
});
