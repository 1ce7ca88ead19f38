/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal `${…}` text. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitArnPattern, substitute, substituteString } from './variables.ts';

const context: Record<string, string> = {
  'aws:username': 'alice',
  'aws:userid': 'AIDAEXAMPLE',
  'aws:principaltag/team': 'blue',
  'aws:sourceip': '192.0.2.1',
  'aws:currenttime': '2024-01-02T03:04:05Z',
  'aws:epochtime': '1704164645',
  's3:prefix': 'home/alice/',
  'custom:weird*name': 'x*y',
};
const lookup = (name: string) => context[name.toLowerCase()];

describe('policy variables', () => {
  const cases: [text: string, expected: string | undefined][] = [
    ['plain', 'plain'],
    ['home/${aws:username}/*', 'home/alice/*'],
    ['${AWS:UserName}', 'alice'],
    ['${aws:userid}', 'AIDAEXAMPLE'],
    ['team-${aws:PrincipalTag/team}', 'team-blue'],
    ['${aws:SourceIp}', '192.0.2.1'],
    ['${aws:CurrentTime}|${aws:EpochTime}', '2024-01-02T03:04:05Z|1704164645'],
    ['${s3:prefix}', 'home/alice/'],
    ['${aws:username}${aws:username}', 'alicealice'],
    ["${aws:username, 'anon'}", 'alice'],
    ["${aws:nothing, 'anonymous'}", 'anonymous'],
    ["${aws:nothing,'x y'}", 'x y'],
    ["${aws:nothing, ''}", ''],
    ['${aws:nothing}', undefined],
    ['a/${aws:nothing}/b', undefined],
    ['${*}${?}${$}', '*?$'],
    ['cost${$}${*}', 'cost$*'],
    ['no close ${aws:username', 'no close ${aws:username'],
    ['${}', undefined],
    ['${aws:nothing, anon}', undefined],
    ['$ {aws:username}', '$ {aws:username}'],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(substituteString(text, lookup), expected);
    });
  }

  it('marks substituted values and escapes as literal, the rest as pattern text', () => {
    assert.deepEqual(substitute('a*/${custom:weird*name}/${*}', lookup), [
      { text: 'a*/', literal: false },
      { text: 'x*y', literal: true },
      { text: '/', literal: false },
      { text: '*', literal: true },
    ]);
  });

  it('splits ARN patterns at five colons, skipping colons inside variables', () => {
    assert.deepEqual(splitArnPattern("arn:aws:s3:::b/${aws:username, 'a:b'}/*", true), [
      'arn',
      'aws',
      's3',
      '',
      '',
      "b/${aws:username, 'a:b'}/*",
    ]);
    assert.equal(splitArnPattern('arn:aws:s3::b', true), undefined);
    assert.equal(splitArnPattern('arn:aws:s3:${x:y}:b', true), undefined);
    assert.deepEqual(splitArnPattern('arn:aws:s3:${x:y}:b', false)?.length, 6);
  });
});
