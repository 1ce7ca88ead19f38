/**
 * The dev IAM setup against the real local server's IAM API and STS: what it creates lets
 * the broker do its job and no more, and running it again converges without duplicates.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IAMClient, ListAccessKeysCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { startTestServer, TEST_CREDENTIALS } from '../../../../test/helpers/server.ts';
import { BROKER_USER, setupBrokerIdentity, UPLOAD_ROLE } from './iam-setup.ts';

test('the broker user may assume the upload role; a rerun reuses the key, a lost key is replaced', async (t) => {
  const server = await startTestServer(t);
  const options = {
    endpoint: server.url,
    region: server.region,
    rootCredentials: { ...TEST_CREDENTIALS },
    bucket: 'hoist-dev',
    keyPrefix: 'uploads',
  };
  const first = await setupBrokerIdentity(options);
  assert.equal(first.keyCreated, true);
  assert.match(first.roleArn, new RegExp(`^arn:aws:iam::\\d{12}:role/${UPLOAD_ROLE}$`));

  const sts = new STSClient({
    endpoint: server.url,
    region: server.region,
    credentials: { ...first.key },
    maxAttempts: 1,
  });
  t.after(() => sts.destroy());
  const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: first.roleArn, RoleSessionName: 'check' }));
  assert.ok(assumed.Credentials?.AccessKeyId);

  const again = await setupBrokerIdentity({ ...options, storedKey: first.key });
  assert.deepEqual(again, { key: first.key, roleArn: first.roleArn, keyCreated: false });

  // The data dir lost its copy of the secret: the old key goes, a new one comes (IAM allows two).
  const lost = await setupBrokerIdentity(options);
  assert.equal(lost.keyCreated, true);
  assert.notEqual(lost.key.accessKeyId, first.key.accessKeyId);

  const iam = new IAMClient({
    endpoint: server.url,
    region: server.region,
    credentials: { ...TEST_CREDENTIALS },
    maxAttempts: 1,
  });
  t.after(() => iam.destroy());
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: BROKER_USER }));
  assert.deepEqual(
    keys.AccessKeyMetadata?.map((key) => key.AccessKeyId),
    [lost.key.accessKeyId],
  );
  const roles = await iam.send(new ListRolesCommand({}));
  assert.deepEqual(
    roles.Roles?.map((role) => role.RoleName),
    [UPLOAD_ROLE],
  );
});
