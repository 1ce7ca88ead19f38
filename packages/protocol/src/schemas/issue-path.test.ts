import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issuePath } from './issue-path.ts';

test('issue paths read as code would write them', () => {
  assert.equal(issuePath(['s3', 'bucket']), 's3.bucket');
  assert.equal(issuePath(['auth', 'tokens', 'bad user']), 'auth.tokens["bad user"]');
  assert.equal(issuePath(['limits', 'allowedContentTypes', 0]), 'limits.allowedContentTypes[0]');
  assert.equal(issuePath([1, 'x'], 'HOIST_CORS_ORIGINS'), 'HOIST_CORS_ORIGINS[1].x');
  assert.equal(issuePath([]), '(root)');
});
