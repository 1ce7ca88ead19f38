import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tmpDir } from '../../../../test/helpers/server.ts';
import { DevIdentityError, IDENTITY_FILE, loadIdentity, saveIdentity } from './identity.ts';

test('alice and bob get tokens once; saved identities load unchanged, readable by the owner only', async (t) => {
  const dir = await tmpDir(t);
  const fresh = loadIdentity(dir);
  assert.equal(fresh.changed, true);
  assert.deepEqual(
    fresh.identity.users.map((user) => user.id),
    ['alice', 'bob'],
  );
  assert.notEqual(fresh.identity.users[0]!.token, fresh.identity.users[1]!.token);
  const withKey = {
    ...fresh.identity,
    brokerKey: { accessKeyId: 'AKIAEXAMPLE000000001', secretAccessKey: 's' },
  };
  saveIdentity(dir, withKey);
  assert.equal(statSync(join(dir, IDENTITY_FILE)).mode & 0o777, 0o600);
  assert.deepEqual(loadIdentity(dir), { identity: withKey, changed: false });
});

test('users added by hand are kept, the missing dev users added', async (t) => {
  const dir = await tmpDir(t);
  writeFileSync(
    join(dir, IDENTITY_FILE),
    JSON.stringify({ users: [{ id: 'carol', token: 'carol-token-0123456789' }] }),
  );
  const { identity, changed } = loadIdentity(dir);
  assert.equal(changed, true);
  assert.deepEqual(
    identity.users.map((user) => user.id),
    ['carol', 'alice', 'bob'],
  );
});

test('a broken file is refused with a message naming it, without quoting its secrets', async (t) => {
  const dir = await tmpDir(t);
  const path = join(dir, IDENTITY_FILE);
  for (const text of [
    '{"users": [{"id": "alice", "token": "secret-token-0123456789"',
    '{"users": [{"id": "a b", "token": "secret-token-0123456789"}]}',
    '{"users": [{"id": "alice", "token": "secret token 0123456789"}]}',
    '{"users": [{"id": "a", "token": "secret-token-0123456789"}, {"id": "b", "token": "secret-token-0123456789"}]}',
  ]) {
    writeFileSync(path, text);
    assert.throws(
      () => loadIdentity(dir),
      (error: Error) => {
        assert.ok(error instanceof DevIdentityError);
        assert.ok(error.message.startsWith(`${path} is not valid`), error.message);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
  }
  assert.equal(readFileSync(path, 'utf8').includes('secret-token'), true, 'the file is left as it was');
});
