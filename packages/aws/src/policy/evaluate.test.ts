import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy } from './document.ts';
import { evaluate } from './evaluate.ts';
import { notPrincipalApplies, principalMatch, resolvePrincipal } from './principal.ts';

const ACCT = '111122223333';
const identity = parsePolicy(
  {
    Version: '2012-10-17',
    Id: 'role-policy',
    Statement: [
      { Sid: 'All', Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      { Sid: 'NoDelete', Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
      { Effect: 'Allow', Action: 's3:Get*', Resource: '*' },
    ],
  },
  { kind: 'identity' },
);
const bucket = parsePolicy(
  {
    Version: '2012-10-17',
    Statement: {
      Sid: 'Role',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCT}:role/r` },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::b/*',
    },
  },
  { kind: 'resource' },
);
const session = { arn: `arn:aws:sts::${ACCT}:assumed-role/r/s` };

describe('evaluate: result details', () => {
  it('lists every matching statement with its source, index, Sid and principal match', () => {
    const result = evaluate(
      { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: session },
      { identity: [identity], resource: [bucket], sameAccount: true },
    );
    assert.equal(result.decision, 'Allow');
    assert.deepEqual(result.matched, [
      {
        source: 'identity',
        policyIndex: 0,
        policyId: 'role-policy',
        statementIndex: 0,
        sid: 'All',
        effect: 'Allow',
      },
      { source: 'identity', policyIndex: 0, policyId: 'role-policy', statementIndex: 2, effect: 'Allow' },
      {
        source: 'resource',
        policyIndex: 0,
        statementIndex: 0,
        sid: 'Role',
        effect: 'Allow',
        principalMatch: 'entity',
      },
    ]);
  });

  it('reports the Deny statement on an explicit deny', () => {
    const result = evaluate(
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/k', principal: session },
      { identity: [identity], sameAccount: true },
    );
    assert.equal(result.decision, 'ExplicitDeny');
    assert.ok(result.matched.some((m) => m.effect === 'Deny' && m.sid === 'NoDelete'));
  });

  it('returns no statements when nothing matches', () => {
    const result = evaluate(
      { action: 'ec2:RunInstances', resource: '*', principal: session },
      { identity: [identity], sameAccount: true },
    );
    assert.deepEqual(result, { decision: 'ImplicitDeny', matched: [] });
  });

  it('an empty session policy list is a session policy that allows nothing', () => {
    const req = { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: session };
    assert.equal(evaluate(req, { identity: [identity], sameAccount: true }).decision, 'Allow');
    assert.equal(
      evaluate(req, { identity: [identity], session: [], sameAccount: true }).decision,
      'ImplicitDeny',
    );
    assert.equal(
      evaluate(req, { identity: [identity], permissionsBoundary: [], sameAccount: true }).decision,
      'ImplicitDeny',
    );
  });
});

describe('evaluate: misuse throws TypeError naming the field', () => {
  const ok = { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' };
  const rows: [name: string, call: () => unknown, message: RegExp][] = [
    [
      'an action without service',
      () => evaluate({ ...ok, action: 'GetObject' }, { identity: [], sameAccount: true }),
      /request.action/,
    ],
    [
      'a wildcard action',
      () => evaluate({ ...ok, action: 's3:Get*' }, { identity: [], sameAccount: true }),
      /request.action/,
    ],
    [
      'an empty resource',
      () => evaluate({ ...ok, resource: '' }, { identity: [], sameAccount: true }),
      /request.resource/,
    ],
    ['no sameAccount', () => evaluate(ok, { identity: [] } as never), /policies.sameAccount/],
    ['no identity list', () => evaluate(ok, { sameAccount: true } as never), /policies.identity/],
    [
      'a raw document',
      () => evaluate(ok, { identity: [{ Statement: [] } as never], sameAccount: true }),
      /policies.identity\[0\] is not a parsed policy/,
    ],
    [
      'a resource policy as identity',
      () => evaluate(ok, { identity: [bucket], sameAccount: true }),
      /policies.identity\[0\] must be parsed with kind 'identity'/,
    ],
    [
      'an identity policy as resource',
      () => evaluate(ok, { identity: [], resource: [identity], sameAccount: true }),
      /policies.resource\[0\] must be parsed with kind 'resource'/,
    ],
    [
      'a role ARN as caller',
      () =>
        evaluate(
          { ...ok, principal: { arn: `arn:aws:iam::${ACCT}:role/r` } },
          { identity: [], sameAccount: true },
        ),
      /principal.arn/,
    ],
    [
      'a mismatched accountId',
      () =>
        evaluate(
          { ...ok, principal: { arn: session.arn, accountId: '999999999999' } },
          { identity: [], sameAccount: true },
        ),
      /principal.accountId/,
    ],
    [
      'a bad context value',
      () => evaluate({ ...ok, context: { k: { a: 1 } as never } }, { identity: [], sameAccount: true }),
      /context\["k"\]/,
    ],
  ];
  for (const [name, call, message] of rows) {
    it(`rejects ${name}`, () =>
      assert.throws(call, (e: unknown) => e instanceof TypeError && message.test(e.message)));
  }
});

describe('principals', () => {
  it('derives the role ARN of a session, or takes the given one (with its path)', () => {
    assert.equal(resolvePrincipal(session).parentArn, `arn:aws:iam::${ACCT}:role/r`);
    assert.equal(
      resolvePrincipal({ ...session, roleArn: `arn:aws:iam::${ACCT}:role/app/r` }).parentArn,
      `arn:aws:iam::${ACCT}:role/app/r`,
    );
    assert.equal(resolvePrincipal(undefined).type, 'anonymous');
    assert.equal(resolvePrincipal({ service: 's3.amazonaws.com' }).type, 'service');
    assert.equal(resolvePrincipal({ arn: `arn:aws:iam::${ACCT}:root` }).type, 'root');
  });

  const s = resolvePrincipal({ ...session, roleArn: `arn:aws:iam::${ACCT}:role/app/r` });
  const rows: [spec: Parameters<typeof principalMatch>[0], expected: ReturnType<typeof principalMatch>][] = [
    ['*', 'direct'],
    [{ AWS: ['*'] }, 'direct'],
    [{ AWS: [session.arn] }, 'direct'],
    [{ AWS: [`arn:aws:iam::${ACCT}:role/app/r`] }, 'entity'],
    [{ AWS: [`arn:aws:iam::${ACCT}:role/r`] }, undefined],
    [{ AWS: [ACCT] }, 'account'],
    [{ AWS: [`arn:aws:iam::${ACCT}:root`, session.arn] }, 'direct'],
    [{ AWS: ['999999999999'] }, undefined],
    [{ Service: ['s3.amazonaws.com'] }, undefined],
  ];
  for (const [spec, expected] of rows) {
    it(`${JSON.stringify(spec)} names a role session at level ${expected}`, () =>
      assert.equal(principalMatch(spec, s), expected));
  }

  it('NotPrincipal exempts only callers whose whole chain is listed', () => {
    const all = { AWS: [session.arn, `arn:aws:iam::${ACCT}:role/app/r`, ACCT] };
    assert.equal(notPrincipalApplies(all, s), false);
    assert.equal(notPrincipalApplies({ AWS: [session.arn, ACCT] }, s), true);
    assert.equal(notPrincipalApplies({ AWS: ['*'] }, s), false);
    assert.equal(
      notPrincipalApplies({ AWS: [ACCT] }, resolvePrincipal({ arn: `arn:aws:iam::${ACCT}:root` })),
      false,
    );
    assert.equal(notPrincipalApplies({ AWS: [ACCT] }, resolvePrincipal(undefined)), true);
  });
});
