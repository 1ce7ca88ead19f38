/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal `${…}` text. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ConditionClause,
  ContextView,
  conditionClauseFrom,
  conditionsHold,
  type PolicyContext,
} from './conditions.ts';

function clause(operator: string, key: string, values: unknown, variables = true): ConditionClause {
  return conditionClauseFrom(operator, key, values, variables, (m) => new Error(m));
}

type Case = [operator: string, policyValues: unknown, request: PolicyContext[string], expected: boolean];

/** Runs table rows against the key `k`; `undefined` as request value means the key is absent. */
function table(name: string, rows: Case[], key = 'k') {
  describe(name, () => {
    for (const [operator, values, request, expected] of rows) {
      it(`${operator} ${JSON.stringify(values)} vs ${JSON.stringify(request)} → ${expected}`, () => {
        const ctx = new ContextView(request === undefined ? {} : { [key]: request });
        assert.equal(conditionsHold([clause(operator, key, values)], ctx, true), expected);
      });
    }
  });
}

table('string operators', [
  ['StringEquals', 'abc', 'abc', true],
  ['StringEquals', 'abc', 'ABC', false],
  ['StringEquals', ['x', 'abc'], 'abc', true],
  ['StringEquals', 'abc', undefined, false],
  ['StringEquals', '10', 10, true],
  ['StringEquals', 'true', true, true],
  ['StringEquals', true, 'true', true],
  ['StringEquals', 'a*', 'abc', false],
  ['StringEqualsIfExists', 'abc', undefined, true],
  ['StringEqualsIfExists', 'abc', 'abd', false],
  ['StringNotEquals', 'abc', 'abd', true],
  ['StringNotEquals', 'abc', 'abc', false],
  ['StringNotEquals', ['x', 'abc'], 'abc', false],
  ['StringNotEquals', ['x', 'y'], 'abc', true],
  ['StringNotEquals', 'abc', undefined, true],
  ['StringNotEqualsIfExists', 'abc', undefined, true],
  ['StringNotEqualsIfExists', 'abc', 'abc', false],
  ['StringEqualsIgnoreCase', 'AbC', 'aBc', true],
  ['StringEqualsIgnoreCase', 'abc', 'abd', false],
  ['StringNotEqualsIgnoreCase', 'AbC', 'abc', false],
  ['StringNotEqualsIgnoreCase', 'AbC', 'abd', true],
  ['StringNotEqualsIgnoreCase', 'AbC', undefined, true],
  ['StringLike', 'home/*', 'home/alice/x', true],
  ['StringLike', 'home/?', 'home/a', true],
  ['StringLike', 'home/?', 'home/ab', false],
  ['StringLike', ['', 'home/'], '', true],
  ['StringLike', 'Home/*', 'home/x', false],
  ['StringLike', '*', undefined, false],
  ['StringLikeIfExists', 'x*', undefined, true],
  ['StringNotLike', 'home/*', 'tmp/x', true],
  ['StringNotLike', ['tmp/*', 'home/*'], 'home/x', false],
  ['StringNotLike', 'home/*', undefined, true],
  ['StringEquals', 'a', ['b', 'a'], true],
  ['StringNotEquals', 'a', ['b', 'a'], false],
  ['StringNotEquals', 'a', ['b', 'c'], true],
]);

table('numeric operators', [
  ['NumericEquals', '10', '10', true],
  ['NumericEquals', '10', '10.0', true],
  ['NumericEquals', 10, 10, true],
  ['NumericEquals', '10', '11', false],
  ['NumericEquals', '10', 'ten', false],
  ['NumericEquals', '10', undefined, false],
  ['NumericNotEquals', '10', '11', true],
  ['NumericNotEquals', '10', '10', false],
  ['NumericNotEquals', ['10', '11'], '11', false],
  ['NumericNotEquals', '10', 'ten', false],
  ['NumericNotEquals', '10', undefined, true],
  ['NumericLessThan', '10', '9.5', true],
  ['NumericLessThan', '10', '10', false],
  ['NumericLessThanEquals', '10', '10', true],
  ['NumericLessThanEquals', '10', 11, false],
  ['NumericGreaterThan', '-1', '0', true],
  ['NumericGreaterThan', '0', '0', false],
  ['NumericGreaterThanEquals', '1e3', '1000', true],
  ['NumericGreaterThanEquals', '1000', 999, false],
  ['NumericLessThanIfExists', '10', undefined, true],
]);

table('date operators', [
  ['DateEquals', '2024-01-02T03:04:05Z', '2024-01-02T03:04:05Z', true],
  ['DateEquals', '2024-01-02T03:04:05Z', '2024-01-02T04:04:05+01:00', true],
  ['DateEquals', '2024-01-02T03:04:05Z', '1704164645', true],
  ['DateEquals', '1704164645', '2024-01-02T03:04:05.000Z', true],
  ['DateEquals', '2024-01-02', '2024-01-02T00:00:00Z', true],
  ['DateEquals', '2024-01', '2024-01-01T00:00:00Z', true],
  ['DateEquals', '2024-01-02T03:04Z', '2024-01-02T03:04:00Z', true],
  ['DateEquals', '2024-01-02T03:04:05.5Z', '2024-01-02T03:04:05.500Z', true],
  ['DateEquals', '2024-01-02T03:04:05Z', 'yesterday', false],
  ['DateNotEquals', '2024-01-02T03:04:05Z', '2024-01-02T03:04:06Z', true],
  ['DateNotEquals', '2024-01-02T03:04:05Z', undefined, true],
  ['DateLessThan', '2024-06-01T00:00:00Z', '2024-05-31T23:59:59Z', true],
  ['DateLessThan', '2024-06-01T00:00:00Z', '2024-06-01T00:00:00Z', false],
  ['DateLessThan', '2024-06-01T00:00:00Z', undefined, false],
  ['DateLessThanEquals', '2024-06-01T00:00:00Z', '2024-06-01T00:00:00Z', true],
  ['DateGreaterThan', '2020-01-01T00:00:01Z', '2021-03-04T00:00:00-05:00', true],
  ['DateGreaterThan', '2020-01-01T00:00:01Z', 1577836800, false],
  ['DateGreaterThanEquals', '1577836801', '2020-01-01T00:00:01Z', true],
  ['DateGreaterThanIfExists', '2020-01-01T00:00:00Z', undefined, true],
]);

table('Bool and BinaryEquals', [
  ['Bool', 'true', 'true', true],
  ['Bool', 'true', true, true],
  ['Bool', true, 'TRUE', true],
  ['Bool', 'false', 'true', false],
  ['Bool', 'false', false, true],
  ['Bool', 'true', 'yes', false],
  ['Bool', 'false', undefined, false],
  ['BoolIfExists', 'false', undefined, true],
  ['BinaryEquals', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', true],
  ['BinaryEquals', 'QQ==', 'QQ', true],
  ['BinaryEquals', 'QQ==', 'Qg==', false],
  ['BinaryEquals', 'QQ==', 'not base64!', false],
  ['BinaryEquals', 'QQ==', undefined, false],
]);

table('IP address operators', [
  ['IpAddress', '203.0.113.0/24', '203.0.113.7', true],
  ['IpAddress', '203.0.113.0/24', '203.0.114.7', false],
  ['IpAddress', '203.0.113.5', '203.0.113.5', true],
  ['IpAddress', '203.0.113.5', '203.0.113.6', false],
  ['IpAddress', '203.0.113.5/24', '203.0.113.200', true],
  ['IpAddress', '0.0.0.0/0', '198.51.100.1', true],
  ['IpAddress', '10.0.0.0/9', '10.127.255.255', true],
  ['IpAddress', '10.0.0.0/9', '10.128.0.0', false],
  ['IpAddress', ['203.0.113.0/24', '2001:DB8:1234:5678::/64'], '2001:db8:1234:5678:abcd::1', true],
  ['IpAddress', '2001:DB8:1234:5678::/64', '2001:db8:1234:5679::1', false],
  ['IpAddress', '2001:db8::/32', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
  ['IpAddress', '::1', '::1', true],
  ['IpAddress', '::/0', '203.0.113.1', false],
  ['IpAddress', '203.0.113.0/24', '::ffff:203.0.113.9', true],
  ['IpAddress', '203.0.113.0/24', 'not-an-ip', false],
  ['IpAddress', '203.0.113.0/24', undefined, false],
  ['NotIpAddress', '203.0.113.0/24', '198.51.100.1', true],
  ['NotIpAddress', '203.0.113.0/24', '203.0.113.1', false],
  ['NotIpAddress', ['10.0.0.0/8', '203.0.113.0/24'], '203.0.113.1', false],
  ['NotIpAddress', '203.0.113.0/24', 'not-an-ip', false],
  ['NotIpAddress', '203.0.113.0/24', undefined, true],
  ['IpAddressIfExists', '203.0.113.0/24', undefined, true],
]);

table('ARN operators', [
  ['ArnEquals', 'arn:aws:sns:us-east-1:111122223333:topic', 'arn:aws:sns:us-east-1:111122223333:topic', true],
  ['ArnEquals', 'arn:aws:sns:*:111122223333:*', 'arn:aws:sns:eu-west-1:111122223333:t', true],
  ['ArnLike', 'arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b', true],
  [
    'ArnLike',
    'arn:aws:someservice:*:111122223333:finance/*',
    'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt',
    false,
  ],
  ['ArnLike', 'arn:aws:iam::111122223333:role/?', 'arn:aws:iam::111122223333:role/r', true],
  ['ArnLike', 'arn:aws:iam::111122223333:role/*', 'not an arn', false],
  ['ArnLike', 'arn:aws:iam::111122223333:role/*', undefined, false],
  ['ArnNotEquals', 'arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:role/b', true],
  ['ArnNotLike', 'arn:aws:iam::111122223333:role/*', 'arn:aws:iam::111122223333:role/b', false],
  ['ArnNotLike', 'arn:aws:iam::111122223333:role/*', undefined, true],
  ['ArnLikeIfExists', 'arn:aws:iam::*:role/*', undefined, true],
]);

table('StringLike and ArnLike differ on colons', [
  [
    'StringLike',
    'arn:aws:someservice:*:111122223333:finance/*',
    'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt',
    true,
  ],
]);

table('Null', [
  ['Null', 'true', undefined, true],
  ['Null', 'true', 'x', false],
  ['Null', 'false', 'x', true],
  ['Null', 'false', undefined, false],
  ['Null', true, [], true],
  ['Null', ['true', 'false'], 'x', true],
]);

const TAGS = ['DataClass', 'Owner'];
table(
  'ForAllValues',
  [
    ['ForAllValues:StringEquals', TAGS, undefined, true],
    ['ForAllValues:StringEquals', TAGS, [], true],
    ['ForAllValues:StringEquals', TAGS, '', true],
    ['ForAllValues:StringEquals', TAGS, ['Owner'], true],
    ['ForAllValues:StringEquals', TAGS, ['Owner', 'DataClass'], true],
    ['ForAllValues:StringEquals', TAGS, ['Owner', 'Dept'], false],
    ['ForAllValues:StringLike', ['Post*', 'Message'], ['PostDateTime', 'Message'], true],
    ['ForAllValues:StringLike', ['Post*', 'Message'], ['PostDateTime', 'UserName'], false],
    ['ForAllValues:StringNotEquals', TAGS, undefined, true],
    ['ForAllValues:StringNotEquals', TAGS, ['DataClass', 'Owner'], false],
    ['ForAllValues:StringNotEquals', TAGS, ['DataClass', 'Dept'], false],
    ['ForAllValues:StringNotEquals', TAGS, ['Dept'], true],
    ['ForAllValues:StringNotEquals', TAGS, ['Dept', 'SIC'], true],
    ['ForAllValues:StringNotEquals', TAGS, ['Dept', 'SIC', 'DataClass'], false],
    ['ForAllValues:NumericLessThan', '10', ['1', '2'], true],
    ['ForAllValues:NumericLessThan', '10', ['1', '20'], false],
  ],
  'aws:TagKeys',
);

table(
  'ForAnyValue',
  [
    ['ForAnyValue:StringEquals', TAGS, undefined, false],
    ['ForAnyValue:StringEquals', TAGS, [], false],
    ['ForAnyValue:StringEquals', TAGS, '', false],
    ['ForAnyValue:StringEquals', TAGS, ['Dept', 'Owner'], true],
    ['ForAnyValue:StringEquals', TAGS, ['Dept'], false],
    ['ForAnyValue:StringEquals', TAGS, 'Owner', true],
    ['ForAnyValue:StringLike', ['ID', 'PostDateTime'], ['UserName', 'Message', 'PostDateTime'], true],
    ['ForAnyValue:StringNotEquals', TAGS, undefined, false],
    ['ForAnyValue:StringNotEquals', TAGS, ['DataClass', 'Owner'], false],
    ['ForAnyValue:StringNotEquals', TAGS, ['Dept', 'DataClass'], true],
    ['ForAnyValue:StringNotEquals', TAGS, ['Dept', 'SIC'], true],
    ['ForAnyValue:StringEqualsIfExists', TAGS, undefined, true],
    ['ForAnyValue:StringEqualsIfExists', TAGS, ['Dept'], false],
    ['ForAllValues:StringEqualsIfExists', TAGS, undefined, true],
  ],
  'aws:TagKeys',
);

describe('combining clauses', () => {
  const ctx = new ContextView({
    'AWS:SourceIp': '203.0.113.9',
    'aws:SecureTransport': 'true',
    's3:prefix': 'a/',
  });
  const ip = clause('IpAddress', 'aws:sourceip', '203.0.113.0/24');
  const tls = clause('Bool', 'aws:SecureTransport', 'true');
  const noTls = clause('Bool', 'aws:SecureTransport', 'false');
  const prefix = clause('StringLike', 's3:prefix', ['b/*', 'a/*']);
  it('keys are case-insensitive', () => assert.equal(conditionsHold([ip], ctx, true), true));
  it('ANDs operators and keys', () => {
    assert.equal(conditionsHold([ip, tls, prefix], ctx, true), true);
    assert.equal(conditionsHold([ip, noTls, prefix], ctx, true), false);
  });
  it('an empty block holds', () => assert.equal(conditionsHold([], ctx, true), true));
});

describe('variables in condition values', () => {
  const ctx = new ContextView({
    'aws:username': 'alice',
    'aws:PrincipalTag/team': 'blue',
    's3:prefix': 'home/alice/x',
  });
  const rows: [operator: string, value: string, key: string, variables: boolean, expected: boolean][] = [
    ['StringLike', 'home/${aws:username}/*', 's3:prefix', true, true],
    ['StringEquals', '${aws:principaltag/TEAM}', 'aws:PrincipalTag/team', true, true],
    ['StringEquals', 'blue', 'AWS:PRINCIPALTAG/TEAM', true, true],
    ['StringEquals', 'alice', 'aws:username', true, true],
    ['StringEquals', '${aws:nothing}', 'aws:username', true, false],
    ['StringNotEquals', '${aws:nothing}', 'aws:username', true, false],
    ['StringEquals', "${aws:nothing, 'alice'}", 'aws:username', true, true],
    ['StringLike', 'home/${*}', 's3:prefix', true, false],
    ['StringLike', 'home/${aws:username}/*', 's3:prefix', false, false],
    ['ArnLike', 'arn:aws:iam::111122223333:user/${aws:username}', 'aws:PrincipalArn', true, false],
  ];
  for (const [operator, value, key, variables, expected] of rows) {
    it(`${operator} ${value} on ${key} (variables ${variables}) → ${expected}`, () => {
      assert.equal(conditionsHold([clause(operator, key, value, variables)], ctx, variables), expected);
    });
  }
  it('Version 2008-10-17 compares ${…} literally', () => {
    const literal = new ContextView({ k: '${aws:username}' });
    assert.equal(
      conditionsHold([clause('StringEquals', 'k', '${aws:username}', false)], literal, false),
      true,
    );
  });
  it('ARN operators substitute variables', () => {
    const c = new ContextView({
      'aws:username': 'bob',
      'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/bob',
    });
    const arn = clause('ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::111122223333:user/${aws:username}');
    assert.equal(conditionsHold([arn], c, true), true);
  });
});

describe('clause validation', () => {
  const bad: [operator: string, values: unknown, message: RegExp][] = [
    ['StringEqual', 'x', /unknown condition operator "StringEqual"/],
    ['stringequals', 'x', /unknown condition operator/],
    ['ForSomeValues:StringEquals', 'x', /unknown condition operator/],
    ['NullIfExists', 'true', /Null takes no IfExists/],
    ['ForAnyValue:Null', 'true', /set qualifier/],
    ['StringEquals', [], /empty array/],
    ['StringEquals', { a: 1 }, /strings, numbers or booleans/],
    ['StringEquals', [['x']], /strings, numbers or booleans/],
    ['StringEquals', null, /strings, numbers or booleans/],
    ['NumericEquals', 'ten', /"ten" is not a number/],
    ['NumericEquals', '${aws:x}', /is not a number/],
    ['DateLessThan', '2024-02-30T00:00:00Z', /not an ISO 8601/],
    ['DateLessThan', 'tomorrow', /not an ISO 8601/],
    ['IpAddress', '300.0.0.1/8', /not an IPv4 or IPv6/],
    ['IpAddress', '10.0.0.0/33', /not an IPv4 or IPv6/],
    ['IpAddress', '2001:db8:::1', /not an IPv4 or IPv6/],
    ['Bool', 'yes', /not true or false/],
    ['Null', 'maybe', /not true or false/],
    ['BinaryEquals', '***', /not base64/],
  ];
  for (const [operator, values, message] of bad) {
    it(`${operator} ${JSON.stringify(values)} is rejected`, () => {
      assert.throws(() => clause(operator, 'k', values), message);
    });
  }
  it('accepts variables in Bool values (checked once resolved)', () => {
    assert.doesNotThrow(() => clause('Bool', 'k', '${aws:SecureTransport}'));
  });
  it('rejects a context with a key given twice in different case, or a bad value', () => {
    assert.throws(() => new ContextView({ a: 'x', A: 'y' }), TypeError);
    assert.throws(() => new ContextView({ a: { x: 1 } } as never), TypeError);
    assert.throws(() => new ContextView({ a: Number.NaN }), TypeError);
  });
});
