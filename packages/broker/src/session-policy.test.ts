import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, type PolicyContext, parsePolicy } from '@hoist/aws/policy';
import { buildObjectKey } from './keys.ts';
import { buildSessionPolicy, MAX_SESSION_POLICY_CHARS } from './session-policy.ts';

const ARN = 'arn:aws:s3:::uploads/u/alice/id1/film.mp4';

test('the policy allows the upload actions on exactly one object, creation only with If-None-Match', () => {
  const text = buildSessionPolicy({ bucket: 'uploads', key: 'u/alice/id1/film.mp4' });
  assert.deepEqual(JSON.parse(text), {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: ARN,
        Condition: { Null: { 's3:if-none-match': 'false' } },
      },
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: ARN,
        Condition: { Bool: { 's3:ObjectCreationOperation': 'false' } },
      },
      { Effect: 'Allow', Action: ['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], Resource: ARN },
    ],
  });
});

test('as S3 evaluates it: parts and If-None-Match creations pass, overwrites and siblings do not', () => {
  const session = parsePolicy(buildSessionPolicy({ bucket: 'uploads', key: 'u/alice/id1/film.mp4' }), {
    kind: 'identity',
  });
  const anything = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    { kind: 'identity' },
  );
  const decide = (action: string, resource: string, context: PolicyContext) =>
    evaluate(
      { action, resource, context, principal: { arn: 'arn:aws:sts::111122223333:assumed-role/r/s' } },
      { identity: [anything], session: [session], sameAccount: true },
    ).decision;
  const create = { 's3:ObjectCreationOperation': 'true' };
  const cases: [string, string, PolicyContext, string][] = [
    ['PutObject / Complete with If-None-Match', ARN, { ...create, 's3:if-none-match': '*' }, 'Allow'],
    ['PutObject / Complete without it', ARN, create, 'ImplicitDeny'],
    ['CreateMultipartUpload / UploadPart', ARN, { 's3:ObjectCreationOperation': 'false' }, 'Allow'],
    ['no condition keys at all', ARN, {}, 'ImplicitDeny'],
    ['a sibling, with If-None-Match', `${ARN}x`, { ...create, 's3:if-none-match': '*' }, 'ImplicitDeny'],
    ['a sibling, UploadPart', `${ARN}.part`, { 's3:ObjectCreationOperation': 'false' }, 'ImplicitDeny'],
  ];
  for (const [what, resource, context, expected] of cases)
    assert.equal(decide('s3:PutObject', resource, context), expected, what);
  assert.equal(decide('s3:AbortMultipartUpload', ARN, {}), 'Allow');
  assert.equal(decide('s3:ListMultipartUploadParts', ARN, {}), 'Allow');
  assert.equal(decide('s3:GetObject', ARN, {}), 'ImplicitDeny');
  assert.equal(decide('s3:DeleteObject', ARN, {}), 'ImplicitDeny');
});

test("the longest key the broker builds fits STS's size limit", () => {
  // 128-character prefix (the config's maximum), the longest user segment, a 100-character name.
  const prefix = `${'p'.repeat(63)}/${'q'.repeat(64)}`;
  const user = `${'.'.repeat(48)}${'a'.repeat(80)}`;
  const key = buildObjectKey(prefix, user, 'x'.repeat(25), `${'n'.repeat(300)}.mp4`);
  assert.equal(key.length, 128 + 224 + 25 + 100 + 3);
  const text = buildSessionPolicy({ bucket: 'b'.repeat(63), key });
  assert.ok(text.length <= MAX_SESSION_POLICY_CHARS, `${text.length} characters`);
});

test('keys IAM would read as patterns or variables are refused', () => {
  for (const key of ['u/*', 'u/a?c', 'u/\x24{aws:username}/x', 'u/a\u0000', '']) {
    assert.throws(() => buildSessionPolicy({ bucket: 'uploads', key }), /session policy/);
  }
});

test('a policy over STS size is refused', () => {
  assert.throws(() => buildSessionPolicy({ bucket: 'b', key: 'k'.repeat(2100) }), /exceed/);
});
