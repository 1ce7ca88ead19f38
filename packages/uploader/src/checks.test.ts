import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UPLOAD_ERROR_CODES } from '@hoist/client/internal/errors';
import { checkFile, describeAccept, isAccepted, parseAccept } from './checks.ts';
import { explain } from './messages.ts';

describe('local checks', () => {
  const accept = parseAccept(' video/*, .MP4 ,image/png,');

  test('accept tokens: extensions, wildcards and exact types, case-insensitive', () => {
    assert.deepEqual(accept, ['video/*', '.mp4', 'image/png']);
    assert.equal(isAccepted({ name: 'clip.mov', type: 'video/quicktime' }, accept), true);
    assert.equal(isAccepted({ name: 'CLIP.MP4', type: '' }, accept), true);
    assert.equal(isAccepted({ name: 'a.png', type: 'image/png' }, accept), true);
    assert.equal(isAccepted({ name: 'a.jpg', type: 'image/jpeg' }, accept), false);
    assert.equal(isAccepted({ name: 'videos.txt', type: 'text/plain' }, accept), false);
    assert.equal(isAccepted({ name: 'anything', type: '' }, []), true);
  });

  test('size first, then type; nothing to say about a file that may go', () => {
    const rules = { maxSize: 10 * 1024 * 1024, accept };
    assert.deepEqual(checkFile({ name: 'big.mp4', type: 'video/mp4', size: 12 * 1024 * 1024 }, rules), {
      code: 'too-large',
      message: 'This file is too large: 12.6 MB, and the limit is 10.5 MB.',
    });
    assert.equal(checkFile({ name: 'n.txt', type: 'text/plain', size: 1 }, rules)?.code, 'unsupported-type');
    assert.equal(checkFile({ name: 'ok.mp4', type: 'video/mp4', size: 10 * 1024 * 1024 }, rules), undefined);
    assert.equal(
      checkFile({ name: 'x', type: '', size: 1e12 }, { maxSize: undefined, accept: [] }),
      undefined,
    );
  });

  test('the hint names what is accepted', () => {
    assert.equal(describeAccept(accept), 'video files, .mp4 files, image/png');
  });
});

describe('error messages', () => {
  test('every engine code has plain words', () => {
    for (const code of UPLOAD_ERROR_CODES) {
      const { text } = explain(code, 'create upload: something');
      assert.ok(text.length > 10 && !text.includes('undefined'), `${code}: ${text}`);
    }
  });

  test('what the user can do: sign in, retry, or pick the right file', () => {
    assert.deepEqual(explain('unauthorized', 'x'), {
      text: 'Your session has expired — sign in again, then retry.',
      retry: true,
    });
    assert.equal(explain('network', 'x').retry, true);
    assert.match(explain('stalled', 'x').text, /^Connection lost/);
    assert.match(explain('resume-mismatch', 'x').text, /^That's a different file/);
    assert.match(explain('etag-not-exposed', 'x').text, /expose the ETag header/);
    assert.equal(explain('etag-not-exposed', 'x').retry, false);
    assert.deepEqual(
      explain('too-large', 'create upload: the file is 300 bytes; the largest allowed is 200 bytes'),
      {
        text: 'This file is too large for this site. The file is 300 bytes; the largest allowed is 200 bytes.',
        retry: false,
      },
    );
    assert.deepEqual(explain('s3-error', 'UploadPart 3: InternalError'), {
      text: 'The upload failed — retry to continue. (InternalError.)',
      retry: true,
    });
  });
});
