/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal `${…}` text. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePieces, matchCompiled, wildcardMatch } from './wildcard.ts';

describe('wildcardMatch', () => {
  const cases: [pattern: string, subject: string, expected: boolean][] = [
    ['', '', true],
    ['', 'a', false],
    ['*', '', true],
    ['*', 'anything at all', true],
    ['**', 'x', true],
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['abc', 'ab', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['???', 'abc', true],
    ['???', 'abcd', false],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ba', false],
    ['*c', 'abc', true],
    ['*c', 'cb', false],
    ['a*c', 'ac', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbcd', false],
    ['a*b*c', 'axbyc', true],
    ['a*b*c', 'acb', false],
    ['*log*', 'arn:aws:s3:::my-logs', true],
    ['*log*', 'arn:aws:s3:::mylgs', false],
    ['a*?c', 'abc', true],
    ['a*?c', 'ac', false],
    ['*ab?d*', 'xxabcabxdyy', true],
    ['*aab', 'aaab', true],
    ['*abab*x', 'ababaabababx', true],
    ['a*aab*b', 'aaabb', true],
    ['a*aab*b', 'aab', false],
    ['*?*?*', 'a', false],
    ['*?*?*', 'ab', true],
    ['home/${x}/*', 'home/${x}/f', true],
    ['Abc', 'abc', false],
    [`*${'x'.repeat(40)}?y*`, `zz${'x'.repeat(40)}qyzz`, true],
    [`*${'x'.repeat(40)}?y*`, `zz${'x'.repeat(39)}qyzz`, false],
    [`*?${'x'.repeat(31)}?*`, `a${'x'.repeat(31)}b`, true],
    [`*?${'x'.repeat(31)}?*`, `${'x'.repeat(32)}`, false],
  ];
  for (const [pattern, subject, expected] of cases) {
    it(`${JSON.stringify(pattern)} vs ${JSON.stringify(subject)} → ${expected}`, () => {
      assert.equal(wildcardMatch(pattern, subject), expected);
    });
  }

  it('ignores case when asked (actions)', () => {
    assert.equal(wildcardMatch('s3:get*', 'S3:GetObject', { ignoreCase: true }), true);
    assert.equal(wildcardMatch('S3:PUTOBJECT', 's3:PutObject', { ignoreCase: true }), true);
    assert.equal(wildcardMatch('s3:Get*', 's3:getobject'), false);
  });

  it('treats * and ? in literal pieces as ordinary characters', () => {
    const p = compilePieces([
      { text: 'a/', literal: false },
      { text: '*?', literal: true },
      { text: '/*', literal: false },
    ]);
    assert.equal(matchCompiled(p, 'a/*?/x'), true);
    assert.equal(matchCompiled(p, 'a/xy/x'), false);
  });

  it('agrees with a dynamic-programming reference on random cases', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const pick = (alphabet: string, max: number) =>
      Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join('');
    for (let n = 0; n < 3_000; n++) {
      const pattern = pick('ab*?', 9);
      const subject = pick('ab', 12);
      assert.equal(wildcardMatch(pattern, subject), reference(pattern, subject), `${pattern} vs ${subject}`);
    }
  });

  it('stays linear on pathological patterns', () => {
    const subject = 'a'.repeat(100_000);
    const star = `${'a*'.repeat(2_000)}b`;
    const question = `*${'a?'.repeat(500)}b`;
    assert.equal(wildcardMatch(star, subject), false);
    assert.equal(wildcardMatch(star, `${subject}b`), true);
    assert.equal(wildcardMatch(`*${'a'.repeat(1000)}b*`, subject), false);
    assert.equal(wildcardMatch(question, subject), false);
    assert.equal(wildcardMatch(`*${'a'.repeat(2_000)}?b*`, subject), false);
    assert.equal(wildcardMatch(`*${'a'.repeat(2_000)}?b*`, `${subject}xb`), true);
    // A backtracking matcher would not finish the first case; speed itself is not asserted here.
  });
});

function reference(p: string, s: string): boolean {
  // dp[j]: does p[0..i) match s[0..j)?
  let dp = Array.from({ length: s.length + 1 }, (_, j) => j === 0);
  for (const c of p) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    if (c === '*') next[0] = dp[0]!;
    for (let j = 1; j <= s.length; j++) {
      if (c === '*') next[j] = dp[j]! || next[j - 1]!;
      else next[j] = dp[j - 1]! && (c === '?' || c === s[j - 1]);
    }
    dp = next;
  }
  return dp[s.length]!;
}
