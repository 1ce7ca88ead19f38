/**
 * `hoist dev` pointed at a store of one's own instead of starting the local server: here a
 * separately started local S3 + STS server playing "the user's store", with the bucket, CORS,
 * the broker's IAM user and the upload role made beforehand, as the help text asks. The dev
 * stack uses it (a real upload with `hoist upload`), prints no keys of it, creates no IAM
 * resources there, and refuses plainly to start against a bucket it cannot reach.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { IAMClient, ListRolesCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { runCli, startDev } from '../helpers/cli.ts';
import { brokerIamConfig, brokerOwnStatements } from '../helpers/iam-fixtures.ts';
import { type Hook, startTestServer, TEST_CREDENTIALS, tmpDir } from '../helpers/server.ts';

const ACCOUNT = '410987654321';
const BUCKET = 'my-store-bucket';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/hoist-upload`;
const KEYS = Object.freeze({
  accessKeyId: 'AKIADEVEXTERNAL00001',
  secretAccessKey: 'dev-external-secret-0123456789abcdefghij',
});

async function userStore(t: Hook) {
  const server = await startTestServer(t, {
    iam: brokerIamConfig({
      accountId: ACCOUNT,
      accessKey: KEYS,
      bucket: BUCKET,
      prefix: 'uploads',
      tagSession: true,
      maxSessionDuration: 3600,
      userStatements: brokerOwnStatements(BUCKET, 'uploads'),
    }),
  });
  await server.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return server;
}

test('hoist dev against an external store: uploads go there, its keys are not printed, no IAM resource is created', async (t) => {
  const server = await userStore(t);
  const iam = new IAMClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { ...TEST_CREDENTIALS },
  });
  t.after(() => iam.destroy());
  const before = {
    users: (await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName).sort(),
    roles: (await iam.send(new ListRolesCommand({}))).Roles?.map((r) => r.RoleName).sort(),
  };
  const dataDir = await tmpDir(t, 'hoist-dev-external-');
  const dev = await startDev(
    ['--port', '0', '--data-dir', dataDir, '--bucket', BUCKET, '--role-arn', ROLE_ARN],
    {
      HOIST_DEV_S3_ENDPOINT: server.url,
      HOIST_DEV_ACCESS_KEY_ID: KEYS.accessKeyId,
      HOIST_DEV_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
    },
  );
  t.after(() => dev.stop());
  assert.equal(dev.child.exitCode, null, `hoist dev exited: ${dev.stderr()}`);
  const { info } = dev;
  assert.deepEqual(info.s3, { endpoint: server.url, region: 'us-east-1', bucket: BUCKET, external: true });
  assert.equal(info.mode, 'sts');
  assert.doesNotMatch(dev.stdout() + dev.stderr(), new RegExp(KEYS.secretAccessKey));

  const file = join(dataDir, 'hello.txt');
  const content = 'hello from hoist dev against an external store\n';
  await writeFile(file, content);
  const upload = runCli(['upload', '--broker', info.broker, '--no-resume', '--json', file], {
    HOIST_TOKEN: info.users[0]!.token,
  });
  assert.equal(await upload.exited, 0, upload.stderr());
  const completed = upload.events().find((event) => event.event === 'completed') as
    | { event: string; key: string }
    | undefined;
  assert.ok(completed, upload.stdout());
  assert.match(completed.key, /^uploads\//);
  const head = await server.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: completed.key }));
  assert.equal(head.ContentLength, Buffer.byteLength(content));

  const after = {
    users: (await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName).sort(),
    roles: (await iam.send(new ListRolesCommand({}))).Roles?.map((r) => r.RoleName).sort(),
  };
  assert.deepEqual(after, before, 'no IAM user, key or role was created on the external store');
});

test('hoist dev refuses to start against a bucket it cannot reach, saying what the store answered', async (t) => {
  const server = await userStore(t);
  const dataDir = await tmpDir(t, 'hoist-dev-external-');
  const missing = runCli(
    [
      'dev',
      '--json',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--bucket',
      'no-such-bucket',
      '--mode',
      'presign',
    ],
    {
      HOIST_DEV_S3_ENDPOINT: server.url,
      HOIST_DEV_ACCESS_KEY_ID: KEYS.accessKeyId,
      HOIST_DEV_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
    },
  );
  assert.equal(await missing.exited, 1, missing.stdout());
  assert.match(
    missing.stderr(),
    /bucket no-such-bucket at http:\/\/127\.0\.0\.1:\d+: the store answered (403|404)/,
  );

  const usage = runCli(['dev', '--bucket', BUCKET, '--s3-endpoint', server.url], {});
  assert.equal(await usage.exited, 2, usage.stderr());
  assert.match(usage.stderr(), /--role-arn \(or HOIST_DEV_ROLE_ARN\) is required in sts mode/);
});
