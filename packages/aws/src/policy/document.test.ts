/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal `${…}` text. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packedSize, parsePolicy } from './document.ts';
import { PolicyError } from './errors.ts';

const allow = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
const doc = (...statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements });

function malformed(
  input: unknown,
  kind: 'identity' | 'resource',
  message: RegExp,
  where?: { statement?: number; field?: string },
) {
  assert.throws(
    () => parsePolicy(input as object, { kind }),
    (e: unknown) => {
      assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
      assert.equal(e.code, 'MalformedPolicyDocument');
      assert.match(e.message, message);
      if (where?.statement !== undefined) assert.equal(e.statement, where.statement);
      if (where?.field !== undefined) assert.equal(e.field, where.field);
      return true;
    },
  );
}

describe('parsePolicy: valid documents', () => {
  it('parses a single statement object and normalizes lists', () => {
    const p = parsePolicy(JSON.stringify({ Version: '2012-10-17', Id: 'p1', Statement: allow }), {
      kind: 'identity',
    });
    assert.equal(p.version, '2012-10-17');
    assert.equal(p.id, 'p1');
    assert.equal(p.kind, 'identity');
    assert.deepEqual(p.statements[0]?.action, { not: false, values: ['s3:GetObject'] });
    assert.deepEqual(p.statements[0]?.resource, { not: false, values: ['arn:aws:s3:::b/*'] });
    assert.ok(
      Object.isFrozen(p) &&
        Object.isFrozen(p.statements[0]) &&
        Object.isFrozen(p.statements[0]?.action.values),
    );
  });

  it('defaults a missing Version to 2008-10-17 (no policy variables)', () => {
    assert.equal(parsePolicy({ Statement: [allow] }, { kind: 'identity' }).version, '2008-10-17');
    assert.equal(
      parsePolicy({ Version: '2008-10-17', Statement: [allow] }, { kind: 'identity' }).version,
      '2008-10-17',
    );
  });

  it('accepts NotAction, NotResource, conditions with every value type, Sids', () => {
    const p = parsePolicy(
      doc({
        Sid: 'A1',
        Effect: 'Deny',
        NotAction: ['iam:*', 's3:Get*'],
        NotResource: ['arn:aws:s3:::b', "arn:aws:s3:::b/${aws:username, 'a:b'}/*"],
        Condition: {
          StringEquals: { 'aws:username': ['a', 'b'] },
          NumericLessThan: { 's3:max-keys': 10 },
          Bool: { 'aws:SecureTransport': false },
          'ForAnyValue:StringLike': { 'aws:TagKeys': 'x*' },
        },
      }),
      { kind: 'identity' },
    );
    const s = p.statements[0]!;
    assert.equal(s.sid, 'A1');
    assert.equal(s.action.not, true);
    assert.equal(s.resource?.not, true);
    assert.deepEqual(
      s.condition.map((c) => [c.operator, c.key, c.values]),
      [
        ['StringEquals', 'aws:username', ['a', 'b']],
        ['NumericLessThan', 's3:max-keys', ['10']],
        ['Bool', 'aws:SecureTransport', ['false']],
        ['ForAnyValue:StringLike', 'aws:TagKeys', ['x*']],
      ],
    );
  });

  it('parses principals of resource policies', () => {
    const p = parsePolicy(
      doc(
        { ...allow, Principal: '*' },
        { ...allow, Principal: { AWS: ['111122223333', 'arn:aws:iam::111122223333:root', '*'] } },
        {
          ...allow,
          Principal: { AWS: 'arn:aws:sts::111122223333:assumed-role/r/s', Service: 's3.amazonaws.com' },
        },
        { ...allow, NotPrincipal: { AWS: 'arn:aws:iam::111122223333:user/path/bob' } },
        {
          ...allow,
          Principal: { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
        },
        { ...allow, Principal: { Federated: 'cognito-identity.amazonaws.com' } },
      ),
      { kind: 'resource' },
    );
    assert.equal(p.statements[0]?.principal?.spec, '*');
    assert.deepEqual(p.statements[2]?.principal?.spec, {
      AWS: ['arn:aws:sts::111122223333:assumed-role/r/s'],
      Service: ['s3.amazonaws.com'],
    });
    assert.equal(p.statements[3]?.principal?.not, true);
  });

  it('lets resource policies omit Resource by default (trust policies), unless required', () => {
    const trust = doc({ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole' });
    assert.equal(parsePolicy(trust, { kind: 'resource' }).statements[0]?.resource, undefined);
    malformed(trust, 'identity', /Principal is not allowed/);
    assert.throws(
      () => parsePolicy(trust, { kind: 'resource', requireResource: true }),
      /Resource is missing/,
    );
  });
});

describe('parsePolicy: malformed documents', () => {
  const rows: [
    name: string,
    input: unknown,
    kind: 'identity' | 'resource',
    message: RegExp,
    where?: { statement?: number; field?: string },
  ][] = [
    ['invalid JSON', '{"Version": ', 'identity', /not valid JSON/],
    ['an array', '[]', 'identity', /must be a JSON object/],
    ['a string', '"x"', 'identity', /must be a JSON object/],
    [
      'an unknown top-level key',
      { Version: '2012-10-17', Statement: [allow], Statements: [] },
      'identity',
      /Unknown policy element "Statements"/,
      { field: 'Statements' },
    ],
    [
      'a wrong Version',
      { Version: '2012-10-18', Statement: [allow] },
      'identity',
      /Version must be "2012-10-17" or "2008-10-17", got "2012-10-18"/,
    ],
    ['a numeric Version', { Version: 2012, Statement: [allow] }, 'identity', /Version must be/],
    ['a non-string Id', { Id: 5, Statement: [allow] }, 'identity', /Id must be a string/],
    ['no Statement', { Version: '2012-10-17' }, 'identity', /has no Statement/],
    ['an empty Statement', doc(), 'identity', /Statement must not be an empty array/],
    ['a null Statement entry', doc(null), 'identity', /Statement\[0\] must be an object/, { statement: 0 }],
    [
      'an unknown statement key',
      doc({ ...allow, effect: 'Allow' }),
      'identity',
      /Statement\[0\]: effect is not a statement element/,
      { statement: 0, field: 'effect' },
    ],
    [
      'a missing Effect',
      doc({ Action: 's3:*', Resource: '*' }),
      'identity',
      /Statement\[0\]: Effect is missing/,
    ],
    [
      'a lowercase Effect',
      doc({ ...allow, Effect: 'allow' }),
      'identity',
      /Effect must be "Allow" or "Deny"/,
    ],
    [
      'Action and NotAction',
      doc({ ...allow, NotAction: 's3:*' }),
      'identity',
      /Action and NotAction cannot both be present/,
    ],
    ['no Action', doc({ Effect: 'Allow', Resource: '*' }), 'identity', /Action is missing/],
    [
      'an empty Action',
      doc({ ...allow, Action: [] }),
      'identity',
      /Action must not be an empty array/,
      { field: 'Action' },
    ],
    [
      'an Action without service',
      doc({ ...allow, Action: 'GetObject' }),
      'identity',
      /"GetObject" is not "\*" or "service:ActionName"/,
    ],
    ['a wildcard service', doc({ ...allow, Action: 's*:GetObject' }), 'identity', /"s\*:GetObject" is not/],
    ['an empty action name', doc({ ...allow, Action: 's3:' }), 'identity', /"s3:" is not/],
    ['two colons', doc({ ...allow, Action: 's3:Get:Object' }), 'identity', /is not/],
    [
      'a numeric Action',
      doc({ ...allow, Action: 42 }),
      'identity',
      /Action must be a string or an array of strings/,
    ],
    [
      'an empty action string',
      doc({ ...allow, Action: ['s3:Get*', ''] }),
      'identity',
      /Action must not contain an empty string/,
    ],
    [
      'a NotAction typo',
      doc({ ...allow, Action: undefined, NotAction: 's3 GetObject' }),
      'identity',
      /NotAction "s3 GetObject" is not/,
      { field: 'NotAction' },
    ],
    [
      'no Resource in an identity policy',
      doc({ Effect: 'Allow', Action: 's3:*' }),
      'identity',
      /Resource is missing/,
    ],
    [
      'Resource and NotResource',
      doc({ ...allow, NotResource: '*' }),
      'identity',
      /Resource and NotResource cannot both be present/,
    ],
    [
      'a Resource that is not an ARN',
      doc({ ...allow, Resource: 'bucket/*' }),
      'identity',
      /"bucket\/\*" is not "\*" or an ARN/,
    ],
    ['a short ARN', doc({ ...allow, Resource: 'arn:aws:s3::b' }), 'identity', /is not "\*" or an ARN/],
    [
      'an empty Resource list',
      doc({ ...allow, Resource: [] }),
      'identity',
      /Resource must not be an empty array/,
    ],
    [
      'a Principal in an identity policy',
      doc({ ...allow, Principal: '*' }),
      'identity',
      /Principal is not allowed in an identity-based policy/,
    ],
    [
      'a NotPrincipal in an identity policy',
      doc({ ...allow, NotPrincipal: '*' }),
      'identity',
      /NotPrincipal is not allowed/,
    ],
    ['no Principal in a resource policy', doc(allow), 'resource', /Principal is missing/],
    [
      'Principal and NotPrincipal',
      doc({ ...allow, Principal: '*', NotPrincipal: '*' }),
      'resource',
      /Principal and NotPrincipal cannot both be present/,
    ],
    [
      'a bare ARN Principal',
      doc({ ...allow, Principal: 'arn:aws:iam::111122223333:root' }),
      'resource',
      /Principal must be "\*" or an object/,
    ],
    ['an empty Principal', doc({ ...allow, Principal: {} }), 'resource', /must name at least one principal/],
    [
      'an unknown principal type',
      doc({ ...allow, Principal: { User: 'x' } }),
      'resource',
      /Principal.User is not a principal type/,
      { field: 'Principal.User' },
    ],
    [
      'a partial wildcard principal',
      doc({ ...allow, Principal: { AWS: 'arn:aws:iam::111122223333:user/*' } }),
      'resource',
      /wildcards are only allowed as the whole value/,
    ],
    [
      'a user name as principal',
      doc({ ...allow, Principal: { AWS: 'alice' } }),
      'resource',
      /"alice" is not an account ID or a principal ARN/,
    ],
    [
      'an S3 ARN as principal',
      doc({ ...allow, Principal: { AWS: 'arn:aws:s3:::b' } }),
      'resource',
      /not an account ID or a principal ARN/,
    ],
    [
      'an empty principal list',
      doc({ ...allow, Principal: { AWS: [] } }),
      'resource',
      /Principal.AWS must not be an empty array/,
    ],
    ['a string Condition', doc({ ...allow, Condition: 'x' }), 'identity', /Condition must be an object/],
    [
      'a string operator block',
      doc({ ...allow, Condition: { StringEquals: 'x' } }),
      'identity',
      /Condition.StringEquals must be an object/,
    ],
    [
      'an empty operator block',
      doc({ ...allow, Condition: { StringEquals: {} } }),
      'identity',
      /must test at least one condition key/,
    ],
    [
      'an unknown operator',
      doc({ ...allow, Condition: { StringEqual: { k: 'v' } } }),
      'identity',
      /Statement\[0\]: Condition.StringEqual.k unknown condition operator "StringEqual"/,
      { field: 'Condition.StringEqual.k' },
    ],
    [
      'a bad IP',
      doc({ ...allow, Condition: { IpAddress: { 'aws:SourceIp': '1.2.3' } } }),
      'identity',
      /Condition.IpAddress.aws:SourceIp has an invalid value: "1.2.3" is not an IPv4/,
    ],
    [
      'an object condition value',
      doc({ ...allow, Condition: { StringEquals: { k: { v: 1 } } } }),
      'identity',
      /values must be strings, numbers or booleans/,
    ],
    [
      'a duplicate Sid',
      doc({ ...allow, Sid: 'A' }, { ...allow, Sid: 'A' }),
      'identity',
      /Statement\[1\]: Sid "A" is used by an earlier statement/,
      { statement: 1 },
    ],
    ['a numeric Sid', doc({ ...allow, Sid: 1 }), 'identity', /Sid must be a string/],
    ['a class instance', { Statement: [new Date()] }, 'identity', /Statement\[0\] must be an object/],
  ];
  for (const [name, input, kind, message, where] of rows) {
    it(`rejects ${name}`, () => malformed(input, kind, message, where));
  }

  it('names the Sid of the offending statement', () => {
    malformed(
      doc({ ...allow, Sid: 'First' }, { ...allow, Sid: 'Second', Action: 'bad' }),
      'identity',
      /^Statement\[1\] \(Sid "Second"\): Action "bad" is not/,
      {
        statement: 1,
        field: 'Action',
      },
    );
  });

  it('rejects invalid options with a TypeError', () => {
    assert.throws(() => parsePolicy(doc(allow), { kind: 'session' as never }), TypeError);
    assert.throws(() => parsePolicy(doc(allow), { kind: 'identity', maxSize: -1 }), TypeError);
    assert.throws(() => parsePolicy(42 as never, { kind: 'identity' }), TypeError);
  });
});

describe('size limits', () => {
  it('packedSize ignores insignificant whitespace only', () => {
    const pretty = JSON.stringify(doc(allow), null, 2);
    const compact = JSON.stringify(doc(allow));
    assert.equal(packedSize(pretty), compact.length);
    assert.equal(packedSize(doc(allow)), compact.length);
    assert.equal(packedSize('{ "a b" : "c\\" d" }'), '{"a b":"c\\" d"}'.length);
  });

  it('rejects documents over maxSize with LimitExceeded, counting packed size', () => {
    const text = JSON.stringify(doc(allow), null, 8);
    const size = packedSize(text);
    assert.equal(parsePolicy(text, { kind: 'identity', maxSize: size }).size, size);
    assert.throws(
      () => parsePolicy(text, { kind: 'identity', maxSize: size - 1 }),
      (e: unknown) => e instanceof PolicyError && e.code === 'LimitExceeded' && /limit is/.test(e.message),
    );
    assert.throws(() => parsePolicy(doc(allow), { kind: 'identity', maxSize: 10 }), /limit is 10/);
  });

  it('defaults to the 10,240-character inline policy limit', () => {
    const many = doc(...Array.from({ length: 200 }, (_, i) => ({ ...allow, Sid: `S${i}` })));
    assert.ok(packedSize(many) > 10_240);
    assert.throws(() => parsePolicy(many, { kind: 'identity' }), /limit is 10240/);
    assert.equal(parsePolicy(many, { kind: 'identity', maxSize: 20_480 }).statements.length, 200);
  });
});

describe('hostile input fails fast', () => {
  // Rejected with the right error, before any expensive work (speed is not asserted in tests).
  const fast = (fn: () => void, message: RegExp) => {
    assert.throws(fn, message);
  };
  it('deeply nested JSON over the size cap is rejected before parsing', () => {
    fast(
      () => parsePolicy(`${'['.repeat(500_000)}${']'.repeat(500_000)}`, { kind: 'identity' }),
      /limit is 10240/,
    );
  });
  it('deeply nested JSON without a size cap is still bounded', () => {
    fast(
      () =>
        parsePolicy(`${'['.repeat(200_000)}${']'.repeat(200_000)}`, { kind: 'identity', maxSize: Infinity }),
      /must be a JSON object/,
    );
    fast(
      () =>
        parsePolicy(`{"Statement":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, {
          kind: 'identity',
          maxSize: Infinity,
        }),
      /must be an object/,
    );
  });
  it('huge raw text is rejected without parsing', () => {
    fast(
      () => parsePolicy(' '.repeat(2_000_000), { kind: 'identity', maxSize: Infinity }),
      /exceeds 1048576/,
    );
  });
  it('too many statements, values or condition clauses', () => {
    const big = { kind: 'identity' as const, maxSize: Infinity };
    fast(
      () => parsePolicy(doc(...Array.from({ length: 1_001 }, () => allow)), big),
      /more than 1000 entries/,
    );
    fast(
      () => parsePolicy(doc({ ...allow, Action: Array.from({ length: 5_000 }, () => 's3:GetObject') }), big),
      /more than 1000 entries/,
    );
    const values = Array.from({ length: 100_000 }, (_, i) => `v${i}`);
    fast(
      () => parsePolicy(doc({ ...allow, Condition: { StringEquals: { k: values } } }), big),
      /more than 1000 values/,
    );
    const keys = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'v']));
    fast(
      () => parsePolicy(doc({ ...allow, Condition: { StringEquals: keys } }), big),
      /more than 200 operator\/key pairs/,
    );
    fast(
      () => parsePolicy(doc({ ...allow, Resource: `arn:aws:s3:::${'x'.repeat(10_000)}` }), big),
      /longer than 4096/,
    );
  });
  it('deep or cyclic objects are rejected without recursion', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    fast(
      () => parsePolicy(doc({ ...allow, Condition: { StringEquals: { k: deep } } }), { kind: 'identity' }),
      /strings, numbers or booleans/,
    );
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    fast(() => parsePolicy(doc({ ...allow, Resource: cyclic }), { kind: 'identity' }), /must be a string/);
  });
});
