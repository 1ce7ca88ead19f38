import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ACCOUNT,
  allowPolicy,
  EXAMPLE_IAM_CONFIG,
  tempDir,
  tempStore,
} from '../../../../test/helpers/iam-store.ts';
import {
  applyIamConfig,
  IamConfigError,
  type IamConfigInput,
  loadIamConfig,
  parseIamConfig,
} from './config.ts';
import { openIamStore } from './store.ts';

/** The issue lines a config produces (it must be invalid). */
function issuesOf(value: unknown): string[] {
  try {
    parseIamConfig(value);
  } catch (error) {
    assert.ok(error instanceof IamConfigError, String(error));
    return error.issues;
  }
  assert.fail('expected the config to be refused');
}

const trust = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
  ],
};

describe('IAM config: validation', () => {
  test('the README example is valid; documents become JSON text', () => {
    const config = parseIamConfig(EXAMPLE_IAM_CONFIG);
    assert.equal(config.accountId, '123456789012');
    assert.equal(typeof config.roles?.[0]?.trustPolicy, 'string');
    assert.deepEqual(JSON.parse(config.roles![0]!.trustPolicy), EXAMPLE_IAM_CONFIG.roles![0]!.trustPolicy);
    // A document given as a string is kept exactly as written.
    const text = '{ "Statement": { "Effect": "Allow", "Action": "s3:*", "Resource": "*" } }';
    assert.equal(
      parseIamConfig({ accountId: ACCOUNT, users: [{ name: 'u', policies: { p: text } }] }).users![0]!
        .policies!.p,
      text,
    );
  });

  test('errors name the field path inside policy documents', () => {
    const issues = issuesOf({
      accountId: ACCOUNT,
      roles: [
        { name: 'r', trustPolicy: { ...trust, Statement: [{ ...trust.Statement[0], Effect: 'Alow' }] } },
      ],
    });
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /^roles\[0\]\.trustPolicy\.Statement\[0\]\.Effect: .*"Allow" or "Deny"/);

    const more = issuesOf({
      accountId: ACCOUNT,
      users: [
        {
          name: 'u',
          policies: {
            asText: '{"Statement":{"Effect":"Allow","Action":"s3:*"}}',
            bad: '{nope',
            principal: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' }] },
          },
        },
      ],
      roles: [
        {
          name: 'r',
          trustPolicy: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }] },
          policies: {
            c: {
              Statement: [
                { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { StringEquals: 'x' } },
              ],
            },
          },
        },
      ],
    });
    assert.ok(
      more.some((l) => /^users\[0\]\.policies\.asText\.Statement\.Resource: /.test(l)),
      more.join('\n'),
    );
    assert.ok(
      more.some((l) => /^users\[0\]\.policies\.bad: is not valid JSON/.test(l)),
      more.join('\n'),
    );
    assert.ok(
      more.some((l) => /^users\[0\]\.policies\.principal\.Statement\[0\]\.Principal: /.test(l)),
      more.join('\n'),
    );
    assert.ok(
      more.some((l) => /^roles\[0\]\.trustPolicy\.Statement\[0\]\.Action: .*STS/.test(l)),
      more.join('\n'),
    );
    assert.ok(
      more.some((l) => /^roles\[0\]\.policies\.c\.Statement\[0\]\.Condition\.StringEquals: /.test(l)),
      more.join('\n'),
    );
  });

  test('errors name the entity fields: names, paths, keys, durations, tags, unknown keys', () => {
    const issues = issuesOf({
      accountId: '12345',
      rols: [],
      users: [
        {
          name: 'bad name',
          path: 'nope',
          accessKeys: [
            { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) },
            { accessKeyId: 'AKIAIOSFODNN7EXAMPL1', secretAccessKey: 'x'.repeat(40) },
            { accessKeyId: 'AKIAIOSFODNN7EXAMPL2', secretAccessKey: 'x'.repeat(40) },
          ],
          tags: { a: '1', A: '2' },
        },
        {
          name: 'temp',
          accessKeys: [{ accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) }],
        },
      ],
      roles: [{ name: 'r', trustPolicy: trust, maxSessionDuration: 100 }],
    });
    const expect = [
      /^\(root\): Unrecognized key: "rols"/,
      /^accountId: must be 12 digits/,
      /^users\[0\]\.name: may contain only/,
      /^users\[0\]\.path: must be "\/"/,
      /^users\[0\]\.accessKeys: at most 2 access keys/,
      /^users\[1\]\.accessKeys\[0\]\.accessKeyId: ASIA… ids are reserved/,
      /^users\[0\]\.tags: tag keys must be unique/,
      /^roles\[0\]\.maxSessionDuration: /,
    ];
    for (const re of expect)
      assert.ok(
        issues.some((l) => re.test(l)),
        `${re} not in:\n${issues.join('\n')}`,
      );
  });

  test('duplicates across entries are named where they repeat (names without regard to case)', () => {
    const issues = issuesOf({
      accountId: ACCOUNT,
      users: [
        {
          name: 'Alice',
          accessKeys: [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) }],
        },
        { name: 'alice' },
        {
          name: 'bob',
          accessKeys: [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'y'.repeat(40) }],
        },
      ],
      roles: [
        { name: 'r', trustPolicy: trust },
        { name: 'R', trustPolicy: trust },
      ],
    });
    assert.deepEqual(issues.sort(), [
      'roles[1].name: this role name is already declared at index 0',
      'users[1].name: this user name is already declared at index 0',
      'users[2].accessKeys[0].accessKeyId: this access key id is already declared at index 0',
    ]);
  });

  test('policy sizes are checked as IAM counts them', () => {
    const big = (n: number) => allowPolicy('s3:GetObject', `arn:aws:s3:::b/${'k'.repeat(n)}`);
    const issues = issuesOf({
      accountId: ACCOUNT,
      users: [{ name: 'u', policies: { a: big(1000), b: big(1000) } }],
      managedPolicies: [
        {
          name: 'm',
          document: {
            Statement: [
              {
                Effect: 'Allow',
                Action: 's3:GetObject',
                Resource: Array(4).fill(`arn:aws:s3:::b/${'k'.repeat(1600)}`),
              },
            ],
          },
        },
      ],
    });
    assert.ok(
      issues.some((l) => /^users\[0\]\.policies: .*2048/.test(l)),
      issues.join('\n'),
    );
    assert.ok(
      issues.some((l) => /^managedPolicies\[0\]\.document: .*6144/.test(l)),
      issues.join('\n'),
    );
  });

  test('loadIamConfig names the file for unreadable, non-JSON and invalid files', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'iam-config.json');
    assert.throws(
      () => loadIamConfig(file),
      (e: Error) => e instanceof IamConfigError && e.message.includes(file),
    );
    writeFileSync(file, '{ "accountId": ');
    assert.throws(() => loadIamConfig(file), /not valid JSON/);
    writeFileSync(file, JSON.stringify({ accountId: ACCOUNT, users: [{ name: 'u', extra: 1 }] }));
    assert.throws(
      () => loadIamConfig(file),
      (e: Error) => e.message.includes(`${file}: invalid IAM config`) && e.message.includes('users[0]'),
    );
    writeFileSync(file, JSON.stringify(EXAMPLE_IAM_CONFIG, null, 2));
    assert.equal(loadIamConfig(file).users?.[0]?.name, 'hoist-broker');
  });
});

describe('IAM config: seeding a store', () => {
  test('applying is idempotent; the file wins for what it declares; API entities stay', (t) => {
    const { store, dataDir } = tempStore(t);
    const config = parseIamConfig({ ...EXAMPLE_IAM_CONFIG, accountId: ACCOUNT });
    applyIamConfig(store, config);
    const text = readFileSync(join(dataDir, 'iam.json'), 'utf8');
    applyIamConfig(store, config);
    assert.equal(readFileSync(join(dataDir, 'iam.json'), 'utf8'), text);
    const role = store.getRole('uploader')!;
    assert.equal(role.arn, `arn:aws:iam::${ACCOUNT}:role/hoist/uploader`);
    assert.equal(store.findAccessKey('AKIAIOSFODNN7EXAMPLE')?.user.userName, 'hoist-broker');
    assert.equal(store.listManagedPolicies()[0]?.arn, `arn:aws:iam::${ACCOUNT}:policy/uploads-read-only`);

    store.createUser({ userName: 'made-by-api' });
    store.putRolePolicy('uploader', 'upload-parts', allowPolicy('s3:*'));
    const edited: IamConfigInput = structuredClone({ ...EXAMPLE_IAM_CONFIG, accountId: ACCOUNT });
    edited.roles![0]!.maxSessionDuration = 7200;
    applyIamConfig(store, parseIamConfig(edited));
    const reopened = openIamStore({ dataDir, accountId: ACCOUNT });
    assert.equal(reopened.getRole('uploader')?.maxSessionDuration, 7200);
    assert.equal(reopened.getRole('uploader')?.roleId, role.roleId);
    assert.equal(
      reopened.getRolePolicy('uploader', 'upload-parts'),
      config.roles![0]!.policies!['upload-parts'],
    );
    assert.ok(reopened.getUser('made-by-api'));
  });

  test('a config for another account is refused', (t) => {
    const { store } = tempStore(t);
    assert.throws(() => applyIamConfig(store, parseIamConfig({ accountId: '999999999999' })), TypeError);
  });
});
