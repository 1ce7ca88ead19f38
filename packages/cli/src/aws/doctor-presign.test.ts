/** Doctor's presign live check agrees with the capability probe about If-None-Match on PutObject. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FULL_CAPABILITIES } from '@hoist/broker';
import { overwriteFinding } from './doctor-presign.ts';

test('a PutObject overwrite the broker knows about is a warning (it sends uploads multipart); one it does not know is an error', () => {
  const known = overwriteFinding(200, { ...FULL_CAPABILITIES, ifNoneMatchOnPut: false });
  assert.equal(known.level, 'warning');
  assert.match(known.message, /answered 200, not 412.*every upload multipart/);
  for (const caps of [FULL_CAPABILITIES, undefined]) {
    const unknown = overwriteFinding(200, caps);
    assert.equal(unknown.level, 'error');
    assert.match(unknown.fix ?? '', /store\.ifNoneMatchOnPut/);
  }
});
