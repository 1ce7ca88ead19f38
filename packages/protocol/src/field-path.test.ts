import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFieldPath } from './field-path.ts';

test('field paths: dots between identifiers, brackets for indexes and other names', () => {
  assert.equal(
    formatFieldPath(['roles', 0, 'trustPolicy', 'Statement', 1, 'Effect']),
    'roles[0].trustPolicy.Statement[1].Effect',
  );
  assert.equal(formatFieldPath(['policies', 'assume-uploader']), 'policies["assume-uploader"]');
  assert.equal(formatFieldPath([]), '(root)');
  assert.equal(formatFieldPath([0, 'a']), '[0].a');
  assert.equal(formatFieldPath(['limits', 'maxSize'], 'HOIST'), 'HOIST.limits.maxSize');
});
