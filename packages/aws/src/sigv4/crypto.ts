/**
 * The two primitives SigV4 needs, injected so the same code runs on WebCrypto (browsers,
 * workers) and on node:crypto (the server's synchronous fast path).
 */
export interface SigV4Crypto {
  /** Lowercase hex SHA-256 of the bytes (a string is hashed as UTF-8). */
  sha256Hex(data: Uint8Array | string): Promise<string>;
  /** HMAC-SHA256 of the UTF-8 `data` under `key`. */
  hmac(key: Uint8Array, data: string): Promise<Uint8Array>;
}

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Lowercase hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

/** Bytes of an even-length hex string; throws a TypeError on anything else. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('fromHex: not a hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new TypeError('webSigV4Crypto: globalThis.crypto.subtle is not available (secure context?)');
  return s;
}

// WebCrypto's BufferSource excludes SharedArrayBuffer views; ours are always plain.
const plain = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>;

/** SigV4Crypto on `globalThis.crypto.subtle`. */
export const webSigV4Crypto: SigV4Crypto = {
  async sha256Hex(data) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    return toHex(new Uint8Array(await subtle().digest('SHA-256', plain(bytes))));
  },
  async hmac(key, data) {
    const cryptoKey = await subtle().importKey('raw', plain(key), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    return new Uint8Array(await subtle().sign('HMAC', cryptoKey, encoder.encode(data)));
  },
};
