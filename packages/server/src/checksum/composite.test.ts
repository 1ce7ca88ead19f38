import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { compositeChecksum, multipartEtag } from './composite.ts';
import { crc32 } from './crc32.ts';
import { crc32c } from './crc32c.ts';
import { crc64nvme } from './crc64nvme.ts';

const parts = [randomBytes(1000), randomBytes(2000), randomBytes(17)];

describe('compositeChecksum', () => {
  test('SHA256: sha256 of the concatenated part digests, then -N', () => {
    const digests = parts.map((p) => createHash('sha256').update(p).digest());
    const expected = createHash('sha256').update(Buffer.concat(digests)).digest('base64');
    assert.equal(compositeChecksum('SHA256', digests), `${expected}-3`);
  });

  test('SHA1 with a single part is still "-1"', () => {
    const digest = createHash('sha1').update(parts[0]!).digest();
    const expected = createHash('sha1').update(digest).digest('base64');
    assert.equal(compositeChecksum('SHA1', [digest]), `${expected}-1`);
  });

  test('CRC32C: crc32c of the concatenated big-endian part CRCs', () => {
    const digests = parts.map((p) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32c(p));
      return b;
    });
    const outer = Buffer.alloc(4);
    outer.writeUInt32BE(crc32c(Buffer.concat(digests)));
    assert.equal(compositeChecksum('CRC32C', digests), `${outer.toString('base64')}-3`);
  });

  test('CRC64NVME: crc64nvme of the concatenated part CRCs', () => {
    const digests = parts.map((p) => crc64nvme(p));
    const expected = crc64nvme(Buffer.concat(digests)).toString('base64');
    assert.equal(compositeChecksum('CRC64NVME', digests), `${expected}-3`);
  });

  test('values computed elsewhere (Python hashlib and zlib)', () => {
    const sha = ['part one', 'part two'].map((p) => createHash('sha256').update(p).digest());
    assert.equal(compositeChecksum('SHA256', sha), 'ZcfzJvHWAX9vO7fPKA9XUU5dtZ+mmrAFxgKDQljlC2k=-2');
    const crc = [Buffer.alloc(4), Buffer.alloc(4)];
    crc[0]!.writeUInt32BE(crc32(Buffer.from('part one')));
    crc[1]!.writeUInt32BE(crc32(Buffer.from('part two')));
    assert.equal(compositeChecksum('CRC32', crc), 'FZJWqg==-2');
  });

  test('rejects no parts and digests of the wrong length', () => {
    assert.throws(() => compositeChecksum('CRC32', []), { name: 'TypeError', message: /partDigests/ });
    assert.throws(() => compositeChecksum('CRC32', [Buffer.alloc(4), Buffer.alloc(8)]), {
      name: 'TypeError',
      message: /partDigests\[1\]/,
    });
    assert.throws(() => compositeChecksum('SHA256', [Buffer.alloc(20)]), { name: 'TypeError' });
  });
});

describe('multipartEtag', () => {
  test('quoted hex md5 of the concatenated part md5 digests, then -N', () => {
    const digests = parts.map((p) => createHash('md5').update(p).digest());
    const expected = createHash('md5').update(Buffer.concat(digests)).digest('hex');
    assert.equal(multipartEtag(digests), `"${expected}-3"`);
    assert.match(multipartEtag(digests), /^"[0-9a-f]{32}-3"$/);
  });

  test('a value computed elsewhere (Python hashlib)', () => {
    const digests = ['a', 'b'].map((p) => createHash('md5').update(p).digest());
    assert.equal(multipartEtag(digests), '"96e024ba2074fe77e8e965ba43a704be-2"');
  });

  test('rejects no parts and non-MD5 digests', () => {
    assert.throws(() => multipartEtag([]), { name: 'TypeError', message: /partMd5Digests/ });
    assert.throws(() => multipartEtag([Buffer.alloc(20)]), {
      name: 'TypeError',
      message: /partMd5Digests\[0\]/,
    });
  });
});
