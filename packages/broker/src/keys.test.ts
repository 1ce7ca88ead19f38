import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildObjectKey,
  contentDisposition,
  normalizePrefix,
  sanitizeFilename,
  userSegment,
} from './keys.ts';
import { buildSessionPolicy } from './session-policy.ts';

const UNSAFE = /[*?$\\/\u0000-\u001f\u007f]|[^\x20-\x7e]/;

const NASTY = [
  'résumé.PDF',
  'Größe über.txt',
  '视频.mp4',
  'evil\u202Egpj.exe',
  '../../x',
  '..\\..\\windows\\system32',
  '\x24{aws:username}.txt',
  '*',
  '?.?',
  'a\u0000b.txt',
  'x'.repeat(10 * 1024),
  `${'y'.repeat(10 * 1024)}.mkv`,
  '....',
  '.',
  '',
  '.bashrc',
  'name.averyveryverylongextension',
  'tab\tand\nnewline\r.csv',
  '😀😀.png',
  'ＡＢＣ.txt',
  'a   b.tar.gz',
];

test('sanitised names are plain, bounded, never empty', () => {
  for (const name of NASTY) {
    const out = sanitizeFilename(name);
    assert.ok(out.length > 0 && out.length <= 100, `${JSON.stringify(name)} -> ${out}`);
    assert.doesNotMatch(out, UNSAFE, `${JSON.stringify(name)} -> ${out}`);
    assert.match(out, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, `${JSON.stringify(name)} -> ${out}`);
    assert.doesNotMatch(out, /__|\.\.|[._-]$/);
  }
});

test('sanitised names: examples', () => {
  assert.equal(sanitizeFilename('résumé.PDF'), 'resume.pdf');
  assert.equal(sanitizeFilename('Größe über.txt'), 'Gro_e_uber.txt');
  assert.equal(sanitizeFilename('视频.mp4'), 'file.mp4');
  assert.equal(sanitizeFilename('evil\u202Egpj.exe'), 'evil_gpj.exe');
  assert.equal(sanitizeFilename('../../x'), 'x');
  assert.equal(sanitizeFilename('\x24{aws:username}.txt'), 'aws_username.txt');
  assert.equal(sanitizeFilename('*'), 'file');
  assert.equal(sanitizeFilename('a\u0000b.txt'), 'a_b.txt');
  assert.equal(sanitizeFilename('....'), 'file');
  assert.equal(sanitizeFilename(''), 'file');
  assert.equal(sanitizeFilename('.bashrc'), 'bashrc');
  assert.equal(sanitizeFilename('ＡＢＣ.txt'), 'ABC.txt');
  assert.equal(sanitizeFilename('a   b.tar.gz'), 'a_b.tar.gz');
  assert.equal(sanitizeFilename('name.averyveryverylongextension'), 'name.averyveryverylongextension');
  const long = sanitizeFilename(`${'y'.repeat(10 * 1024)}.MKV`);
  assert.equal(long.length, 100);
  assert.ok(long.endsWith('.mkv'));
});

test('user ids: safe ones kept, others encoded injectively', () => {
  assert.equal(userSegment('alice'), 'alice');
  assert.equal(userSegment('auth0|123'), 'auth0%7C123');
  assert.equal(userSegment('../x'), '%2E%2E%2Fx');
  assert.equal(userSegment('\x24{aws:username}'), '%24%7Baws%3Ausername%7D');
  assert.notEqual(userSegment('a|b'), userSegment('a_b'));
  assert.throws(() => userSegment(''), TypeError);
  assert.throws(() => userSegment('é'.repeat(200)), TypeError);
});

test('object keys: prefix/user/id/name and the one-object policy accepts every one', () => {
  assert.equal(
    buildObjectKey('uploads/', 'alice', 'AbC-_1', 'My Film.MP4'),
    'uploads/alice/AbC-_1/My_Film.mp4',
  );
  assert.equal(buildObjectKey('', 'bob', 'id1', 'x'), 'bob/id1/x');
  assert.throws(() => buildObjectKey('up*', 'alice', 'id', 'x'), /keyPrefix/);
  assert.throws(() => buildObjectKey('a/../b', 'alice', 'id', 'x'), /keyPrefix/);
  assert.throws(() => buildObjectKey('uploads', 'alice', 'id/..', 'x'), TypeError);
  for (const name of NASTY) {
    for (const user of ['alice', 'auth0|x', '\x24{aws:userid}', 'ü*?']) {
      const key = buildObjectKey('uploads', user, 'Zm9vYmFy', name);
      assert.ok(new TextEncoder().encode(key).length <= 1024);
      assert.doesNotMatch(key, /[*?$]/);
      buildSessionPolicy({ bucket: 'b', key });
    }
  }
});

test('normalizePrefix', () => {
  assert.equal(normalizePrefix('/a/b/'), 'a/b');
  assert.equal(normalizePrefix(''), '');
  assert.throws(() => normalizePrefix('a/$x'), TypeError);
});

test('Content-Disposition per RFC 6266 with an ASCII fallback', () => {
  assert.equal(
    contentDisposition('résumé final.pdf'),
    `attachment; filename="resume final.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.pdf`,
  );
  assert.equal(
    contentDisposition('a"b\\c\r\n.txt'),
    `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`,
  );
  assert.equal(
    contentDisposition('evil\u202Egpj.exe'),
    `attachment; filename="evilgpj.exe"; filename*=UTF-8''evilgpj.exe`,
  );
  assert.equal(
    contentDisposition("it's (1)*.txt"),
    `attachment; filename="it's (1)*.txt"; filename*=UTF-8''it%27s%20%281%29%2A.txt`,
  );
  assert.equal(
    contentDisposition('视频.mp4'),
    `attachment; filename="__.mp4"; filename*=UTF-8''%E8%A7%86%E9%A2%91.mp4`,
  );
  assert.match(contentDisposition(''), /filename="file"/);
  for (const name of NASTY) assert.match(contentDisposition(name), /^[\x20-\x7e]+$/);
});
