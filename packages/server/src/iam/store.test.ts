import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ACCOUNT,
  allowPolicy,
  policyOfSize,
  tempDir,
  tempStore,
  trustPolicy,
} from '../../../../test/helpers/iam-store.ts';
import { openIamStore } from './store.ts';
import { IamError, type IamErrorCode, type IamSeed } from './types.ts';

function throwsIam(fn: () => unknown, code: IamErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof IamError, `expected IamError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('IAM store: entities, ids and ARNs', () => {
  test('users, roles and keys get AWS-shaped ids, ARNs and the clock time', (t) => {
    const { store, now } = tempStore(t);
    const user = store.createUser({ userName: 'alice', path: '/team/', tags: { dept: 'media' } });
    assert.match(user.userId, /^AIDA[A-Z2-7]{17}$/);
    assert.equal(user.arn, `arn:aws:iam::${ACCOUNT}:user/team/alice`);
    assert.equal(user.createDate, now.value);
    assert.deepEqual(user.tags, { dept: 'media' });
    const role = store.createRole({ roleName: 'uploader', assumeRolePolicyDocument: trustPolicy() });
    assert.match(role.roleId, /^AROA[A-Z2-7]{17}$/);
    assert.equal(role.arn, `arn:aws:iam::${ACCOUNT}:role/uploader`);
    assert.equal(role.maxSessionDuration, 3600);
    const key = store.createAccessKey('alice');
    assert.match(key.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.match(key.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
    assert.equal(key.status, 'Active');
    assert.equal(store.createAccessKey('alice').accessKeyId === key.accessKeyId, false);
  });

  test('names are unique and looked up without regard to case', (t) => {
    const { store } = tempStore(t);
    store.createUser({ userName: 'Alice' });
    throwsIam(
      () => store.createUser({ userName: 'alice' }),
      'EntityAlreadyExists',
      /User with name alice already exists/,
    );
    assert.equal(store.getUser('ALICE')?.userName, 'Alice');
    store.createRole({ roleName: 'Up', assumeRolePolicyDocument: trustPolicy() });
    throwsIam(
      () => store.createRole({ roleName: 'UP', assumeRolePolicyDocument: trustPolicy() }),
      'EntityAlreadyExists',
    );
    assert.equal(store.getRole('up')?.roleName, 'Up');
    assert.equal(store.getRoleByArn(`arn:aws:iam::${ACCOUNT}:role/Up`)?.roleName, 'Up');
  });

  test('names, paths and other inputs are validated as IAM does', (t) => {
    const { store } = tempStore(t);
    throwsIam(
      () => store.createUser({ userName: 'bad name' }),
      'ValidationError',
      /regular expression pattern/,
    );
    throwsIam(
      () => store.createUser({ userName: 'a'.repeat(65) }),
      'ValidationError',
      /less than or equal to 64/,
    );
    throwsIam(() => store.createUser({ userName: '' }), 'ValidationError', /greater than or equal to 1/);
    throwsIam(() => store.createUser({ userName: 'ok', path: 'no-slashes' }), 'ValidationError', /at 'path'/);
    throwsIam(
      () => store.createUser({ userName: 'ok', tags: { a: '1', A: '2' } }),
      'InvalidInput',
      /Duplicate tag keys/,
    );
    assert.equal(store.createUser({ userName: 'a'.repeat(64) }).userName.length, 64);
    assert.equal(store.createUser({ userName: 'x+=,.@_-9' }).path, '/');
    throwsIam(
      () =>
        store.createRole({
          roleName: 'r',
          assumeRolePolicyDocument: trustPolicy(),
          maxSessionDuration: 3599,
        }),
      'ValidationError',
      /at 'maxSessionDuration' .* greater than or equal to 3600/,
    );
    throwsIam(
      () =>
        store.createRole({
          roleName: 'r',
          assumeRolePolicyDocument: trustPolicy(),
          maxSessionDuration: 43_201,
        }),
      'ValidationError',
      /less than or equal to 43200/,
    );
    assert.equal(
      store.createRole({ roleName: 'r', assumeRolePolicyDocument: trustPolicy(), maxSessionDuration: 43_200 })
        .maxSessionDuration,
      43_200,
    );
    throwsIam(
      () => store.putRolePolicy('r', 'p'.repeat(129), allowPolicy()),
      'ValidationError',
      /policyName/,
    );
  });

  test('entities handed out are frozen snapshots', (t) => {
    const { store } = tempStore(t);
    const user = store.createUser({ userName: 'u' });
    assert.throws(() => {
      (user as { userName: string }).userName = 'x';
    }, TypeError);
    store.putUserPolicy('u', 'p', allowPolicy());
    assert.deepEqual(user.policies, {}, 'an earlier snapshot does not change');
    assert.deepEqual(Object.keys(store.getUser('u')!.policies), ['p']);
  });
});

describe('IAM store: policies and documents', () => {
  test('inline policies are put, read, replaced and deleted', (t) => {
    const { store } = tempStore(t);
    store.createUser({ userName: 'u' });
    store.putUserPolicy('u', 'read', allowPolicy());
    store.putUserPolicy('u', 'read', allowPolicy('s3:PutObject'));
    assert.equal(store.getUserPolicy('u', 'read'), allowPolicy('s3:PutObject'));
    throwsIam(() => store.getUserPolicy('u', 'nope'), 'NoSuchEntity', /user policy with name nope/);
    throwsIam(() => store.getUserPolicy('ghost', 'read'), 'NoSuchEntity', /user with name ghost/);
    store.deleteUserPolicy('u', 'read');
    throwsIam(() => store.deleteUserPolicy('u', 'read'), 'NoSuchEntity');
    store.createRole({ roleName: 'r', assumeRolePolicyDocument: trustPolicy() });
    store.putRolePolicy('r', 'w', allowPolicy('s3:PutObject'));
    assert.equal(store.getRolePolicy('r', 'w'), allowPolicy('s3:PutObject'));
    throwsIam(() => store.getRolePolicy('r', 'x'), 'NoSuchEntity', /role policy with name x/);
    store.deleteRolePolicy('r', 'w');
    assert.deepEqual(store.getRole('r')!.policies, {});
  });

  test('documents are checked by the policy engine: malformed ones are refused', (t) => {
    const { store } = tempStore(t);
    store.createUser({ userName: 'u' });
    throwsIam(() => store.putUserPolicy('u', 'p', '{not json'), 'MalformedPolicyDocument');
    throwsIam(
      () =>
        store.putUserPolicy(
          'u',
          'p',
          JSON.stringify({ Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }),
        ),
      'MalformedPolicyDocument',
      /Effect/,
    );
    throwsIam(() => store.putUserPolicy('u', 'p', trustPolicy()), 'MalformedPolicyDocument', /Principal/);
    throwsIam(
      () => store.createRole({ roleName: 'r', assumeRolePolicyDocument: allowPolicy() }),
      'MalformedPolicyDocument',
      /Principal/,
    );
    const withResource = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole', Resource: '*' }],
    });
    throwsIam(
      () => store.createRole({ roleName: 'r', assumeRolePolicyDocument: withResource }),
      'MalformedPolicyDocument',
      /prohibited field Resource/,
    );
    const s3Trust = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject' }],
    });
    throwsIam(
      () => store.createRole({ roleName: 'r', assumeRolePolicyDocument: s3Trust }),
      'MalformedPolicyDocument',
      /STS AssumeRole actions/,
    );
    throwsIam(() => store.putUserPolicy('u', 'p', 'emoji \u{1F600}'), 'ValidationError', /policyDocument/);
    assert.equal(store.getRole('r'), undefined);
  });

  test('aggregate inline policy size: 2,048 per user, 10,240 per role, white space not counted', (t) => {
    const { store } = tempStore(t);
    store.createUser({ userName: 'u' });
    store.putUserPolicy('u', 'a', policyOfSize(1024));
    store.putUserPolicy('u', 'b', policyOfSize(1024));
    throwsIam(
      () => store.putUserPolicy('u', 'c', policyOfSize(200)),
      'LimitExceeded',
      /Maximum policy size of 2048 bytes exceeded for user u/,
    );
    // Replacing a policy counts its new size, not both.
    store.putUserPolicy('u', 'b', policyOfSize(1000));
    const spaced = JSON.stringify(JSON.parse(policyOfSize(1024)), null, 8);
    assert.ok(spaced.length > 1100);
    store.deleteUserPolicy('u', 'a');
    store.putUserPolicy('u', 'a', spaced);

    store.createRole({ roleName: 'r', assumeRolePolicyDocument: trustPolicy() });
    for (let i = 0; i < 5; i++) store.putRolePolicy('r', `p${i}`, policyOfSize(2048));
    throwsIam(
      () => store.putRolePolicy('r', 'p5', policyOfSize(200)),
      'LimitExceeded',
      /Maximum policy size of 10240 bytes exceeded for role r/,
    );
    const error = (() => {
      try {
        store.putRolePolicy('r', 'p5', policyOfSize(200));
      } catch (e) {
        return e as IamError;
      }
      return undefined;
    })();
    assert.equal(error?.status, 409);
  });

  test('trust policies are capped at 2,048 characters (ACLSizePerRole)', (t) => {
    const { store } = tempStore(t);
    const big = JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole', Sid: 'x'.repeat(2048) },
      ],
    });
    throwsIam(
      () => store.createRole({ roleName: 'r', assumeRolePolicyDocument: big }),
      'LimitExceeded',
      /ACLSizePerRole: 2048/,
    );
    store.createRole({ roleName: 'r', assumeRolePolicyDocument: trustPolicy() });
    throwsIam(() => store.updateAssumeRolePolicy('r', big), 'LimitExceeded');
    store.updateAssumeRolePolicy('r', trustPolicy('arn:aws:iam::123456789012:user/bob'));
    assert.match(store.getRole('r')!.assumeRolePolicyDocument, /user\/bob/);
  });
});

describe('IAM store: limits and conflicts', () => {
  test('at most two access keys per user; keys are found by id', (t) => {
    const { store, now } = tempStore(t);
    store.createUser({ userName: 'u' });
    store.createUser({ userName: 'v' });
    const a = store.createAccessKey('u');
    now.value += 1000;
    const b = store.createAccessKey('u');
    throwsIam(() => store.createAccessKey('u'), 'LimitExceeded', /AccessKeysPerUser: 2/);
    assert.deepEqual(
      store.listAccessKeys('u').map((k) => k.accessKeyId),
      [a.accessKeyId, b.accessKeyId],
    );
    const found = store.findAccessKey(a.accessKeyId);
    assert.equal(found?.user.userName, 'u');
    assert.equal(found?.key.secretAccessKey, a.secretAccessKey);
    assert.equal(store.findAccessKey('AKIANOTAKEY000000000'), undefined);
    throwsIam(() => store.deleteAccessKey('v', a.accessKeyId), 'NoSuchEntity', /Access Key with id/);
    throwsIam(() => store.createAccessKey('ghost'), 'NoSuchEntity');
    store.deleteAccessKey('u', a.accessKeyId);
    assert.equal(store.findAccessKey(a.accessKeyId), undefined);
    store.createAccessKey('u');
  });

  test('DeleteUser conflicts while keys or policies remain; DeleteRole while policies remain', (t) => {
    const { store } = tempStore(t);
    store.createUser({ userName: 'u' });
    const key = store.createAccessKey('u');
    store.putUserPolicy('u', 'p', allowPolicy());
    throwsIam(() => store.deleteUser('u'), 'DeleteConflict', /must delete access keys first/);
    store.deleteAccessKey('u', key.accessKeyId);
    throwsIam(() => store.deleteUser('u'), 'DeleteConflict', /must delete policies first/);
    store.deleteUserPolicy('u', 'p');
    store.deleteUser('u');
    throwsIam(() => store.deleteUser('u'), 'NoSuchEntity');
    assert.deepEqual(store.listUsers(), []);

    store.createRole({ roleName: 'r', assumeRolePolicyDocument: trustPolicy() });
    store.putRolePolicy('r', 'p', allowPolicy());
    throwsIam(() => store.deleteRole('r'), 'DeleteConflict', /must delete policies first/);
    store.deleteRolePolicy('r', 'p');
    const arn = store.getRole('r')!.arn;
    store.deleteRole('r');
    assert.equal(store.getRoleByArn(arn), undefined);
    throwsIam(() => store.deleteRole('r'), 'NoSuchEntity', /role with name r cannot be found/);
  });

  test('IamError statuses follow the IAM API reference', () => {
    assert.equal(new IamError('NoSuchEntity', '').status, 404);
    assert.equal(new IamError('EntityAlreadyExists', '').status, 409);
    assert.equal(new IamError('DeleteConflict', '').status, 409);
    assert.equal(new IamError('LimitExceeded', '').status, 409);
    assert.equal(new IamError('MalformedPolicyDocument', '').status, 400);
    assert.equal(new IamError('ValidationError', '').status, 400);
    assert.equal(new IamError('InvalidInput', '').status, 400);
  });
});

describe('IAM store: persistence', () => {
  test('everything survives a reopen; the file is mode 0600', (t) => {
    const { store, dataDir, reopen } = tempStore(t);
    const user = store.createUser({ userName: 'alice', path: '/p/', tags: { k: 'v' } });
    const key = store.createAccessKey('alice');
    store.putUserPolicy('alice', 'read', allowPolicy());
    const role = store.createRole({
      roleName: 'r',
      assumeRolePolicyDocument: trustPolicy(),
      description: 'd',
      maxSessionDuration: 7200,
      tags: { a: 'b' },
    });
    store.putRolePolicy('r', 'w', allowPolicy('s3:PutObject'));

    const again = reopen();
    assert.deepEqual(again.getUser('alice'), store.getUser('alice'));
    assert.equal(again.getUser('alice')?.userId, user.userId);
    assert.deepEqual(again.getRole('r'), store.getRole('r'));
    assert.equal(again.getRole('r')!.roleId, role.roleId);
    assert.deepEqual(again.findAccessKey(key.accessKeyId)?.key, key);
    assert.equal(again.getUserPolicy('alice', 'read'), allowPolicy());
    assert.equal(again.getRoleByArn(role.arn)?.description, 'd');

    const file = join(dataDir, 'iam.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, 'utf8').includes(key.secretAccessKey));
  });

  test('a crash before the rename leaves the old state; stray temp files are ignored and removed', (t) => {
    const { store, dataDir, reopen } = tempStore(t);
    store.createUser({ userName: 'kept' });
    // What a crash mid-write leaves: a half-written temp file next to the committed one.
    const stray = join(dataDir, 'iam.json.4242.deadbeef0000.tmp');
    writeFileSync(stray, '{"version":1,"accountId":"1234', { mode: 0o600 });
    const again = reopen();
    assert.equal(again.getUser('kept')?.userName, 'kept');
    assert.deepEqual(readdirSync(dataDir), ['iam.json']);
    again.createUser({ userName: 'next' });
    assert.deepEqual(readdirSync(dataDir), ['iam.json']);
    assert.equal(reopen().listUsers().length, 2);
  });

  test('a failed write changes nothing in memory or on disk', (t) => {
    const { store, dataDir, reopen } = tempStore(t);
    store.createUser({ userName: 'before' });
    const file = join(dataDir, 'iam.json');
    const committed = readFileSync(file, 'utf8');
    // Make the rename fail: the target becomes a non-empty directory.
    rmSync(file);
    mkdirSync(join(file, 'blocker'), { recursive: true });
    assert.throws(() => store.createUser({ userName: 'after' }));
    assert.equal(store.getUser('after'), undefined);
    assert.equal(store.getUser('before')?.userName, 'before');
    assert.deepEqual(readdirSync(dataDir), ['iam.json'], 'no temp file left behind');
    rmSync(file, { recursive: true });
    writeFileSync(file, committed, { mode: 0o600 });
    assert.deepEqual(
      reopen()
        .listUsers()
        .map((u) => u.userName),
      ['before'],
    );
  });

  test('a corrupt state file is refused with the file and field named', (t) => {
    const dataDir = tempDir(t);
    writeFileSync(join(dataDir, 'iam.json'), JSON.stringify({ version: 1, accountId: ACCOUNT, users: 'x' }));
    assert.throws(
      () => openIamStore({ dataDir, accountId: ACCOUNT }),
      (error: Error) => error.message.includes('iam.json') && error.message.includes('users'),
    );
    writeFileSync(join(dataDir, 'iam.json'), '{');
    assert.throws(() => openIamStore({ dataDir, accountId: ACCOUNT }), /not valid JSON/);
  });

  test('reopening with another account id keeps ids and rewrites ARNs', (t) => {
    const { store, dataDir } = tempStore(t);
    const user = store.createUser({ userName: 'u' });
    const other = openIamStore({ dataDir, accountId: '999999999999' });
    assert.equal(other.getUser('u')?.userId, user.userId);
    assert.equal(other.getUser('u')?.arn, 'arn:aws:iam::999999999999:user/u');
    assert.match(readFileSync(join(dataDir, 'iam.json'), 'utf8'), /"accountId": "999999999999"/);
  });

  test('options are checked at once', (t) => {
    const dataDir = tempDir(t);
    assert.throws(() => openIamStore({ dataDir, accountId: '12' }), TypeError);
    assert.throws(() => openIamStore({ dataDir: '', accountId: ACCOUNT }), TypeError);
  });
});

describe('IAM store: seeding', () => {
  const seed: IamSeed & { users: NonNullable<IamSeed['users']>; roles: NonNullable<IamSeed['roles']> } = {
    users: [
      {
        userName: 'broker',
        path: '/hoist/',
        tags: { team: 'media' },
        accessKeys: [
          {
            accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
            secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          },
        ],
        policies: { assume: allowPolicy('sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/uploader`) },
      },
    ],
    roles: [
      {
        roleName: 'uploader',
        assumeRolePolicyDocument: trustPolicy(`arn:aws:iam::${ACCOUNT}:user/hoist/broker`),
        description: 'uploads',
        maxSessionDuration: 7200,
        policies: { put: allowPolicy('s3:PutObject') },
      },
    ],
    managedPolicies: [{ policyName: 'ro', path: '/m/', document: allowPolicy() }],
  };

  test('creates what is declared; applying again changes nothing (no write)', (t) => {
    const { store, dataDir, now, reopen } = tempStore(t, { seed });
    const user = store.getUser('broker')!;
    assert.equal(user.arn, `arn:aws:iam::${ACCOUNT}:user/hoist/broker`);
    assert.equal(store.findAccessKey('AKIAIOSFODNN7EXAMPLE')?.user.userName, 'broker');
    assert.equal(store.getRole('uploader')?.maxSessionDuration, 7200);
    assert.equal(store.getManagedPolicy(`arn:aws:iam::${ACCOUNT}:policy/m/ro`)?.document, allowPolicy());
    assert.equal(store.listManagedPolicies().length, 1);
    const file = join(dataDir, 'iam.json');
    const text = readFileSync(file, 'utf8');
    const mtime = statSync(file).mtimeMs;
    now.value += 60_000;
    const again = reopen(seed);
    again.applySeed(seed);
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.equal(statSync(file).mtimeMs, mtime);
    assert.equal(again.getUser('broker')?.userId, user.userId);
  });

  test('the file wins for what it declares; entities made through the API stay', (t) => {
    const { store, reopen } = tempStore(t, { seed });
    const roleId = store.getRole('uploader')!.roleId;
    store.createUser({ userName: 'api-made' });
    store.putRolePolicy('uploader', 'extra', allowPolicy('s3:ListBucket', 'arn:aws:s3:::bucket'));
    store.updateAssumeRolePolicy('uploader', trustPolicy());
    store.putUserPolicy('broker', 'assume', allowPolicy('s3:*'));
    const changed = structuredClone(seed);
    changed.roles[0]!.description = 'changed';
    changed.roles[0]!.path = '/moved/';
    const again = reopen(changed);
    const role = again.getRole('uploader')!;
    assert.equal(role.roleId, roleId);
    assert.equal(role.description, 'changed');
    assert.equal(role.arn, `arn:aws:iam::${ACCOUNT}:role/moved/uploader`);
    assert.equal(again.getRoleByArn(`arn:aws:iam::${ACCOUNT}:role/uploader`), undefined);
    assert.equal(role.assumeRolePolicyDocument, seed.roles[0]!.assumeRolePolicyDocument);
    assert.deepEqual(Object.keys(role.policies).sort(), ['extra', 'put']);
    assert.equal(again.getUserPolicy('broker', 'assume'), seed.users[0]!.policies!.assume);
    assert.ok(again.getUser('api-made'));
  });

  test('a declared key replaces its secret; a third key is refused; a bad seed changes nothing', (t) => {
    const { store, reopen } = tempStore(t, { seed });
    store.createAccessKey('broker');
    const rotated = structuredClone(seed);
    rotated.users[0]!.accessKeys![0]!.secretAccessKey = 'another-secret-0123456789';
    const again = reopen(rotated);
    assert.equal(
      again.findAccessKey('AKIAIOSFODNN7EXAMPLE')?.key.secretAccessKey,
      'another-secret-0123456789',
    );
    const third = structuredClone(rotated);
    third.users[0]!.accessKeys!.push({
      accessKeyId: 'AKIAEXAMPLETHIRD0000',
      secretAccessKey: 'secret-secret-secret',
    });
    throwsIam(() => again.applySeed(third), 'LimitExceeded', /user broker would have 3 access keys/);
    assert.equal(again.findAccessKey('AKIAEXAMPLETHIRD0000'), undefined);
    const broken = structuredClone(seed);
    broken.roles[0]!.policies!.put = '{';
    broken.users[0]!.tags!.team = 'changed';
    throwsIam(() => again.applySeed(broken), 'MalformedPolicyDocument', /^role uploader:/);
    assert.equal(again.getUser('broker')?.tags.team, 'media', 'nothing of a failed seed is kept');
  });
});
