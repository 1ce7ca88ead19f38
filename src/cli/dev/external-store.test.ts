import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../broker-args.ts';
import { EXTERNAL_STORE_VARIABLES, externalStoreFrom } from './external-store.ts';
import { DEV_HELP, parseDevArgs } from './options.ts';

const ENV = {
  HOIST_DEV_S3_ENDPOINT: 'http://rgw.lan:7480/',
  HOIST_DEV_BUCKET: 'my-bucket',
  HOIST_DEV_ROLE_ARN: 'arn:aws:iam:::role/hoist-upload',
  HOIST_DEV_ACCESS_KEY_ID: 'AKIA1',
  HOIST_DEV_SECRET_ACCESS_KEY: 'secret',
  HOIST_DEV_SESSION_TOKEN: 'token',
};

test('without a bucket there is no external store: the local server runs', () => {
  assert.equal(externalStoreFrom({}, {}, 'sts'), undefined);
  assert.equal(parseDevArgs([], {})?.store, undefined);
});

test('the store comes from variables, flags winning; keys only from the environment', () => {
  assert.deepEqual(externalStoreFrom({}, ENV, 'sts'), {
    s3Endpoint: 'http://rgw.lan:7480',
    region: 'us-east-1',
    bucket: 'my-bucket',
    roleArn: 'arn:aws:iam:::role/hoist-upload',
    credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'secret', sessionToken: 'token' },
  });
  const options = parseDevArgs(
    [
      '--bucket',
      'other-bucket',
      '--region',
      'eu-west-1',
      '--sts-endpoint',
      'http://sts.lan',
      '--mode',
      'presign',
    ],
    { HOIST_DEV_S3_ENDPOINT: 'http://rgw.lan:7480' },
  );
  assert.deepEqual(options?.store, {
    s3Endpoint: 'http://rgw.lan:7480',
    stsEndpoint: 'http://sts.lan',
    region: 'eu-west-1',
    bucket: 'other-bucket',
  });
});

test('mistakes are usage errors naming the flag', () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['--s3-endpoint', 'http://x'], {}, /--bucket \(or HOIST_DEV_BUCKET\) is required/],
    [['--bucket', 'b'], {}, /bucket must be an S3 bucket name/],
    [['--bucket', 'my-bucket'], {}, /--role-arn .* is required in sts mode/],
    [
      ['--bucket', 'my-bucket', '--mode', 'presign', '--s3-endpoint', 'ftp://x'],
      {},
      /--s3-endpoint must be an http/,
    ],
    [
      ['--bucket', 'my-bucket', '--mode', 'presign', '--s3-port', '9000'],
      {},
      /--s3-port is for the local server/,
    ],
    [['--bucket', 'my-bucket', '--mode', 'presign'], { HOIST_DEV_ACCESS_KEY_ID: 'A' }, /set both/],
    [['--bucket', 'my-bucket', '--role-arn', 'role/x'], {}, /--role-arn must be a role ARN/],
  ];
  for (const [args, env, message] of cases)
    assert.throws(
      () => parseDevArgs(args, env),
      (error: Error) => error instanceof UsageError && message.test(error.message),
      args.join(' '),
    );
});

test('the help names every flag and variable of the external store', () => {
  for (const name of [
    '--s3-endpoint',
    '--sts-endpoint',
    '--bucket',
    '--role-arn',
    '--region',
    ...EXTERNAL_STORE_VARIABLES,
  ])
    assert.ok(DEV_HELP.includes(name), name);
});
