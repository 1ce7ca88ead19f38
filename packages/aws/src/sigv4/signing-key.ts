import { type SigV4Crypto, utf8Bytes } from './crypto.ts';

// Small LRU: a server sees few (key, day, region, service) combinations at once, and a
// bound keeps secrets of long-gone sessions from piling up in memory.
const MAX_ENTRIES = 64;
const cache = new Map<string, Uint8Array>();

/**
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"),
 * memoised in a bounded LRU. Returns a fresh copy each time.
 */
export async function deriveSigningKey(
  crypto: SigV4Crypto,
  secretAccessKey: string,
  yyyymmdd: string,
  region: string,
  service: string,
): Promise<Uint8Array> {
  const id = `${yyyymmdd}\n${region}\n${service}\n${secretAccessKey}`;
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit.slice();
  }
  const kDate = await crypto.hmac(utf8Bytes(`AWS4${secretAccessKey}`), yyyymmdd);
  const kRegion = await crypto.hmac(kDate, region);
  const kService = await crypto.hmac(kRegion, service);
  const kSigning = new Uint8Array(await crypto.hmac(kService, 'aws4_request'));
  cache.set(id, kSigning);
  if (cache.size > MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return kSigning.slice();
}

/** Drops every memoised signing key (tests, key rotation). */
export function clearSigningKeyCache(): void {
  cache.clear();
}

/** Current number of memoised keys (for tests of the bound). */
export function signingKeyCacheSize(): number {
  return cache.size;
}
