import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSessionPolicy, UPLOAD_ACTIONS } from './session-policy.ts';

test('the policy allows the upload actions on exactly one object', () => {
  const text = buildSessionPolicy({ bucket: 'uploads', key: 'u/alice/id1/film.mp4' });
  assert.deepEqual(JSON.parse(text), {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: [...UPLOAD_ACTIONS], Resource: 'arn:aws:s3:::uploads/u/alice/id1/film.mp4' },
    ],
  });
});

test('keys IAM would read as patterns or variables are refused', () => {
  for (const key of ['u/*', 'u/a?c', 'u/\x24{aws:username}/x', 'u/a\u0000', '']) {
    assert.throws(() => buildSessionPolicy({ bucket: 'uploads', key }), /session policy/);
  }
});

test('a policy over STS size is refused', () => {
  assert.throws(() => buildSessionPolicy({ bucket: 'b', key: 'k'.repeat(2100) }), /exceed/);
});
