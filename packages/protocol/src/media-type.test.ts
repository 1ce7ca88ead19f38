import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentTypeProblem, normalizeContentType, normalizeMediaRange } from './media-type.ts';

test('content types: type/subtype of token characters, parameters allowed, case kept apart', () => {
  for (const good of [
    'video/mp4',
    'Video/MP4',
    'text/plain; charset=utf-8',
    'video/mp4; codecs="avc1.42E01E, mp4a.40.2"',
    'application/vnd.api+json',
    'application/x-www-form-urlencoded',
    ' image/png ;q=1',
  ])
    assert.equal(contentTypeProblem(good), undefined, good);
  assert.equal(normalizeContentType(' Image/PNG ;q=1'), 'image/png');
  assert.equal(normalizeContentType('text/plain; charset=utf-8'), 'text/plain');
});

test('bad content types get one clear reason', () => {
  for (const bad of [
    '',
    'mp4',
    'video',
    'video/',
    '/mp4',
    'video/*',
    '*/*',
    'video/mp4 x',
    'text/plain\r\nx-evil: 1',
    'text/plain; \r\nx-evil: 1',
    'vidéo/mp4',
    `video/${'x'.repeat(250)}`,
    42,
    undefined,
  ]) {
    assert.equal(contentTypeProblem(bad), 'must be a media type such as video/mp4', String(bad));
    if (typeof bad === 'string' && bad.length < 255) assert.equal(normalizeContentType(bad), undefined, bad);
  }
});

test('media ranges for allow lists: exact, type/* and */*', () => {
  assert.equal(normalizeMediaRange('Video/*'), 'video/*');
  assert.equal(normalizeMediaRange('*/*'), '*/*');
  assert.equal(normalizeMediaRange('image/PNG'), 'image/png');
  assert.equal(normalizeMediaRange('text/plain; charset=utf-8'), 'text/plain');
  for (const bad of ['*', '*/png', 'video', 'vid eo/*', ''])
    assert.equal(normalizeMediaRange(bad), undefined, bad);
});
