import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerProblem } from './errors.ts';
import { failedCreateProblem, failedCreateReason } from './failed-create.ts';

test('a failed create round-trips through the registry reason', () => {
  const original = new BrokerProblem(
    'upstream-timeout',
    'AssumeRole failed: the store did not answer in time',
  );
  const reason = failedCreateReason(original);
  assert.equal(
    reason,
    'create failed (upstream-timeout): AssumeRole failed: the store did not answer in time',
  );
  const again = failedCreateProblem(reason);
  assert.ok(again);
  assert.equal(again.type, 'upstream-timeout');
  assert.equal(again.status, 504);
  assert.equal(again.message, original.message);
});

test('other errors are recorded as internal, without their message', () => {
  const reason = failedCreateReason(new TypeError('secret detail'));
  assert.doesNotMatch(reason, /secret/);
  assert.equal(failedCreateProblem(reason)?.type, 'internal');
});

test('other reasons, and unknown types, are not failed creates', () => {
  assert.equal(failedCreateProblem(undefined), undefined);
  assert.equal(failedCreateProblem('credentials could not be issued'), undefined);
  assert.equal(failedCreateProblem('create failed (no-such-type): x'), undefined);
});
