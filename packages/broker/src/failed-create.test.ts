import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerProblem } from './errors.ts';
import { failedCreate, failedCreateReason } from './failed-create.ts';

/** The problem a failed create answered, from its record's reason. */
const failedCreateProblem = (reason: string | undefined) => failedCreate(reason)?.problem;

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

test('a failure the store may cure is transient; one it refused for good keeps retryable: false', () => {
  const transient = failedCreateReason(new BrokerProblem('upstream-error', 'AssumeRole failed: 503'));
  assert.deepEqual(
    { transient: failedCreate(transient)?.transient, type: failedCreate(transient)?.problem.type },
    { transient: true, type: 'upstream-error' },
  );
  assert.equal(
    failedCreate(failedCreateReason(new BrokerProblem('upstream-timeout', 'late')))?.transient,
    true,
  );
  const final = failedCreateReason(new BrokerProblem('upstream-error', '405', { retryable: false }));
  assert.equal(final, 'create failed (upstream-error, final): 405');
  assert.equal(failedCreate(final)?.transient, false);
  assert.equal(failedCreate(final)?.problem.retryable, false);
  assert.equal(failedCreate(final)?.problem.message, '405');
  // Not a store failure: answered again, never retried.
  assert.equal(failedCreate(failedCreateReason(new Error('bug')))?.transient, false);
  assert.equal(failedCreate('create failed (rate-limited): slow down')?.transient, false);
});
