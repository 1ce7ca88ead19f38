/**
 * Every STS call of the local server, and each of its documented failures, through the
 * official `@aws-sdk/client-sts`: AssumeRole (durations, role chaining, inline and managed
 * session policies, packed size, session and transitive tags, ExternalId, trust policies),
 * GetFederationToken, GetSessionToken, GetCallerIdentity, authentication errors, tokens
 * across a restart, and IAM changes reaching live sessions. The one-key security matrix
 * lives in sts-security.test.ts. Time moves with the injectable server clock (and the SDK's
 * `systemClockOffset`, so requests are not merely skewed), never with a sleep.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  DeleteRolePolicyCommand,
  IAMClient,
  ListRolesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  GetCallerIdentityCommand,
  GetFederationTokenCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { type Hook, startTestServer, type TestServer, tmpDir } from '../helpers/server.ts';

const ACCOUNT = '111122223333';
const BUCKET = 'sts-e2e';
const BROKER = {
  accessKeyId: 'AKIASTSE2EBROKER0001',
  secretAccessKey: 'sts-e2e-broker-secret-0123456789abcdef',
};
/** A user with no policies at all. */
const NOBODY = {
  accessKeyId: 'AKIASTSE2ENOBODY0001',
  secretAccessKey: 'sts-e2e-nobody-secret-0123456789abcdef',
};
const ROLE = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const USER = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
const MANAGED_READ = `arn:aws:iam::${ACCOUNT}:policy/read-up`;
const HOUR = 3600;

const allow = (action: string | string[], resource: string | string[]) => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
});
const doc = (...statements: object[]) => ({ Version: '2012-10-17', Statement: statements });
const trust = (principal: string, action: string | string[] = 'sts:AssumeRole', extra: object = {}) =>
  doc({ Effect: 'Allow', Principal: { AWS: principal }, Action: action, ...extra });
const object = (key: string) => `arn:aws:s3:::${BUCKET}/${key}`;
/** The policy variable `${aws:PrincipalTag/<key>}`. */
const principalTag = (key: string) => `\${aws:PrincipalTag/${key}}`;

const iamConfig = {
  accountId: ACCOUNT,
  users: [
    {
      name: 'broker',
      accessKeys: [BROKER],
      tags: { dept: 'media' },
      policies: {
        broker: doc(
          allow(['sts:AssumeRole', 'sts:TagSession'], `arn:aws:iam::${ACCOUNT}:role/*`),
          allow('sts:GetFederationToken', '*'),
          // What federated sessions and GetSessionToken sessions of the broker can reach at most.
          allow(['s3:PutObject', 's3:GetObject'], object('fed/*')),
        ),
      },
    },
    { name: 'nobody', accessKeys: [NOBODY] },
  ],
  roles: [
    {
      name: 'uploader',
      maxSessionDuration: 2 * HOUR,
      tags: { tier: 'gold' },
      trustPolicy: doc(
        {
          Effect: 'Allow',
          Principal: { AWS: USER('broker') },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        },
        // Named directly: no identity policy of its own is needed.
        { Effect: 'Allow', Principal: { AWS: USER('nobody') }, Action: 'sts:AssumeRole' },
      ),
      policies: {
        up: doc(
          allow(['s3:PutObject', 's3:GetObject'], object('up/*')),
          allow('s3:PutObject', object(`team/${principalTag('team')}/*`)),
          allow('s3:PutObject', object(`tier/${principalTag('tier')}/*`)),
        ),
      },
    },
    {
      // Trusts the uploader role (role chaining); its policy reads the caller's transitive tags.
      name: 'chained',
      maxSessionDuration: 12 * HOUR,
      trustPolicy: trust(ROLE('uploader'), ['sts:AssumeRole', 'sts:TagSession']),
      policies: {
        chained: doc(
          allow('s3:PutObject', object(`chain/${principalTag('team')}/*`)),
          allow('s3:PutObject', object(`chain-user/${principalTag('user')}/*`)),
        ),
      },
    },
    {
      // Same as `chained` but without sts:TagSession in its trust policy.
      name: 'chained-no-tags',
      trustPolicy: trust(ROLE('uploader')),
      policies: { any: doc(allow('s3:PutObject', object('chain/*'))) },
    },
    {
      name: 'no-tag-session',
      trustPolicy: trust(USER('broker')),
      policies: { up: doc(allow('s3:PutObject', object('up/*'))) },
    },
    {
      name: 'external',
      trustPolicy: trust(USER('broker'), 'sts:AssumeRole', {
        Condition: { StringEquals: { 'sts:ExternalId': 'tenant-42' } },
      }),
    },
    {
      // Trusts the whole account: the caller's own identity policy must allow sts:AssumeRole.
      name: 'account-trust',
      trustPolicy: trust(`arn:aws:iam::${ACCOUNT}:root`),
    },
    {
      name: 'live',
      trustPolicy: trust(USER('broker')),
      policies: { narrow: doc(allow('s3:PutObject', object('live/a/*'))) },
    },
  ],
  managedPolicies: [{ name: 'read-up', document: doc(allow('s3:GetObject', object('up/*'))) }],
};

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface TempCredentials extends Credentials {
  sessionToken: string;
  expiration: Date;
}

type SdkError = Error & { $metadata?: { httpStatusCode?: number }; $response?: unknown };

/** Awaits a rejection named `name` (and `status`), with a real message; returns the error. */
async function rejects(promise: Promise<unknown>, name: string, status?: number): Promise<SdkError> {
  let error: SdkError | undefined;
  try {
    await promise;
  } catch (caught) {
    error = caught as SdkError;
  }
  assert.ok(error, `expected ${name}, but the call succeeded`);
  assert.equal(error.name, name, `${error.name}: ${error.message}`);
  assert.ok(error.message.trim().length > 0 && error.message !== name, `empty message for ${name}`);
  if (status !== undefined) assert.equal(error.$metadata?.httpStatusCode, status, error.message);
  return error;
}

function temp(credentials: {
  AccessKeyId?: string | undefined;
  SecretAccessKey?: string | undefined;
  SessionToken?: string | undefined;
  Expiration?: Date | undefined;
}): TempCredentials {
  assert.match(credentials.AccessKeyId ?? '', /^ASIA[A-Z0-9]{16}$/);
  assert.ok(credentials.SecretAccessKey && credentials.SessionToken);
  assert.ok(credentials.Expiration instanceof Date);
  return {
    accessKeyId: credentials.AccessKeyId!,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    expiration: credentials.Expiration,
  };
}

const keysOf = ({ accessKeyId, secretAccessKey, sessionToken }: Credentials): Credentials =>
  sessionToken === undefined
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };

describe('STS through @aws-sdk/client-sts', () => {
  let server: TestServer;
  let now = Date.UTC(2030, 0, 15, 12, 0, 0);
  /** How far the server clock has been moved from real time; clients sign with the same offset. */
  const offset = () => now - Date.now();
  const cleanup: (() => unknown)[] = [];
  const hook: Hook = { after: (fn) => cleanup.push(fn) };
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  const sts = (credentials: Credentials, url = server.url) => {
    const client = new STSClient({
      endpoint: url,
      region: 'us-east-1',
      // A copy: the SDK writes bookkeeping fields into the credentials object it is given.
      credentials: keysOf(credentials),
      maxAttempts: 1,
      systemClockOffset: offset(),
    });
    cleanup.push(() => client.destroy());
    return client;
  };
  const s3 = (credentials: Credentials) =>
    server.makeClient({ credentials: keysOf(credentials), systemClockOffset: offset() });
  const put = (credentials: Credentials, key: string) =>
    s3(credentials).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
  const get = (credentials: Credentials, key: string) =>
    s3(credentials).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const root = () => ({ ...server.rootCredentials });

  async function assume(
    input: Partial<AssumeRoleCommandInput> & { RoleArn: string },
    as: Credentials = BROKER,
  ): Promise<TempCredentials & { packedPolicySize: number | undefined; arn: string; id: string }> {
    const out = await sts(as).send(new AssumeRoleCommand({ RoleSessionName: 'session', ...input }));
    return {
      ...temp(out.Credentials!),
      packedPolicySize: out.PackedPolicySize,
      arn: out.AssumedRoleUser!.Arn!,
      id: out.AssumedRoleUser!.AssumedRoleId!,
    };
  }

  /** Runs `fn` with the server (and client) clocks `seconds` later, then puts them back. */
  async function later<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
    const saved = now;
    now += seconds * 1000;
    try {
      return await fn();
    } finally {
      now = saved;
    }
  }

  const expiresIn = (credentials: TempCredentials) => (credentials.expiration.getTime() - now) / 1000;

  before(async () => {
    server = await startTestServer(hook, { iam: iamConfig, clock: () => now, buckets: [BUCKET] });
  });

  describe('AssumeRole', () => {
    test('returns ASIA credentials for the assumed-role user, for one hour by default', async () => {
      const c = await assume({ RoleArn: ROLE('uploader'), RoleSessionName: 'alice@example.com' });
      assert.equal(expiresIn(c), HOUR);
      assert.equal(c.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/uploader/alice@example.com`);
      assert.match(c.id, /^AROA[A-Z0-9]{16,}:alice@example\.com$/);
      const me = await sts(c).send(new GetCallerIdentityCommand({}));
      assert.deepEqual([me.Arn, me.UserId, me.Account], [c.arn, c.id, ACCOUNT]);
      await put(c, 'up/default.txt');
    });

    test('DurationSeconds: 900 at least, the role MaxSessionDuration at most', async () => {
      assert.equal(expiresIn(await assume({ RoleArn: ROLE('uploader'), DurationSeconds: 900 })), 900);
      assert.equal(
        expiresIn(await assume({ RoleArn: ROLE('uploader'), DurationSeconds: 2 * HOUR })),
        2 * HOUR,
      );
      const short = await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('uploader'),
            RoleSessionName: 'session',
            DurationSeconds: 899,
          }),
        ),
        'ValidationError',
        400,
      );
      assert.match(short.message, /durationSeconds.*greater than or equal to 900/);
      const long = await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('uploader'),
            RoleSessionName: 'session',
            DurationSeconds: 2 * HOUR + 1,
          }),
        ),
        'ValidationError',
        400,
      );
      assert.match(long.message, /exceeds the MaxSessionDuration set for this role/);
      // A role without maxSessionDuration has AWS's default of one hour.
      await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('no-tag-session'),
            RoleSessionName: 'session',
            DurationSeconds: HOUR + 1,
          }),
        ),
        'ValidationError',
      );
      await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            // Not even trusted: the parameter's range is checked first, as on AWS.
            RoleArn: ROLE('chained'),
            RoleSessionName: 'session',
            DurationSeconds: 43_201,
          }),
        ),
        'ValidationError',
      );
    });

    test('RoleSessionName: 2 to 64 characters of [\\w+=,.@-], and required', async () => {
      const ok = ['ab', 'a'.repeat(64), 'A_b+c=d,e.f@g-h'];
      for (const name of ok) {
        const c = await assume({ RoleArn: ROLE('uploader'), RoleSessionName: name });
        assert.equal(c.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/uploader/${name}`);
      }
      for (const name of ['a'.repeat(65), 'has space', 'a/b', 'ünïcode', 'semi;colon']) {
        const error = await rejects(
          sts(BROKER).send(new AssumeRoleCommand({ RoleArn: ROLE('uploader'), RoleSessionName: name })),
          'ValidationError',
          400,
        );
        assert.match(error.message, /roleSessionName/);
      }
      const missing = await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({ RoleArn: ROLE('uploader') } as unknown as AssumeRoleCommandInput),
        ),
        'ValidationError',
      );
      assert.match(missing.message, /roleSessionName/);
    });

    test('root credentials and unknown roles are AccessDenied, naming the caller and role', async () => {
      const byRoot = await rejects(
        sts(root()).send(
          new AssumeRoleCommand({ RoleArn: ROLE('account-trust'), RoleSessionName: 'r' + 'oot' }),
        ),
        'AccessDenied',
        403,
      );
      assert.match(byRoot.message, /root/i);
      const unknown = await rejects(
        sts(BROKER).send(new AssumeRoleCommand({ RoleArn: ROLE('ghost'), RoleSessionName: 'session' })),
        'AccessDenied',
        403,
      );
      assert.match(unknown.message, new RegExp(`${USER('broker')}.*sts:AssumeRole.*${ROLE('ghost')}`));
    });

    test('a trust policy naming the account root needs the caller’s own sts:AssumeRole; one naming the user does not', async () => {
      // broker's identity policy allows sts:AssumeRole on every role; nobody has no policy.
      await assume({ RoleArn: ROLE('account-trust') });
      await rejects(
        sts(NOBODY).send(new AssumeRoleCommand({ RoleArn: ROLE('account-trust'), RoleSessionName: 'x1' })),
        'AccessDenied',
        403,
      );
      const direct = await assume({ RoleArn: ROLE('uploader'), RoleSessionName: 'nobody' }, NOBODY);
      await put(direct, 'up/by-nobody.txt');
      // The trust policy still decides: nobody is not named by no-tag-session's.
      await rejects(
        sts(NOBODY).send(new AssumeRoleCommand({ RoleArn: ROLE('no-tag-session'), RoleSessionName: 'x1' })),
        'AccessDenied',
      );
    });

    test('ExternalId must satisfy the trust policy’s sts:ExternalId condition', async () => {
      await assume({ RoleArn: ROLE('external'), ExternalId: 'tenant-42' });
      await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('external'),
            RoleSessionName: 's1',
            ExternalId: 'tenant-43',
          }),
        ),
        'AccessDenied',
        403,
      );
      await rejects(
        sts(BROKER).send(new AssumeRoleCommand({ RoleArn: ROLE('external'), RoleSessionName: 's1' })),
        'AccessDenied',
        403,
      );
      await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({ RoleArn: ROLE('external'), RoleSessionName: 's1', ExternalId: 'x' }),
        ),
        'ValidationError',
      );
    });

    test('role chaining: at most one hour (the default), and the chained session expires on its own', async () => {
      const first = await assume({ RoleArn: ROLE('uploader'), DurationSeconds: 2 * HOUR });
      const chained = await assume({ RoleArn: ROLE('chained'), RoleSessionName: 'hop' }, first);
      assert.equal(expiresIn(chained), HOUR);
      assert.equal(chained.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/chained/hop`);
      assert.equal(expiresIn(await assume({ RoleArn: ROLE('chained'), DurationSeconds: 900 }, first)), 900);
      // The role allows 12 hours, but not to a role session.
      const error = await rejects(
        sts(first).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('chained'),
            RoleSessionName: 'hop',
            DurationSeconds: HOUR + 1,
          }),
        ),
        'ValidationError',
        400,
      );
      assert.match(error.message, /1 hour session limit for roles assumed by role chaining/);
      // The chained session lives its own hour, then expires like any other.
      await later(HOUR - 1, async () => {
        const me = await sts(chained).send(new GetCallerIdentityCommand({}));
        assert.equal(me.Arn, chained.arn);
      });
      await later(HOUR, async () => {
        await rejects(sts(chained).send(new GetCallerIdentityCommand({})), 'ExpiredToken', 400);
        await rejects(put(chained, 'chain/late.txt'), 'ExpiredToken', 400);
        // The first session (two hours) is still valid.
        await sts(first).send(new GetCallerIdentityCommand({}));
      });
    });

    test('inline session Policy: the intersection applies, and 2,048 characters at most', async () => {
      const policy = JSON.stringify(doc(allow('s3:PutObject', object('up/only-this.txt'))));
      const c = await assume({ RoleArn: ROLE('uploader'), Policy: policy });
      assert.ok(
        typeof c.packedPolicySize === 'number' && c.packedPolicySize > 0 && c.packedPolicySize <= 100,
        `PackedPolicySize ${c.packedPolicySize}`,
      );
      await put(c, 'up/only-this.txt');
      await rejects(put(c, 'up/other.txt'), 'AccessDenied', 403);
      // Padded with white space to exactly 2,048 characters: still accepted.
      const padded = policy.replace('{', `{${' '.repeat(2048 - policy.length)}`);
      assert.equal(padded.length, 2048);
      await assume({ RoleArn: ROLE('uploader'), Policy: padded });
      const error = await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({ RoleArn: ROLE('uploader'), RoleSessionName: 's1', Policy: `${padded} ` }),
        ),
        'ValidationError',
        400,
      );
      assert.match(error.message, /policy.*2048/);
    });

    test('packed size: a big policy fits, the same policy with many tags is PackedPolicyTooLarge', async () => {
      // Random resource names do not compress: about two thirds of the packed allowance.
      const resources: string[] = [];
      const build = () => JSON.stringify(doc(allow('s3:PutObject', resources)));
      while (build().length < 1900) resources.push(object(randomBytes(24).toString('hex')));
      const policy = build();
      assert.ok(policy.length <= 2048);
      const fits = await assume({ RoleArn: ROLE('uploader'), Policy: policy });
      assert.ok(
        typeof fits.packedPolicySize === 'number' &&
          fits.packedPolicySize > 20 &&
          fits.packedPolicySize < 100,
        `PackedPolicySize ${fits.packedPolicySize}`,
      );
      const tags = Array.from({ length: 40 }, (_, i) => ({
        Key: `k${i}-${randomBytes(16).toString('hex')}`,
        Value: randomBytes(48).toString('base64'),
      }));
      const error = await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('uploader'),
            RoleSessionName: 's1',
            Policy: policy,
            Tags: tags,
          }),
        ),
        'PackedPolicyTooLargeException',
        400,
      );
      const percent = /^Packed policy consumes (\d+)% of allotted space/.exec(error.message);
      assert.ok(percent, error.message);
      assert.ok(Number(percent[1]) > 100, error.message);
      // Tags alone, within their own limits, fit.
      const tagged = await assume({ RoleArn: ROLE('uploader'), Tags: tags.slice(0, 5) });
      assert.ok((tagged.packedPolicySize ?? 0) < 100);
      // More than 50 tags is a validation error before any packing.
      await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('uploader'),
            RoleSessionName: 's1',
            Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
          }),
        ),
        'ValidationError',
      );
    });

    test('PolicyArns: a managed session policy intersects the role’s permissions', async () => {
      await put(root(), 'up/managed.txt');
      const c = await assume({ RoleArn: ROLE('uploader'), PolicyArns: [{ arn: MANAGED_READ }] });
      // The role allows GetObject and PutObject on up/*; the managed policy only GetObject.
      const got = await get(c, 'up/managed.txt');
      assert.equal(await got.Body!.transformToString(), 'up/managed.txt');
      await rejects(put(c, 'up/managed.txt'), 'AccessDenied', 403);
      // Inline and managed session policies together: either may grant, the role still bounds.
      const both = await assume({
        RoleArn: ROLE('uploader'),
        PolicyArns: [{ arn: MANAGED_READ }],
        Policy: JSON.stringify(doc(allow('s3:PutObject', object('up/both.txt')))),
      });
      await put(both, 'up/both.txt');
      await get(both, 'up/managed.txt');
      await rejects(put(both, 'up/managed.txt'), 'AccessDenied');
    });

    test('session Tags are aws:PrincipalTag values in the role’s policies, overriding role tags', async () => {
      const red = await assume({ RoleArn: ROLE('uploader'), Tags: [{ Key: 'team', Value: 'red' }] });
      await put(red, 'team/red/a.txt');
      await rejects(put(red, 'team/blue/a.txt'), 'AccessDenied', 403);
      // Without the tag the variable resolves to nothing and the statement matches nothing.
      const untagged = await assume({ RoleArn: ROLE('uploader') });
      await rejects(put(untagged, 'team/red/b.txt'), 'AccessDenied');
      // The role's own tags are principal tags of its sessions; a session tag overrides one.
      await put(untagged, 'tier/gold/a.txt');
      const silver = await assume({ RoleArn: ROLE('uploader'), Tags: [{ Key: 'Tier', Value: 'silver' }] });
      await put(silver, 'tier/silver/a.txt');
      await rejects(put(silver, 'tier/gold/b.txt'), 'AccessDenied');
      // Tag keys are case-insensitive: two spellings of one key are refused.
      await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('uploader'),
            RoleSessionName: 's1',
            Tags: [
              { Key: 'team', Value: 'red' },
              { Key: 'Team', Value: 'blue' },
            ],
          }),
        ),
        'InvalidParameterValue',
        400,
      );
    });

    test('session tags need sts:TagSession in the trust policy', async () => {
      await assume({ RoleArn: ROLE('no-tag-session') });
      const error = await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('no-tag-session'),
            RoleSessionName: 's1',
            Tags: [{ Key: 'team', Value: 'red' }],
          }),
        ),
        'AccessDenied',
        403,
      );
      assert.match(error.message, /not authorized/);
    });

    test('TransitiveTagKeys carry tags into a chained session, which may not override them', async () => {
      const first = await assume({
        RoleArn: ROLE('uploader'),
        Tags: [
          { Key: 'team', Value: 'red' },
          { Key: 'user', Value: 'alice' },
        ],
        TransitiveTagKeys: ['team'],
      });
      const second = await assume({ RoleArn: ROLE('chained'), RoleSessionName: 'hop' }, first);
      await put(second, 'chain/red/a.txt');
      // `user` was not transitive: the chained session does not have it.
      await rejects(put(second, 'chain-user/alice/a.txt'), 'AccessDenied', 403);
      // New tags may be added along the chain …
      const third = await assume(
        { RoleArn: ROLE('chained'), RoleSessionName: 'hop2', Tags: [{ Key: 'user', Value: 'bob' }] },
        first,
      );
      await put(third, 'chain/red/b.txt');
      await put(third, 'chain-user/bob/b.txt');
      // … but an inherited transitive tag cannot be replaced, whatever its case.
      for (const key of ['team', 'TEAM']) {
        await rejects(
          sts(first).send(
            new AssumeRoleCommand({
              RoleArn: ROLE('chained'),
              RoleSessionName: 'hop3',
              Tags: [{ Key: key, Value: 'blue' }],
            }),
          ),
          'InvalidParameterValue',
          400,
        );
      }
      // Transitive tags are session tags: the next role's trust policy must allow sts:TagSession.
      await rejects(
        sts(first).send(new AssumeRoleCommand({ RoleArn: ROLE('chained-no-tags'), RoleSessionName: 'hop4' })),
        'AccessDenied',
        403,
      );
      const plain = await assume({ RoleArn: ROLE('uploader'), Tags: [{ Key: 'team', Value: 'red' }] });
      const untransitive = await assume({ RoleArn: ROLE('chained-no-tags'), RoleSessionName: 'hop5' }, plain);
      await put(untransitive, 'chain/anything.txt');
      // A transitive key must be one of the request's tags (compared without regard to case).
      await rejects(
        sts(BROKER).send(
          new AssumeRoleCommand({
            RoleArn: ROLE('uploader'),
            RoleSessionName: 's1',
            Tags: [{ Key: 'team', Value: 'red' }],
            TransitiveTagKeys: ['project'],
          }),
        ),
        'InvalidParameterValue',
      );
      const spelled = await assume({
        RoleArn: ROLE('uploader'),
        Tags: [{ Key: 'team', Value: 'green' }],
        TransitiveTagKeys: ['Team'],
      });
      await put(
        await assume({ RoleArn: ROLE('chained'), RoleSessionName: 'hop6' }, spelled),
        'chain/green/a.txt',
      );
    });
  });

  describe('GetFederationToken', () => {
    const federate = async (
      input: {
        Name: string;
        Policy?: string;
        DurationSeconds?: number;
        Tags?: { Key: string; Value: string }[];
      },
      as: Credentials = BROKER,
    ) => {
      const out = await sts(as).send(new GetFederationTokenCommand(input));
      assert.equal(out.FederatedUser?.Arn, `arn:aws:sts::${ACCOUNT}:federated-user/${input.Name}`);
      assert.equal(out.FederatedUser?.FederatedUserId, `${ACCOUNT}:${input.Name}`);
      return temp(out.Credentials!);
    };
    const everything = JSON.stringify(doc(allow('s3:*', '*')));

    test('Name: 2 to 32 characters of [\\w+=,.@-]', async () => {
      await federate({ Name: 'ab' });
      await federate({ Name: 'a'.repeat(32) });
      await federate({ Name: 'Bob+1=2,x.y@z-w_' });
      for (const name of ['a', 'a'.repeat(33), 'with space', 'a/b']) {
        const error = await rejects(
          sts(BROKER).send(new GetFederationTokenCommand({ Name: name })),
          'ValidationError',
          400,
        );
        assert.match(error.message, /name/);
      }
    });

    test('DurationSeconds: 900 to 129,600, twelve hours by default', async () => {
      assert.equal(expiresIn(await federate({ Name: 'bob' })), 12 * HOUR);
      assert.equal(expiresIn(await federate({ Name: 'bob', DurationSeconds: 900 })), 900);
      assert.equal(expiresIn(await federate({ Name: 'bob', DurationSeconds: 129_600 })), 129_600);
      for (const seconds of [899, 129_601]) {
        await rejects(
          sts(BROKER).send(new GetFederationTokenCommand({ Name: 'bob', DurationSeconds: seconds })),
          'ValidationError',
          400,
        );
      }
    });

    test('without a session policy the federated user has no permissions at all', async () => {
      const c = await federate({ Name: 'nopolicy' });
      // The broker itself may put under fed/; its federated user may not.
      await put(BROKER, 'fed/by-broker.txt');
      await rejects(put(c, 'fed/by-federated.txt'), 'AccessDenied', 403);
      await rejects(get(c, 'fed/by-broker.txt'), 'AccessDenied', 403);
      const me = await sts(c).send(new GetCallerIdentityCommand({}));
      assert.deepEqual(
        [me.Arn, me.UserId, me.Account],
        [`arn:aws:sts::${ACCOUNT}:federated-user/nopolicy`, `${ACCOUNT}:nopolicy`, ACCOUNT],
      );
    });

    test('the effective permission is the user’s policies ∩ the session policy', async () => {
      const c = await federate({ Name: 'carol', Policy: everything });
      await put(c, 'fed/carol.txt');
      // Allowed by the session policy (s3:*), not by the broker's own policies.
      await rejects(put(c, 'up/carol.txt'), 'AccessDenied', 403);
      const narrow = await federate({
        Name: 'dave',
        Policy: JSON.stringify(doc(allow('s3:PutObject', object('fed/dave/*')))),
      });
      await put(narrow, 'fed/dave/1.txt');
      // Allowed by the broker, not by the session policy.
      await rejects(put(narrow, 'fed/carol.txt'), 'AccessDenied');
      await rejects(get(narrow, 'fed/dave/1.txt'), 'AccessDenied');
      await rejects(
        sts(BROKER).send(
          new GetFederationTokenCommand({
            Name: 'eve',
            Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`,
          }),
        ),
        'MalformedPolicyDocumentException',
        400,
      );
    });

    test('only long-term credentials may call it; a user needs sts:GetFederationToken', async () => {
      const federated = await federate({ Name: 'frank', Policy: everything });
      const session = temp(
        (await sts(BROKER).send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials!,
      );
      for (const c of [federated, session]) {
        await rejects(sts(c).send(new GetFederationTokenCommand({ Name: 'again' })), 'AccessDenied', 403);
      }
      // A federated user may call no STS API but GetCallerIdentity.
      await rejects(
        sts(federated).send(new AssumeRoleCommand({ RoleArn: ROLE('uploader'), RoleSessionName: 'fed' })),
        'AccessDenied',
        403,
      );
      await rejects(sts(federated).send(new GetSessionTokenCommand({})), 'AccessDenied', 403);
      // Neither federated nor GetSessionToken (without MFA) credentials may call IAM, whatever their policies.
      for (const c of [federated, session]) {
        const iam = new IAMClient({
          endpoint: server.url,
          region: 'us-east-1',
          credentials: keysOf(c),
          maxAttempts: 1,
          systemClockOffset: offset(),
        });
        cleanup.push(() => iam.destroy());
        await rejects(iam.send(new ListRolesCommand({})), 'AccessDenied', 403);
      }
      const error = await rejects(
        sts(NOBODY).send(new GetFederationTokenCommand({ Name: 'nobody-fed' })),
        'AccessDenied',
        403,
      );
      assert.match(error.message, /sts:GetFederationToken/);
    });

    test('session tags are principal tags, overriding the user’s tag of the same key in any case', async () => {
      // The broker user is tagged dept=media; its policies allow fed/*.
      const policy = JSON.stringify(doc(allow('s3:PutObject', object(`fed/${principalTag('dept')}/*`))));
      const media = await federate({ Name: 'harry', Policy: policy });
      await put(media, 'fed/media/a.txt');
      const video = await federate({
        Name: 'harry',
        Policy: policy,
        Tags: [{ Key: 'Dept', Value: 'video' }],
      });
      await put(video, 'fed/video/a.txt');
      await rejects(put(video, 'fed/media/b.txt'), 'AccessDenied', 403);
    });

    test('the root may call it, for an hour at most', async () => {
      const c = await federate(
        { Name: 'rooted', Policy: JSON.stringify(doc(allow('s3:PutObject', object('root-fed/*')))) },
        root(),
      );
      assert.equal(expiresIn(c), HOUR);
      await put(c, 'root-fed/a.txt');
      await rejects(put(c, 'up/a.txt'), 'AccessDenied', 403);
      // Longer requests are cut to one hour for the root, as AWS documents.
      assert.equal(expiresIn(await federate({ Name: 'rooted', DurationSeconds: 7200 }, root())), HOUR);
      assert.equal(expiresIn(await federate({ Name: 'rooted', DurationSeconds: 900 }, root())), 900);
    });
  });

  describe('GetSessionToken', () => {
    test('a user’s session acts with the user’s permissions and identity', async () => {
      const out = await sts(BROKER).send(new GetSessionTokenCommand({}));
      const c = temp(out.Credentials!);
      assert.equal(expiresIn(c), 12 * HOUR);
      await put(c, 'fed/session.txt');
      await rejects(put(c, 'up/session.txt'), 'AccessDenied', 403);
      const me = await sts(c).send(new GetCallerIdentityCommand({}));
      const user = await sts(BROKER).send(new GetCallerIdentityCommand({}));
      assert.equal(me.Arn, USER('broker'));
      assert.equal(me.UserId, user.UserId);
      assert.match(me.UserId ?? '', /^AIDA/);
      // The session may assume a role as its user would.
      await assume({ RoleArn: ROLE('uploader') }, c);
    });

    test('session credentials cannot call it; DurationSeconds 900 to 129,600; the root gets an hour', async () => {
      const c = temp(
        (await sts(BROKER).send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials!,
      );
      assert.equal(expiresIn(c), 900);
      await rejects(sts(c).send(new GetSessionTokenCommand({})), 'AccessDenied', 403);
      const role = await assume({ RoleArn: ROLE('uploader') });
      await rejects(sts(role).send(new GetSessionTokenCommand({})), 'AccessDenied', 403);
      for (const seconds of [899, 129_601]) {
        await rejects(
          sts(BROKER).send(new GetSessionTokenCommand({ DurationSeconds: seconds })),
          'ValidationError',
          400,
        );
      }
      const rootSession = temp((await sts(root()).send(new GetSessionTokenCommand({}))).Credentials!);
      assert.equal(expiresIn(rootSession), HOUR);
      const rootLong = temp(
        (await sts(root()).send(new GetSessionTokenCommand({ DurationSeconds: 7200 }))).Credentials!,
      );
      assert.equal(expiresIn(rootLong), HOUR);
      const me = await sts(rootSession).send(new GetCallerIdentityCommand({}));
      assert.deepEqual([me.Arn, me.UserId], [`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT]);
    });
  });

  test('GetCallerIdentity: root, user, assumed role, federated user', async () => {
    const identity = async (c: Credentials) => {
      const me = await sts(c).send(new GetCallerIdentityCommand({}));
      assert.equal(me.Account, ACCOUNT);
      return [me.Arn, me.UserId];
    };
    assert.deepEqual(await identity(root()), [`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT]);
    const [userArn, userId] = await identity(BROKER);
    assert.equal(userArn, USER('broker'));
    assert.match(userId ?? '', /^AIDA[A-Z0-9]{16,}$/);
    const role = await assume({ RoleArn: ROLE('uploader'), RoleSessionName: 'who-am-i' });
    const [roleArn, roleUserId] = await identity(role);
    assert.equal(roleArn, `arn:aws:sts::${ACCOUNT}:assumed-role/uploader/who-am-i`);
    assert.match(roleUserId ?? '', /^AROA[A-Z0-9]{16,}:who-am-i$/);
    assert.equal(roleUserId, role.id);
    const fed = temp((await sts(BROKER).send(new GetFederationTokenCommand({ Name: 'gina' }))).Credentials!);
    assert.deepEqual(await identity(fed), [`arn:aws:sts::${ACCOUNT}:federated-user/gina`, `${ACCOUNT}:gina`]);
  });

  describe('authentication errors', () => {
    test('wrong secret, unknown key, missing, tampered or expired token', async () => {
      const call = (c: Credentials) => sts(c).send(new GetCallerIdentityCommand({}));
      await rejects(
        call({ ...BROKER, secretAccessKey: 'not-the-broker-secret-000000000000000' }),
        'SignatureDoesNotMatch',
        403,
      );
      await rejects(call({ ...BROKER, accessKeyId: 'AKIASTSE2EUNKNOWN001' }), 'InvalidClientTokenId', 403);
      const c = await assume({ RoleArn: ROLE('uploader'), DurationSeconds: 900 });
      const { sessionToken, ...withoutToken } = c;
      await rejects(call(withoutToken), 'InvalidClientTokenId', 403);
      const i = sessionToken.length >> 1;
      const tampered = `${sessionToken.slice(0, i)}${sessionToken[i] === 'A' ? 'B' : 'A'}${sessionToken.slice(i + 1)}`;
      await rejects(call({ ...c, sessionToken: tampered }), 'InvalidClientTokenId', 403);
      await rejects(call({ ...c, sessionToken: 'not-a-token' }), 'InvalidClientTokenId', 403);
      // Another session's token with this key id.
      const other = await assume({ RoleArn: ROLE('uploader') });
      await rejects(call({ ...c, sessionToken: other.sessionToken }), 'InvalidClientTokenId', 403);
      await call(c);
      // AWS's ExpiredToken code is not modelled by the SDK (its ExpiredTokenException is
      // AssumeRoleWithWebIdentity's), so the error keeps the wire code as its name.
      const expired = await later(900, () => rejects(call(c), 'ExpiredToken', 400));
      assert.match(expired.message, /expired/);
      await later(900, () =>
        rejects(
          sts(c).send(new AssumeRoleCommand({ RoleArn: ROLE('chained'), RoleSessionName: 'late' })),
          'ExpiredToken',
        ),
      );
    });

    test('errors are STS <ErrorResponse> documents (raw XML)', async () => {
      const send = async (credentials: Credentials, body: string) => {
        const url = new URL(server.url);
        const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'sts', sha256: Sha256 });
        const signed = await signer.sign(
          {
            method: 'POST',
            protocol: 'http:',
            hostname: url.hostname,
            port: Number(url.port),
            path: '/',
            query: {},
            headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
            body,
          },
          { signingDate: new Date(now) },
        );
        const response = await fetch(server.url, {
          method: 'POST',
          headers: signed.headers as Record<string, string>,
          body,
        });
        return {
          status: response.status,
          type: response.headers.get('content-type'),
          xml: await response.text(),
        };
      };
      const ok = await send(BROKER, 'Action=GetCallerIdentity&Version=2011-06-15');
      assert.equal(ok.status, 200);
      assert.match(
        ok.xml,
        new RegExp(
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${USER('broker')}</Arn>`,
        ),
      );
      const cases: [Credentials, string, number, string][] = [
        [
          { ...BROKER, secretAccessKey: 'wrong-secret-000000000000000000000000' },
          'Action=GetCallerIdentity&Version=2011-06-15',
          403,
          'SignatureDoesNotMatch',
        ],
        [
          { ...BROKER, accessKeyId: 'AKIASTSE2EUNKNOWN002' },
          'Action=GetCallerIdentity&Version=2011-06-15',
          403,
          'InvalidClientTokenId',
        ],
        [
          BROKER,
          `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(ROLE('uploader'))}&RoleSessionName=x`,
          400,
          'ValidationError',
        ],
        [
          BROKER,
          `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(ROLE('ghost'))}&RoleSessionName=xy`,
          403,
          'AccessDenied',
        ],
        [BROKER, 'Action=NoSuchAction&Version=2011-06-15', 400, 'InvalidAction'],
      ];
      for (const [credentials, body, status, code] of cases) {
        const r = await send(credentials, body);
        assert.equal(r.status, status, `${code}: ${r.xml}`);
        assert.match(r.type ?? '', /xml/);
        assert.match(
          r.xml,
          new RegExp(
            `^<\\?xml version="1.0" encoding="UTF-8"\\?>\\s*<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>[^<]+</Message></Error><RequestId>[^<]+</RequestId></ErrorResponse>$`,
          ),
          r.xml,
        );
      }
    });
  });

  test('IAM changes reach live role sessions', async () => {
    const iam = new IAMClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: root(),
      maxAttempts: 1,
      systemClockOffset: offset(),
    });
    cleanup.push(() => iam.destroy());
    const c = await assume({ RoleArn: ROLE('live') });
    await put(c, 'live/a/1.txt');
    await rejects(put(c, 'live/b/1.txt'), 'AccessDenied', 403);
    // Widen.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'live',
        PolicyName: 'narrow',
        PolicyDocument: JSON.stringify(doc(allow('s3:PutObject', object('live/*')))),
      }),
    );
    await put(c, 'live/b/1.txt');
    // Narrow to something else.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'live',
        PolicyName: 'narrow',
        PolicyDocument: JSON.stringify(doc(allow('s3:PutObject', object('live/c/*')))),
      }),
    );
    await rejects(put(c, 'live/a/2.txt'), 'AccessDenied', 403);
    await rejects(put(c, 'live/b/2.txt'), 'AccessDenied', 403);
    await put(c, 'live/c/1.txt');
    // An explicit deny added in another policy wins at once.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'live',
        PolicyName: 'deny',
        PolicyDocument: JSON.stringify(
          doc({ Effect: 'Deny', Action: 's3:*', Resource: object('live/c/secret/*') }),
        ),
      }),
    );
    await rejects(put(c, 'live/c/secret/1.txt'), 'AccessDenied');
    await put(c, 'live/c/2.txt');
    // Deleted: nothing is left.
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'live', PolicyName: 'narrow' }));
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'live', PolicyName: 'deny' }));
    await rejects(put(c, 'live/c/3.txt'), 'AccessDenied', 403);
    // The session itself is still valid.
    await sts(c).send(new GetCallerIdentityCommand({}));
  });

  test('tokens survive a restart on the same data directory, and no other server accepts them', async () => {
    const local: (() => unknown)[] = [];
    const localHook: Hook = { after: (fn) => local.push(fn) };
    try {
      const dataDir = await tmpDir(localHook, 'hoist-sts-restart-');
      const first = await startTestServer(localHook, {
        iam: iamConfig,
        clock: () => now,
        dataDir,
        buckets: [BUCKET],
      });
      const out = await sts(BROKER, first.url).send(
        new AssumeRoleCommand({
          RoleArn: ROLE('uploader'),
          RoleSessionName: 'restart',
          Tags: [{ Key: 'team', Value: 'red' }],
        }),
      );
      const c = temp(out.Credentials!);
      await first.close();
      const second = await startTestServer(localHook, { iam: iamConfig, clock: () => now, dataDir });
      const me = await sts(c, second.url).send(new GetCallerIdentityCommand({}));
      assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/uploader/restart`);
      // A client per request: S3 answers carry a real-time Date header, from which a reused
      // SDK client would "correct" its skew away from the server's injected clock.
      const putSecond = (key: string) =>
        second
          .makeClient({ credentials: keysOf(c), systemClockOffset: offset() })
          .send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
      await putSecond('team/red/restart.txt');
      await rejects(putSecond('team/blue/restart.txt'), 'AccessDenied', 403);
      const foreign = await startTestServer(localHook, { iam: iamConfig, clock: () => now });
      await rejects(sts(c, foreign.url).send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403);
    } finally {
      for (const fn of local.reverse()) await fn();
    }
  });
});
