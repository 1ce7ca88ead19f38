import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { type HashAlgorithm, HashPool, inlineHashSession } from './hash-pool.ts';
import { checksumBase64 } from './hasher.ts';

test('pooled sessions give the same digests as hashing inline, with several sessions interleaved', async (t) => {
  const pool = new HashPool(2);
  t.after(() => pool.close());
  const bodies = [
    randomBytes(0),
    randomBytes(1),
    randomBytes(3 * 1024 * 1024 + 5),
    randomBytes(9 * 1024 * 1024 + 77),
  ];
  const sessions = bodies.map(() => pool.open(['MD5', 'CRC32C', 'SHA256']));
  // Feed all sessions in small interleaved pieces, honouring backpressure.
  const offsets = bodies.map(() => 0);
  let remaining = true;
  while (remaining) {
    remaining = false;
    for (const [i, body] of bodies.entries()) {
      const offset = offsets[i] ?? 0;
      if (offset >= body.length) continue;
      remaining = true;
      const size = 1 + Math.floor(Math.random() * 200_000);
      const wait = sessions[i]?.update(body.subarray(offset, offset + size));
      if (wait) await wait;
      offsets[i] = offset + size;
    }
  }
  for (const [i, body] of bodies.entries()) {
    const digests = await sessions[i]!.digest();
    assert.equal(digests.get('MD5')?.toString('hex'), createHash('md5').update(body).digest('hex'));
    assert.equal(digests.get('SHA256')?.toString('hex'), createHash('sha256').update(body).digest('hex'));
    assert.equal(digests.get('CRC32C')?.toString('base64'), checksumBase64('CRC32C', body));
    const inline = inlineHashSession(['MD5']);
    inline.update(body);
    assert.deepEqual((await inline.digest()).get('MD5'), digests.get('MD5'));
  }
});

test('a session asks the caller to wait while its worker is behind, and an abandoned session does not block others', async (t) => {
  const pool = new HashPool(1);
  t.after(() => pool.close());
  const abandoned = pool.open(['MD5']);
  abandoned.update(randomBytes(2 * 1024 * 1024));
  abandoned.close();
  const session = pool.open(['SHA256']);
  const big = randomBytes(8 * 1024 * 1024);
  let waited = false;
  for (let offset = 0; offset < big.length; offset += 1024 * 1024) {
    const wait = session.update(big.subarray(offset, offset + 1024 * 1024));
    if (wait) {
      waited = true;
      await wait;
    }
  }
  assert.equal(waited, true, 'more than 4 MiB queued must ask the caller to wait');
  assert.equal(
    (await session.digest()).get('SHA256')?.toString('hex'),
    createHash('sha256').update(big).digest('hex'),
  );
});

test('a worker that fails rejects its sessions, and the pool starts a fresh one for the next', async (t) => {
  const pool = new HashPool(1);
  t.after(() => pool.close());
  // The worker throws on an algorithm it does not know, and exits.
  const broken = pool.open(['NOPE' as HashAlgorithm]);
  broken.update(randomBytes(1000));
  await assert.rejects(broken.digest());
  const data = randomBytes(3 * 1024 * 1024);
  const session = pool.open(['MD5']);
  await session.update(data);
  assert.equal(
    (await session.digest()).get('MD5')?.toString('hex'),
    createHash('md5').update(data).digest('hex'),
  );
});
