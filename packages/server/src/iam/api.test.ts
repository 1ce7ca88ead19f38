import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACCOUNT, allowPolicy, tempStore, trustPolicy } from '../../../../test/helpers/iam-store.ts';
import { StsError } from '../sts/errors.ts';
import { handleIamAction, IAM_ACTIONS, type IamApiDeps } from './api.ts';
import type { IamStore } from './types.ts';
import { encodePolicy } from './xml.ts';

const NS = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"';

function caller(store: IamStore, extra: Partial<IamApiDeps> = {}) {
  return (params: Record<string, string>) =>
    handleIamAction(new URLSearchParams({ Version: '2010-05-08', ...params }), {
      store,
      authorize: () => {},
      requestId: 'req-1',
      ...extra,
    });
}

describe('IAM API: wire format', () => {
  test('a response is exactly IAM XML: Result, members, ISO dates to the second', (t) => {
    const { store } = tempStore(t);
    const call = caller(store);
    const created = call({
      Action: 'CreateUser',
      UserName: 'alice',
      'Tags.member.2.Key': 'b',
      'Tags.member.2.Value': 'x y',
      'Tags.member.1.Key': 'a',
      'Tags.member.1.Value': '',
    });
    assert.equal(created.status, 200);
    const user = store.getUser('alice')!;
    assert.equal(
      created.body,
      `<CreateUserResponse ${NS}><CreateUserResult><User><Path>/</Path><UserName>alice</UserName>` +
        `<UserId>${user.userId}</UserId><Arn>arn:aws:iam::${ACCOUNT}:user/alice</Arn>` +
        '<CreateDate>2024-01-02T03:04:05Z</CreateDate><Tags><member><Key>a</Key><Value></Value></member>' +
        '<member><Key>b</Key><Value>x y</Value></member></Tags></User></CreateUserResult>' +
        '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateUserResponse>',
    );
    const deleted = call({ Action: 'DeleteUser', UserName: 'alice' });
    assert.equal(
      deleted.body,
      `<DeleteUserResponse ${NS}><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DeleteUserResponse>`,
    );
  });

  test('an error is exactly IAM XML with the right status', (t) => {
    const { store } = tempStore(t);
    const response = caller(store)({ Action: 'GetRole', RoleName: 'ghost' });
    assert.equal(response.status, 404);
    assert.equal(
      response.body,
      `<ErrorResponse ${NS}><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
        '<Message>The role with name ghost cannot be found.</Message></Error><RequestId>req-1</RequestId></ErrorResponse>',
    );
  });

  test('policy documents are percent-encoded as RFC 3986 (decodeURIComponent restores them)', () => {
    const doc = `{"Sid": "a b!'()*~", "x": "é/+"}`;
    const encoded = encodePolicy(doc);
    assert.doesNotMatch(encoded, /[ !'()*"{}/+]/);
    assert.equal(decodeURIComponent(encoded), doc);
  });

  test('MissingAction, unknown actions and other versions', (t) => {
    const { store } = tempStore(t);
    const raw = (body: string) =>
      handleIamAction(new URLSearchParams(body), { store, authorize: () => {}, requestId: 'r' });
    assert.match(raw('Version=2010-05-08').body, /<Code>MissingAction<\/Code>/);
    const unknown = raw('Action=AttachRolePolicy&Version=2010-05-08');
    assert.equal(unknown.status, 400);
    assert.match(
      unknown.body,
      /<Code>InvalidAction<\/Code><Message>Could not find operation AttachRolePolicy for version 2010-05-08/,
    );
    assert.match(raw('Action=GetRole&Version=2011-06-15&RoleName=r').body, /InvalidAction/);
    assert.match(raw('Action=toString&Version=2010-05-08').body, /InvalidAction/, 'no prototype lookups');
    assert.equal(IAM_ACTIONS.length, 21);
  });
});

describe('IAM API: behaviour', () => {
  test('authorize comes first; its error code and status pass through, AccessDenied by default', (t) => {
    const { store } = tempStore(t);
    const seen: string[] = [];
    const expired = caller(store, {
      authorize: (action) => {
        seen.push(action);
        throw new StsError('ExpiredToken', 'The security token included in the request is expired', 403);
      },
    })({ Action: 'CreateRole', RoleName: 'r' });
    assert.equal(expired.status, 403);
    assert.match(expired.body, /<Code>ExpiredToken<\/Code>/);
    assert.deepEqual(seen, ['iam:CreateRole'], 'authorize ran before the missing document was noticed');
    const denied = caller(store, {
      authorize: () => {
        throw new Error('');
      },
    })({ Action: 'DeleteUser', UserName: 'bob' });
    assert.equal(denied.status, 403);
    assert.match(
      denied.body,
      /<Code>AccessDenied<\/Code><Message>User is not authorized to perform: iam:DeleteUser on resource: arn:aws:iam::123456789012:user\/bob<\/Message>/,
    );
  });

  test('unexpected failures are ServiceFailure 500 (Receiver), reported to onError', (t) => {
    const { store } = tempStore(t);
    const errors: unknown[] = [];
    const broken = { ...store, listUsers: () => assert.fail('disk on fire') } as IamStore;
    const response = caller(broken, { onError: (e) => errors.push(e) })({ Action: 'ListUsers' });
    assert.equal(response.status, 500);
    assert.match(response.body, /<Type>Receiver<\/Type><Code>ServiceFailure<\/Code>/);
    assert.doesNotMatch(response.body, /disk on fire/);
    assert.equal(errors.length, 1);
  });

  test('UserName defaults to the calling user for GetUser and the access key actions', (t) => {
    const { store } = tempStore(t);
    store.createUser({ userName: 'me' });
    const call = caller(store, { caller: { userName: 'me' } });
    assert.match(call({ Action: 'GetUser' }).body, /<UserName>me<\/UserName>/);
    const created = call({ Action: 'CreateAccessKey' });
    const id = /<AccessKeyId>(\w+)<\/AccessKeyId>/.exec(created.body)?.[1];
    assert.ok(id);
    assert.match(call({ Action: 'ListAccessKeys' }).body, new RegExp(`<AccessKeyId>${id}</AccessKeyId>`));
    assert.equal(call({ Action: 'DeleteAccessKey', AccessKeyId: id }).status, 200);
    assert.deepEqual(store.listAccessKeys('me'), []);
  });

  test('tags: duplicates (any case) are InvalidInput; a missing Value is a ValidationError', (t) => {
    const { store } = tempStore(t);
    const call = caller(store);
    const dup = call({
      Action: 'CreateRole',
      RoleName: 'r',
      AssumeRolePolicyDocument: trustPolicy(),
      'Tags.member.1.Key': 'Team',
      'Tags.member.1.Value': 'a',
      'Tags.member.2.Key': 'team',
      'Tags.member.2.Value': 'b',
    });
    assert.equal(dup.status, 400);
    assert.match(dup.body, /<Code>InvalidInput<\/Code><Message>Duplicate tag keys found/);
    const noValue = call({ Action: 'CreateUser', UserName: 'u', 'Tags.member.1.Key': 'k' });
    assert.match(noValue.body, /Value null at &apos;tags.1.member.value&apos;/);
    assert.equal(store.getRole('r'), undefined);
    assert.equal(store.getUser('u'), undefined);
  });

  test('PermissionsBoundary is refused rather than ignored', (t) => {
    const { store } = tempStore(t);
    const response = caller(store)({
      Action: 'CreateUser',
      UserName: 'u',
      PermissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/b`,
    });
    assert.equal(response.status, 400);
    assert.match(response.body, /<Code>InvalidInput<\/Code>/);
  });

  test('paging resumes at the marked item even if it was deleted; bad markers are refused', (t) => {
    const { store } = tempStore(t);
    for (const name of ['a', 'b', 'c', 'd']) store.createUser({ userName: name });
    const call = caller(store);
    const first = call({ Action: 'ListUsers', MaxItems: '2' }).body;
    assert.match(first, /<UserName>a<\/UserName>.*<UserName>b<\/UserName>.*<IsTruncated>true<\/IsTruncated>/);
    const marker = /<Marker>([^<]+)<\/Marker>/.exec(first)![1]!;
    store.deleteUser('c');
    const next = call({ Action: 'ListUsers', MaxItems: '2', Marker: marker }).body;
    assert.match(
      next,
      /<Users><member><Path>\/<\/Path><UserName>d<\/UserName>.*<\/member><\/Users><IsTruncated>false<\/IsTruncated>/,
    );
    assert.equal(next.match(/<member>/g)?.length, 1);
    assert.doesNotMatch(next, /<Marker>/);
    assert.match(call({ Action: 'ListUsers', Marker: '!!!' }).body, /<Code>ValidationError<\/Code>/);
    assert.match(call({ Action: 'ListUsers', MaxItems: '1001' }).body, /less than or equal to 1000/);
    assert.match(call({ Action: 'ListUsers', PathPrefix: 'x' }).body, /at &apos;pathPrefix&apos;/);
  });

  test('GetRole shows tags and description; documents come back as stored', (t) => {
    const { store } = tempStore(t);
    store.createRole({
      roleName: 'r',
      assumeRolePolicyDocument: trustPolicy(),
      description: 'd',
      tags: { a: 'b' },
    });
    store.putRolePolicy('r', 'p', allowPolicy());
    const call = caller(store);
    const role = call({ Action: 'GetRole', RoleName: 'R' }).body;
    assert.match(role, /<RoleName>r<\/RoleName>/);
    assert.match(
      role,
      /<Description>d<\/Description><MaxSessionDuration>3600<\/MaxSessionDuration><Tags><member><Key>a<\/Key>/,
    );
    assert.ok(
      role.includes(`<AssumeRolePolicyDocument>${encodePolicy(trustPolicy())}</AssumeRolePolicyDocument>`),
    );
    const policy = call({ Action: 'GetRolePolicy', RoleName: 'r', PolicyName: 'p' }).body;
    assert.ok(policy.includes(`<PolicyDocument>${encodePolicy(allowPolicy())}</PolicyDocument>`));
  });
});
