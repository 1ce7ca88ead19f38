import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { evaluate } from '@hoist/aws/policy';
import { buildSessionPolicy } from '@hoist/broker/internal/session-policy';
import { brokerIamConfig, brokerOwnStatements } from '../../../../test/helpers/iam-fixtures.ts';
import { corsConfiguration, EXPOSED_HEADERS, normaliseOrigin } from './cors.ts';
import { defaultAbortDays, lifecycleConfiguration } from './lifecycle.ts';
import {
  brokerPolicy,
  checkUploadRolePolicy,
  decide,
  exampleSessionPolicy,
  forbiddenProbes,
  parseIdentityPolicies,
  parseRoleArn,
  partitionOf,
  requiredProbes,
  uploadRolePolicy,
} from './policies.ts';
import { brokerPrincipalArn, checkTrustPolicy, trustPolicy } from './trust.ts';

const scope = { bucket: 'media-uploads', prefix: 'uploads' };
const ROLE = 'arn:aws:iam::123456789012:role/hoist-upload';

test('upload role policy: the flow is allowed on the prefix, nothing on the forbidden list', () => {
  const policy = uploadRolePolicy(scope);
  assert.deepEqual(checkUploadRolePolicy([policy], scope), []);
  const policies = parseIdentityPolicies([policy]);
  for (const probe of requiredProbes(scope)) assert.equal(decide(policies, probe), 'Allow', probe.what);
  for (const probe of forbiddenProbes(scope))
    assert.equal(decide(policies, probe), 'ImplicitDeny', probe.what);
});

test('upload role policy with the session policy: one key, exactly as the broker mints it', () => {
  const role = parseIdentityPolicies([uploadRolePolicy(scope)]);
  const key = 'uploads/alice/01J0UPLOAD/file.bin';
  const session = parseIdentityPolicies([buildSessionPolicy({ bucket: scope.bucket, key })]);
  const allowed = (action: string, k: string, context = {}) =>
    evaluate(
      {
        action,
        resource: `arn:aws:s3:::${scope.bucket}/${k}`,
        principal: { arn: 'arn:aws:sts::123456789012:assumed-role/r/s' },
        context,
      },
      { identity: role, session, sameAccount: true },
    ).decision;
  assert.equal(allowed('s3:PutObject', key, { 's3:ObjectCreationOperation': 'false' }), 'Allow');
  assert.equal(
    allowed('s3:PutObject', 'uploads/alice/other/file.bin', { 's3:ObjectCreationOperation': 'false' }),
    'ImplicitDeny',
  );
});

test('the checks catch a role that is too broad or too narrow', () => {
  const broad = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::media-uploads/*' }],
  };
  const findings = checkUploadRolePolicy([broad], scope).map((f) => f.message);
  assert.ok(
    findings.some((m) => /too broad.*GetObject/.test(m)),
    findings.join('\n'),
  );
  const other = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::media-uploads/other/*' }],
  };
  assert.ok(checkUploadRolePolicy([other], scope).some((f) => /does not allow ListParts/.test(f.message)));
  // The test fixture's role (no conditions): correct, with a warning about overwrites.
  const fixture = brokerIamConfig({
    accountId: '123456789012',
    accessKey: { accessKeyId: 'AKIAX', secretAccessKey: 's' },
    bucket: scope.bucket,
    prefix: scope.prefix,
  });
  const fixtureRole = fixture.roles?.[0]?.policies?.uploads;
  assert.ok(fixtureRole);
  assert.deepEqual(
    checkUploadRolePolicy([fixtureRole], scope).map((f) => f.level),
    ['warning'],
  );
});

test('broker policy allows what the test fixture grants the broker, and no more', () => {
  const ours = parseIdentityPolicies([brokerPolicy({ ...scope, mode: 'federation' })]);
  const fixture = parseIdentityPolicies([
    { Version: '2012-10-17', Statement: brokerOwnStatements(scope.bucket, scope.prefix) },
  ]);
  const object = 'arn:aws:s3:::media-uploads/uploads/a/b/c';
  const probes = [
    ['sts:GetFederationToken', '*'],
    ...[
      's3:PutObject',
      's3:GetObject',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
    ].map((a) => [a, object]),
    ['s3:ListBucketMultipartUploads', 'arn:aws:s3:::media-uploads'],
    ['s3:ListBucket', 'arn:aws:s3:::media-uploads'],
    ['s3:GetObject', 'arn:aws:s3:::media-uploads/private/x'],
    ['s3:DeleteBucket', 'arn:aws:s3:::media-uploads'],
    ['iam:CreateUser', '*'],
  ] as const;
  for (const [action, resource] of probes) {
    const probe = { what: action, action, resource };
    assert.equal(decide(ours, probe), decide(fixture, probe), `${action} ${resource}`);
  }
  const sts = brokerPolicy({ ...scope, mode: 'sts', roleArn: ROLE });
  assert.deepEqual(sts.Statement[0], {
    Sid: 'AssumeUploadRole',
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Resource: ROLE,
  });
  assert.throws(() => brokerPolicy({ ...scope, mode: 'sts' }), TypeError);
});

test('example session policy is the broker session policy for one key', () => {
  const policy = exampleSessionPolicy(scope);
  assert.equal(policy.Statement.length, 3);
  assert.match(JSON.stringify(policy), /arn:aws:s3:::media-uploads\/uploads\/alice\//);
});

test('trust policy names the broker; the check tells who may assume', () => {
  const principal = 'arn:aws:iam::123456789012:role/hoist-broker-lambda';
  const policy = trustPolicy({ principal });
  assert.deepEqual(checkTrustPolicy(policy, { principal, roleArn: ROLE }), []);
  const other = trustPolicy({ principal: 'arn:aws:iam::123456789012:user/someone' });
  assert.match(checkTrustPolicy(other, { principal, roleArn: ROLE })[0]?.message ?? '', /does not allow/);
  const open = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
  };
  assert.ok(
    checkTrustPolicy(open, { principal, roleArn: ROLE }).some((f) => /any AWS account/.test(f.message)),
  );
  const withId = trustPolicy({ principal, externalId: 'ext-123', tagSession: true });
  assert.deepEqual(withId.Statement[0]?.Action, ['sts:AssumeRole', 'sts:TagSession']);
  assert.deepEqual(checkTrustPolicy(withId, { principal, roleArn: ROLE, externalId: 'ext-123' }), []);
  assert.equal(checkTrustPolicy(withId, { principal, roleArn: ROLE }).length, 1);
  assert.equal(
    brokerPrincipalArn('arn:aws:sts::123456789012:assumed-role/exec/fn'),
    'arn:aws:iam::123456789012:role/exec',
  );
  assert.throws(() => brokerPrincipalArn('arn:aws:s3:::bucket'), /--principal/);
});

test('CORS: origins only (no * unless forced), multipart methods, ETag and checksums exposed', () => {
  const { CORSRules } = corsConfiguration({
    origins: ['https://app.example.com', 'https://APP.example.com'],
  });
  const [rule] = CORSRules;
  assert.deepEqual(rule?.AllowedOrigins, ['https://app.example.com']);
  assert.ok(rule?.ExposeHeaders.includes('ETag'));
  assert.ok(EXPOSED_HEADERS.includes('x-amz-checksum-crc32c'));
  assert.ok(rule?.AllowedMethods.includes('PUT'));
  assert.throws(() => corsConfiguration({ origins: ['*'] }), /--allow-any-origin/);
  assert.deepEqual(corsConfiguration({ origins: ['*'], allowAnyOrigin: true }).CORSRules[0]?.AllowedOrigins, [
    '*',
  ]);
  assert.throws(() => normaliseOrigin('https://app.example.com/path', false), /no path/);
  assert.throws(() => corsConfiguration({ origins: [] }), /--origin is required/);
});

test('lifecycle: abort incomplete uploads under the prefix', () => {
  assert.deepEqual(lifecycleConfiguration({ prefix: 'uploads', days: 2 }).Rules[0], {
    ID: 'hoist-abort-incomplete-uploads',
    Status: 'Enabled',
    Filter: { Prefix: 'uploads/' },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
  });
  assert.equal(defaultAbortDays(86_400), 2);
  assert.throws(() => lifecycleConfiguration({ prefix: 'uploads', days: 0 }), /--days/);
});

test('ARN helpers', () => {
  assert.deepEqual(parseRoleArn('arn:aws:iam::123456789012:role/path/x'), {
    partition: 'aws',
    account: '123456789012',
    name: 'x',
  });
  assert.equal(parseRoleArn('arn:aws:iam::123456789012:user/x'), undefined);
  assert.equal(partitionOf('cn-north-1'), 'aws-cn');
  assert.equal(partitionOf('us-east-1', 'arn:aws-us-gov:iam::1:role/x'), 'aws-us-gov');
});

test("docs/broker.md names every action of the broker's policy, in each mode", () => {
  const docs = readFileSync(new URL('../../../../docs/broker.md', import.meta.url), 'utf8');
  const paragraph = /The broker's own identity needs[\s\S]*?\n\n/.exec(docs)?.[0] ?? '';
  assert.ok(paragraph, "the docs' paragraph on the broker's own permissions");
  for (const policy of [
    brokerPolicy({ ...scope, mode: 'sts', roleArn: ROLE }),
    brokerPolicy({ ...scope, mode: 'federation' }),
  ]) {
    for (const statement of policy.Statement) {
      for (const action of [statement.Action].flat() as string[])
        assert.ok(paragraph.includes(`\`${action}\``), `${action} is missing from the docs`);
    }
  }
});
