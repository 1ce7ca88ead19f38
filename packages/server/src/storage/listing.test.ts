import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commonPrefix, compareUtf8, prefixSuccessor, walk } from './listing.ts';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('compareUtf8 orders like the UTF-8 bytes, unlike JS string comparison', () => {
  const keys = ['a', 'b', 'é', '中', '😀', 'Z', '~', '\uffff', '\ue000', 'a\u0000', '', 'ab', '\u{10ffff}'];
  for (const a of keys) {
    for (const b of keys)
      assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(byBytes(a, b)), `${a} vs ${b}`);
  }
  assert.ok('😀' < '\uffff', 'JS compares UTF-16 code units');
  assert.ok(compareUtf8('😀', '\uffff') > 0);
});

test('prefixSuccessor bounds exactly the strings starting with the prefix', () => {
  assert.equal(prefixSuccessor('abc'), 'abd');
  assert.equal(prefixSuccessor('a/'), 'a0');
  assert.equal(prefixSuccessor('a\u{10ffff}'), 'b');
  assert.equal(prefixSuccessor('\u{10ffff}'), undefined);
  assert.equal(prefixSuccessor(''), undefined);
  assert.equal(prefixSuccessor('x\ud7ff'), 'x\ue000');
  assert.equal(prefixSuccessor('x\uffff'), 'x\u{10000}');
  for (const prefix of ['a', 'é', '中', '😀', 'a%_', 'z\uffff']) {
    const upper = prefixSuccessor(prefix)!;
    for (const key of [
      prefix,
      `${prefix}\u0000`,
      `${prefix}\u{10ffff}\u{10ffff}`,
      `${prefix}~`,
      `${prefix}😀`,
    ]) {
      assert.ok(byBytes(key, upper) < 0, `${key} < ${upper}`);
    }
    assert.ok(!upper.startsWith(prefix));
    assert.ok(byBytes(upper, prefix) > 0);
  }
});

test('commonPrefix rolls up at the first delimiter after the prefix', () => {
  assert.equal(commonPrefix('a/b/c', '', '/'), 'a/');
  assert.equal(commonPrefix('a/b/c', 'a/', '/'), 'a/b/');
  assert.equal(commonPrefix('a/b', 'a/b', '/'), undefined);
  assert.equal(commonPrefix('x--y--z', '', '--'), 'x--');
  assert.equal(commonPrefix('a/b', '', ''), undefined);
});

/** The walk over a sorted in-memory key list, counting fetches. */
function memoryWalk(keys: string[], prefix: string, delimiter: string, after: string, limit: number) {
  const sorted = keys.toSorted(compareUtf8);
  let fetches = 0;
  const result = walk<string>({
    prefix,
    delimiter,
    after,
    limit,
    keyOf: (key) => key,
    fetch: (lower, upper, n) => {
      fetches++;
      let i = sorted.findIndex((key) => compareUtf8(key, lower) >= 0);
      const found: string[] = [];
      for (i = i < 0 ? sorted.length : i; i < sorted.length && found.length < n; i++) {
        if (upper !== undefined && compareUtf8(sorted[i]!, upper) >= 0) break;
        found.push(sorted[i]!);
      }
      return found;
    },
  });
  const entries = result.entries.map((entry) => entry.prefix ?? entry.row);
  return { entries, truncated: result.truncated, fetches };
}

/** The listing by definition: keys under `prefix`, rolled up, deduplicated, sorted, strictly after `after`. */
function reference(keys: string[], prefix: string, delimiter: string, after: string, limit: number) {
  const all = [
    ...new Set(
      keys.filter((key) => key.startsWith(prefix)).map((key) => commonPrefix(key, prefix, delimiter) ?? key),
    ),
  ]
    .filter((entry) => byBytes(entry, after) > 0)
    .sort(byBytes);
  return { entries: all.slice(0, limit), truncated: all.length > limit };
}

test('walk matches the reference listing on random keys, page after page', () => {
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = ['a', 'b', '/', '-', '%', '_', 'é', '😀', '\u0000', '~'];
  const keys = [
    ...new Set(
      Array.from({ length: 400 }, () =>
        Array.from({ length: 1 + random(6) }, () => alphabet[random(10)]).join(''),
      ),
    ),
  ];
  for (const prefix of ['', 'a', 'a/', '%', '_', 'é']) {
    for (const delimiter of ['', '/', '-/', '😀']) {
      const full = reference(keys, prefix, delimiter, '', 1e9).entries;
      for (const limit of [1, 7, 1000]) {
        let after = '';
        for (let position = 0; ; position += limit) {
          const got = memoryWalk(keys, prefix, delimiter, after, limit);
          assert.deepEqual(
            got.entries,
            full.slice(position, position + limit),
            JSON.stringify({ prefix, after }),
          );
          assert.equal(got.truncated, full.length > position + limit);
          if (!got.truncated) break;
          after = got.entries.at(-1)!;
        }
      }
      // Arbitrary bounds, not only entries returned before.
      for (let i = 0; i < 20; i++) {
        const after = i % 2 === 0 ? keys[random(keys.length)]! : alphabet[random(10)]!;
        assert.deepEqual(memoryWalk(keys, prefix, delimiter, after, 5), {
          ...reference(keys, prefix, delimiter, after, 5),
          fetches: memoryWalk(keys, prefix, delimiter, after, 5).fetches,
        });
      }
    }
  }
});

test('walk seeks past a common prefix instead of scanning its keys', () => {
  const keys = [...Array.from({ length: 10_000 }, (_, i) => `big/${i}`), 'a', 'c', 'big0'];
  const { entries, truncated, fetches } = memoryWalk(keys, '', '/', '', 1000);
  assert.deepEqual(entries, ['a', 'big/', 'big0', 'c']);
  assert.equal(truncated, false);
  assert.equal(fetches, 2);
});

test('an after inside or equal to a common prefix skips that prefix', () => {
  const keys = ['asdf', 'boo/bar', 'boo/baz/xyzzy', 'cquux/thud', 'cquux/bla'];
  assert.deepEqual(memoryWalk(keys, '', '/', 'boo/', 1).entries, ['cquux/']);
  assert.equal(memoryWalk(keys, '', '/', 'boo/', 1).truncated, false);
  assert.deepEqual(memoryWalk(keys, '', '/', 'boo/bar', 5).entries, ['cquux/']);
  assert.deepEqual(memoryWalk(keys, '', '/', 'boo', 5).entries, ['boo/', 'cquux/']);
  assert.deepEqual(memoryWalk(keys, 'boo/', '/', 'boo/bar', 5).entries, ['boo/baz/']);
});

test('limit 0 reports whether anything would be listed', () => {
  assert.deepEqual(memoryWalk(['a'], '', '', '', 0), { entries: [], truncated: true, fetches: 1 });
  assert.deepEqual(memoryWalk(['a'], 'b', '', '', 0), { entries: [], truncated: false, fetches: 1 });
});
