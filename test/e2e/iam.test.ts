/**
 * The IAM Query API through the official `@aws-sdk/client-iam`, end to end over HTTP: every
 * action, each documented failure, and AccessDenied for a caller who may not act.
 *
 * The suite runs twice: against the real local server (`startTestServer`: SigV4, the server's
 * authorizer, root and IAM-user credentials), and against a stand-in that serves
 * `handleIamAction` from a tiny node:http server (form body parsed, no signature check, the
 * caller taken from the access key id, `authorize` from the test) so the tests can observe
 * every authorize call and deny at will. The stand-in predates IAM's wiring into the server;
 * drop it once nothing needs to observe `authorize` directly.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  paginateListRoles,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { handleIamAction } from '@hoist/server/internal/iam/api';
import { openIamStore } from '@hoist/server/internal/iam/store';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTestServer, TEST_CREDENTIALS, tmpDir } from '../helpers/server.ts';

const ACCOUNT = '123456789012';
const allowAll = (): void => {};

type Credentials = { accessKeyId: string; secretAccessKey: string };
interface Hook {
  after(fn: () => unknown): void;
}

interface IamTarget {
  url: string;
  /** Stand-in only: every authorize call, in order, as [action, resource ARN]. */
  calls?: [string, string][];
  /** Stand-in only: what authorize does (allow-all unless a test says otherwise). */
  authorize?: (action: string, resourceArn: string) => void;
}

/** The real local server, with the test root credentials and our account id. */
async function startServerTarget(hook: Hook): Promise<IamTarget> {
  const server = await startTestServer(hook, { accountId: ACCOUNT });
  return { url: server.url };
}

/** The stand-in described at the top of the file. */
async function startStandIn(hook: Hook): Promise<IamTarget> {
  const store = openIamStore({ dataDir: await tmpDir(hook, 'hoist-iam-e2e-'), accountId: ACCOUNT });
  const target: IamTarget = { url: '', calls: [], authorize: allowAll };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const requestId = randomUUID();
    // No signature check: the access key id alone names the caller.
    const keyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const userName = store.findAccessKey(keyId)?.user.userName;
    const { status, body } = handleIamAction(params, {
      store,
      requestId,
      ...(userName ? { caller: { userName } } : {}),
      authorize: (action, resource) => {
        target.calls?.push([action, resource]);
        target.authorize?.(action, resource);
      },
    });
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-requestid': requestId,
    });
    res.end(body);
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  hook.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return target;
}

/** A Query API POST signed for service iam, to see the raw response document. */
async function postQuery(url: string, credentials: Credentials, form: Record<string, string>) {
  const target = new URL(url);
  const body = new URLSearchParams(form).toString();
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'iam', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: '/',
    query: {},
    headers: {
      host: target.host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
    },
    body,
  });
  const { host: _, ...headers } = signed.headers;
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text() };
}

async function rejectsWith(promise: Promise<unknown>, name: string, status: number, message?: RegExp) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof IAMServiceException, `expected an IAM error, got ${String(error)}`);
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata.httpStatusCode, status);
    assert.notEqual(error.message, '');
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${name}`);
}

const trust = (principal = `arn:aws:iam::${ACCOUNT}:root`) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  });
const allow = (action: string, resource: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
  });

for (const [label, start] of [
  ['the local server', startServerTarget],
  ['a stand-in over handleIamAction', startStandIn],
] as const) {
  describe(`IAM API through @aws-sdk/client-iam: ${label}`, () => {
    let target: IamTarget;
    let iam: IAMClient;
    const clients: IAMClient[] = [];
    const cleanup: (() => unknown)[] = [];
    const client = (credentials: Credentials) => {
      const made = new IAMClient({
        endpoint: target.url,
        region: 'us-east-1',
        credentials: { ...credentials },
        maxAttempts: 1,
      });
      clients.push(made);
      return made;
    };
    before(async () => {
      target = await start({ after: (fn) => cleanup.push(fn) });
      iam = client(TEST_CREDENTIALS);
    });
    after(async () => {
      for (const c of clients) c.destroy();
      for (const fn of cleanup.reverse()) await fn();
    });
    beforeEach(() => {
      if (target.authorize) target.authorize = allowAll;
      target.calls?.splice(0);
    });
    /** Checks the authorize calls where they can be seen (the stand-in). */
    const assertCalls = (expected: [string, string][]) => {
      if (target.calls) assert.deepEqual(target.calls, expected);
    };
    const noRole = (name: string) =>
      rejectsWith(iam.send(new GetRoleCommand({ RoleName: name })), 'NoSuchEntityException', 404);

    test('roles: create, get, list, update trust, inline policies, delete', async () => {
      const created = await iam.send(
        new CreateRoleCommand({
          RoleName: 'uploader',
          Path: '/hoist/',
          AssumeRolePolicyDocument: trust(),
          Description: 'Uploads & more <ok>',
          MaxSessionDuration: 7200,
          Tags: [
            { Key: 'team', Value: 'media' },
            { Key: 'empty', Value: '' },
          ],
        }),
      );
      const role = created.Role!;
      assert.equal(role.Arn, `arn:aws:iam::${ACCOUNT}:role/hoist/uploader`);
      assert.match(role.RoleId!, /^AROA[A-Z2-7]{17}$/);
      assert.equal(role.Path, '/hoist/');
      assert.ok(role.CreateDate instanceof Date && Math.abs(role.CreateDate.getTime() - Date.now()) < 60_000);
      // IAM returns policy documents URL-encoded; the SDK hands them over as they came.
      assert.equal(decodeURIComponent(role.AssumeRolePolicyDocument!), trust());
      assert.equal(role.Description, 'Uploads & more <ok>');
      assert.equal(role.MaxSessionDuration, 7200);
      assert.deepEqual(role.Tags, [
        { Key: 'team', Value: 'media' },
        { Key: 'empty', Value: '' },
      ]);
      assertCalls([['iam:CreateRole', role.Arn!]]);

      const got = (await iam.send(new GetRoleCommand({ RoleName: 'uploader' }))).Role!;
      assert.deepEqual({ ...got, RoleLastUsed: undefined }, { ...role, RoleLastUsed: undefined });

      const listed = await iam.send(new ListRolesCommand({ PathPrefix: '/hoist/' }));
      assert.equal(listed.IsTruncated, false);
      assert.deepEqual(
        listed.Roles?.map((r) => r.RoleName),
        ['uploader'],
      );
      assert.equal(listed.Roles?.[0]?.Tags, undefined, 'ListRoles leaves out tags, as IAM does');
      assert.deepEqual((await iam.send(new ListRolesCommand({ PathPrefix: '/other/' }))).Roles, []);

      const newTrust = trust(`arn:aws:iam::${ACCOUNT}:user/broker`);
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'uploader', PolicyDocument: newTrust }));
      const updated = (await iam.send(new GetRoleCommand({ RoleName: 'UPLOADER' }))).Role!;
      assert.equal(decodeURIComponent(updated.AssumeRolePolicyDocument!), newTrust);

      const put = allow('s3:PutObject', 'arn:aws:s3:::hoist-dev/uploads/*');
      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'uploader', PolicyName: 'put', PolicyDocument: put }),
      );
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: 'uploader',
          PolicyName: 'abort',
          PolicyDocument: allow('s3:AbortMultipartUpload', '*'),
        }),
      );
      const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'uploader', PolicyName: 'put' }));
      assert.equal(policy.RoleName, 'uploader');
      assert.equal(policy.PolicyName, 'put');
      assert.equal(decodeURIComponent(policy.PolicyDocument!), put);
      const names = await iam.send(new ListRolePoliciesCommand({ RoleName: 'uploader' }));
      assert.deepEqual(names.PolicyNames, ['abort', 'put']);
      assert.equal(names.IsTruncated, false);
      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'uploader', PolicyName: 'put' }));
      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'uploader', PolicyName: 'abort' }));
      assert.deepEqual(
        (await iam.send(new ListRolePoliciesCommand({ RoleName: 'uploader' }))).PolicyNames,
        [],
      );
      await iam.send(new DeleteRoleCommand({ RoleName: 'uploader' }));
      await rejectsWith(iam.send(new GetRoleCommand({ RoleName: 'uploader' })), 'NoSuchEntityException', 404);
    });

    test('users: create, get, list, access keys, inline policies, delete', async () => {
      const user = (
        await iam.send(
          new CreateUserCommand({ UserName: 'broker', Path: '/svc/', Tags: [{ Key: 'k', Value: 'v' }] }),
        )
      ).User!;
      assert.equal(user.Arn, `arn:aws:iam::${ACCOUNT}:user/svc/broker`);
      assert.match(user.UserId!, /^AIDA[A-Z2-7]{17}$/);
      assert.deepEqual(user.Tags, [{ Key: 'k', Value: 'v' }]);
      assert.ok(user.CreateDate instanceof Date);
      assert.deepEqual((await iam.send(new GetUserCommand({ UserName: 'broker' }))).User, user);
      const users = await iam.send(new ListUsersCommand({}));
      assert.ok(users.Users?.some((u) => u.UserName === 'broker' && u.Tags === undefined));

      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'broker' }))).AccessKey!;
      assert.match(key.AccessKeyId!, /^AKIA[A-Z2-7]{16}$/);
      assert.equal(key.SecretAccessKey?.length, 40);
      assert.equal(key.Status, 'Active');
      assert.equal(key.UserName, 'broker');
      // The new key works, and GetUser without UserName answers for its user (given the right to).
      const self = allow('iam:GetUser', `arn:aws:iam::${ACCOUNT}:user/svc/broker`);
      await iam.send(
        new PutUserPolicyCommand({ UserName: 'broker', PolicyName: 'self', PolicyDocument: self }),
      );
      const asBroker = client({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
      assert.equal((await asBroker.send(new GetUserCommand({}))).User?.UserName, 'broker');
      await iam.send(new DeleteUserPolicyCommand({ UserName: 'broker', PolicyName: 'self' }));
      const keys = await iam.send(new ListAccessKeysCommand({ UserName: 'broker' }));
      assert.deepEqual(
        keys.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status, k.UserName]),
        [[key.AccessKeyId, 'Active', 'broker']],
      );
      assert.ok(
        !Object.hasOwn(keys.AccessKeyMetadata?.[0] ?? {}, 'SecretAccessKey'),
        'listings never show secrets',
      );

      const doc = allow('sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/hoist/uploader`);
      await iam.send(
        new PutUserPolicyCommand({ UserName: 'broker', PolicyName: 'assume', PolicyDocument: doc }),
      );
      const got = await iam.send(new GetUserPolicyCommand({ UserName: 'broker', PolicyName: 'assume' }));
      assert.equal(decodeURIComponent(got.PolicyDocument!), doc);
      assert.equal(got.UserName, 'broker');
      assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'broker' }))).PolicyNames, [
        'assume',
      ]);
      await iam.send(new DeleteUserPolicyCommand({ UserName: 'broker', PolicyName: 'assume' }));
      await iam.send(new DeleteAccessKeyCommand({ UserName: 'broker', AccessKeyId: key.AccessKeyId! }));
      assert.deepEqual(
        (await iam.send(new ListAccessKeysCommand({ UserName: 'broker' }))).AccessKeyMetadata,
        [],
      );
      await iam.send(new DeleteUserCommand({ UserName: 'broker' }));
      await rejectsWith(iam.send(new GetUserCommand({ UserName: 'broker' })), 'NoSuchEntityException', 404);
    });

    test('NoSuchEntity for every action on a missing target', async () => {
      const missing = [
        new GetRoleCommand({ RoleName: 'ghost' }),
        new DeleteRoleCommand({ RoleName: 'ghost' }),
        new UpdateAssumeRolePolicyCommand({ RoleName: 'ghost', PolicyDocument: trust() }),
        new PutRolePolicyCommand({ RoleName: 'ghost', PolicyName: 'p', PolicyDocument: allow('s3:*', '*') }),
        new GetRolePolicyCommand({ RoleName: 'ghost', PolicyName: 'p' }),
        new DeleteRolePolicyCommand({ RoleName: 'ghost', PolicyName: 'p' }),
        new ListRolePoliciesCommand({ RoleName: 'ghost' }),
        new GetUserCommand({ UserName: 'ghost' }),
        new DeleteUserCommand({ UserName: 'ghost' }),
        new CreateAccessKeyCommand({ UserName: 'ghost' }),
        new DeleteAccessKeyCommand({ UserName: 'ghost', AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' }),
        new ListAccessKeysCommand({ UserName: 'ghost' }),
        new PutUserPolicyCommand({ UserName: 'ghost', PolicyName: 'p', PolicyDocument: allow('s3:*', '*') }),
        new GetUserPolicyCommand({ UserName: 'ghost', PolicyName: 'p' }),
        new DeleteUserPolicyCommand({ UserName: 'ghost', PolicyName: 'p' }),
        new ListUserPoliciesCommand({ UserName: 'ghost' }),
      ];
      for (const command of missing) {
        // biome-ignore lint/suspicious/noExplicitAny: one loop over many command types
        await rejectsWith(iam.send(command as any), 'NoSuchEntityException', 404, /ghost cannot be found/);
      }
      await iam.send(new CreateRoleCommand({ RoleName: 'has-none', AssumeRolePolicyDocument: trust() }));
      await rejectsWith(
        iam.send(new GetRolePolicyCommand({ RoleName: 'has-none', PolicyName: 'p' })),
        'NoSuchEntityException',
        404,
        /role policy with name p cannot be found/,
      );
      await iam.send(new DeleteRoleCommand({ RoleName: 'has-none' }));
    });

    test('EntityAlreadyExists and DeleteConflict (409)', async () => {
      await iam.send(new CreateRoleCommand({ RoleName: 'dup', AssumeRolePolicyDocument: trust() }));
      await rejectsWith(
        iam.send(new CreateRoleCommand({ RoleName: 'DUP', AssumeRolePolicyDocument: trust() })),
        'EntityAlreadyExistsException',
        409,
        /Role with name DUP already exists/,
      );
      await iam.send(new CreateUserCommand({ UserName: 'dup' }));
      await rejectsWith(
        iam.send(new CreateUserCommand({ UserName: 'dup' })),
        'EntityAlreadyExistsException',
        409,
      );

      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'dup', PolicyName: 'p', PolicyDocument: allow('s3:*', '*') }),
      );
      await rejectsWith(
        iam.send(new DeleteRoleCommand({ RoleName: 'dup' })),
        'DeleteConflictException',
        409,
        /policies/,
      );
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'dup' }))).AccessKey!;
      await rejectsWith(
        iam.send(new DeleteUserCommand({ UserName: 'dup' })),
        'DeleteConflictException',
        409,
        /access keys/,
      );
      await iam.send(new DeleteAccessKeyCommand({ UserName: 'dup', AccessKeyId: key.AccessKeyId! }));
      await iam.send(new DeleteUserCommand({ UserName: 'dup' }));
      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'dup', PolicyName: 'p' }));
      await iam.send(new DeleteRoleCommand({ RoleName: 'dup' }));
    });

    test('MalformedPolicyDocument (400)', async () => {
      await rejectsWith(
        iam.send(new CreateRoleCommand({ RoleName: 'm', AssumeRolePolicyDocument: '{"Statement": [' })),
        'MalformedPolicyDocumentException',
        400,
      );
      await rejectsWith(
        iam.send(
          new CreateRoleCommand({ RoleName: 'm', AssumeRolePolicyDocument: allow('sts:AssumeRole', '*') }),
        ),
        'MalformedPolicyDocumentException',
        400,
        /Principal/,
      );
      await iam.send(new CreateUserCommand({ UserName: 'm' }));
      await rejectsWith(
        iam.send(new PutUserPolicyCommand({ UserName: 'm', PolicyName: 'p', PolicyDocument: trust() })),
        'MalformedPolicyDocumentException',
        400,
      );
      await rejectsWith(
        iam.send(
          new PutUserPolicyCommand({
            UserName: 'm',
            PolicyName: 'p',
            PolicyDocument: JSON.stringify({
              Statement: [{ Effect: 'Allow', Action: 'not an action', Resource: '*' }],
            }),
          }),
        ),
        'MalformedPolicyDocumentException',
        400,
        /Action/,
      );
      await iam.send(new DeleteUserCommand({ UserName: 'm' }));
      await noRole('m');
    });

    test('LimitExceeded (409): a third access key, inline policies over 2,048 characters', async () => {
      await iam.send(new CreateUserCommand({ UserName: 'limits' }));
      const a = (await iam.send(new CreateAccessKeyCommand({ UserName: 'limits' }))).AccessKey!;
      const b = (await iam.send(new CreateAccessKeyCommand({ UserName: 'limits' }))).AccessKey!;
      await rejectsWith(
        iam.send(new CreateAccessKeyCommand({ UserName: 'limits' })),
        'LimitExceededException',
        409,
        /AccessKeysPerUser: 2/,
      );
      const big = allow('s3:GetObject', `arn:aws:s3:::b/${'k'.repeat(2000)}`);
      await rejectsWith(
        iam.send(new PutUserPolicyCommand({ UserName: 'limits', PolicyName: 'big', PolicyDocument: big })),
        'LimitExceededException',
        409,
        /Maximum policy size of 2048 bytes exceeded for user limits/,
      );
      for (const key of [a, b]) {
        await iam.send(new DeleteAccessKeyCommand({ UserName: 'limits', AccessKeyId: key.AccessKeyId! }));
      }
      await iam.send(new DeleteUserCommand({ UserName: 'limits' }));
    });

    test('ValidationError (400): names, durations, missing parameters, paging bounds', async () => {
      await rejectsWith(
        iam.send(
          new CreateRoleCommand({
            RoleName: 'v',
            AssumeRolePolicyDocument: trust(),
            MaxSessionDuration: 900,
          }),
        ),
        'ValidationError',
        400,
        /Value '900' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600/,
      );
      await rejectsWith(
        iam.send(
          new CreateRoleCommand({
            RoleName: 'v',
            AssumeRolePolicyDocument: trust(),
            MaxSessionDuration: 43_201,
          }),
        ),
        'ValidationError',
        400,
      );
      await rejectsWith(
        iam.send(new CreateUserCommand({ UserName: 'no spaces allowed' })),
        'ValidationError',
        400,
        /at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern/,
      );
      await rejectsWith(
        iam.send(
          new CreateRoleCommand({ RoleName: 'v', AssumeRolePolicyDocument: trust(), Path: 'relative' }),
        ),
        'ValidationError',
        400,
        /at 'path'/,
      );
      await rejectsWith(
        // biome-ignore lint/suspicious/noExplicitAny: a required parameter left out on purpose
        iam.send(new CreateRoleCommand({ RoleName: 'v' } as any)),
        'ValidationError',
        400,
        /Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null/,
      );
      await rejectsWith(iam.send(new ListRolesCommand({ MaxItems: 0 })), 'ValidationError', 400, /maxItems/);
      await rejectsWith(iam.send(new GetUserCommand({})), 'ValidationError', 400, /Must specify userName/);
      await noRole('v');
    });

    test('paging: MaxItems and Marker, through the SDK paginator', async () => {
      const names = ['p-a', 'p-b', 'p-c', 'p-d', 'p-e'];
      for (const name of names.toReversed()) {
        await iam.send(
          new CreateRoleCommand({ RoleName: name, Path: '/paging/', AssumeRolePolicyDocument: trust() }),
        );
      }
      const first = await iam.send(new ListRolesCommand({ PathPrefix: '/paging/', MaxItems: 2 }));
      assert.equal(first.IsTruncated, true);
      assert.ok(first.Marker);
      const seen: string[] = [];
      for await (const page of paginateListRoles({ client: iam, pageSize: 2 }, { PathPrefix: '/paging/' })) {
        assert.ok((page.Roles?.length ?? 0) <= 2);
        seen.push(...(page.Roles ?? []).map((r) => r.RoleName!));
      }
      assert.deepEqual(seen, names);
      for (const name of names) await iam.send(new DeleteRoleCommand({ RoleName: name }));
    });

    test('a caller who may not act gets AccessDenied (403) and nothing changes', async () => {
      // On the server: a user without policies. On the stand-in: an authorize that denies.
      await iam.send(new CreateUserCommand({ UserName: 'mallory' }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'mallory' }))).AccessKey!;
      const credentials = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
      const mallory = client(credentials);
      if (target.authorize) {
        target.authorize = (action, resource) => {
          throw new Error(
            `User: arn:aws:iam::${ACCOUNT}:user/mallory is not authorized to perform: ${action} on resource: ${resource}`,
          );
        };
      }
      target.calls?.splice(0);
      const error = await rejectsWith(
        mallory.send(
          new CreateRoleCommand({ RoleName: 'denied', Path: '/x/', AssumeRolePolicyDocument: trust() }),
        ),
        'AccessDenied',
        403,
        /user\/mallory is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role\/x\/denied/,
      );
      assert.equal(error.$fault, 'client');
      await rejectsWith(mallory.send(new ListUsersCommand({})), 'AccessDenied', 403);
      await rejectsWith(
        mallory.send(new CreateAccessKeyCommand({})),
        'AccessDenied',
        403,
        /iam:CreateAccessKey/,
      );
      assertCalls([
        ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/x/denied`],
        ['iam:ListUsers', '*'],
        ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/mallory`],
      ]);

      // The raw document, as AWS sends it.
      const raw = await postQuery(target.url, credentials, {
        Action: 'GetUser',
        Version: '2010-05-08',
        UserName: 'x',
      });
      assert.equal(raw.status, 403);
      assert.match(
        raw.body,
        /^(<\?xml[^>]*>\s*)?<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>AccessDenied<\/Code>\s*<Message>[^<]+<\/Message>\s*<\/Error>\s*<RequestId>[^<]+<\/RequestId>\s*<\/ErrorResponse>\s*$/,
      );

      if (target.authorize) target.authorize = allowAll;
      await noRole('denied');
      await iam.send(new DeleteAccessKeyCommand({ UserName: 'mallory', AccessKeyId: key.AccessKeyId! }));
      await iam.send(new DeleteUserCommand({ UserName: 'mallory' }));
    });

    test('each action authorizes its IAM action on the target ARN first', {
      skip: label === 'the local server' && 'authorize calls are observable on the stand-in only',
    }, async () => {
      await iam.send(new CreateUserCommand({ UserName: 'authz', Path: '/p/' }));
      await iam.send(new ListAccessKeysCommand({ UserName: 'authz' }));
      await iam.send(
        new CreateRoleCommand({ RoleName: 'authz', Path: '/q/', AssumeRolePolicyDocument: trust() }),
      );
      await iam.send(new ListRolePoliciesCommand({ RoleName: 'authz' }));
      await iam.send(new ListRolesCommand({}));
      await iam.send(new DeleteRoleCommand({ RoleName: 'authz' }));
      await iam.send(new DeleteUserCommand({ UserName: 'authz' }));
      const user = `arn:aws:iam::${ACCOUNT}:user/p/authz`;
      const role = `arn:aws:iam::${ACCOUNT}:role/q/authz`;
      assert.deepEqual(target.calls, [
        ['iam:CreateUser', user],
        ['iam:ListAccessKeys', user],
        ['iam:CreateRole', role],
        ['iam:ListRolePolicies', role],
        ['iam:ListRoles', '*'],
        ['iam:DeleteRole', role],
        ['iam:DeleteUser', user],
      ]);
    });

    test('an unknown action is InvalidAction (400)', async () => {
      const response = await postQuery(target.url, TEST_CREDENTIALS, {
        Action: 'CreateGroup',
        Version: '2010-05-08',
        GroupName: 'g',
      });
      assert.equal(response.status, 400);
      assert.match(
        response.body,
        /<Code>InvalidAction<\/Code>\s*<Message>Could not find operation CreateGroup/,
      );
    });
  });
}
