import assert from 'node:assert/strict';
import { it } from 'node:test';
import { nodeSigV4Crypto } from '../node/sigv4-crypto.ts';
import { toHex, webSigV4Crypto } from './crypto.ts';
import { clearSigningKeyCache, deriveSigningKey, signingKeyCacheSize } from './signing-key.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
// AWS General Reference example: 20150830 / us-east-1 / iam.
const EXPECTED = 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9';

it('derives the documented signing key with both crypto implementations', async () => {
  clearSigningKeyCache();
  for (const crypto of [webSigV4Crypto, nodeSigV4Crypto]) {
    assert.equal(toHex(await deriveSigningKey(crypto, SECRET, '20150830', 'us-east-1', 'iam')), EXPECTED);
    clearSigningKeyCache();
  }
});

it('memoises, returns copies and stays bounded', async () => {
  clearSigningKeyCache();
  const first = await deriveSigningKey(nodeSigV4Crypto, SECRET, '20150830', 'us-east-1', 'iam');
  first.fill(0);
  const again = await deriveSigningKey(nodeSigV4Crypto, SECRET, '20150830', 'us-east-1', 'iam');
  assert.equal(toHex(again), EXPECTED);
  assert.equal(signingKeyCacheSize(), 1);
  for (let i = 0; i < 200; i++)
    await deriveSigningKey(nodeSigV4Crypto, `secret-${i}`, '20150830', 'us-east-1', 's3');
  assert.ok(signingKeyCacheSize() <= 64);
  clearSigningKeyCache();
  assert.equal(signingKeyCacheSize(), 0);
});
