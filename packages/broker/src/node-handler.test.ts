import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stripBasePath } from './node-handler.ts';

test('the base path is removed, and URLs outside it are not the broker’s', () => {
  assert.equal(stripBasePath('/api/hoist/uploads', '/api/hoist'), '/uploads');
  assert.equal(stripBasePath('/api/hoist', '/api/hoist'), '/');
  assert.equal(stripBasePath('/api/hoist?x=1', '/api/hoist'), '/?x=1');
  assert.equal(stripBasePath('/api/hoister/uploads', '/api/hoist'), undefined);
  assert.equal(stripBasePath('/other', '/api/hoist'), undefined);
  assert.equal(stripBasePath('/uploads', ''), '/uploads');
});
