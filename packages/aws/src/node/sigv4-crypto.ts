import { createHash, createHmac } from 'node:crypto';
import type { SigV4Crypto } from '../sigv4/crypto.ts';

/** SigV4Crypto on node:crypto: synchronous work wrapped in resolved promises (server fast path). */
export const nodeSigV4Crypto: SigV4Crypto = {
  sha256Hex(data) {
    return Promise.resolve(createHash('sha256').update(data).digest('hex'));
  },
  hmac(key, data) {
    return Promise.resolve(createHmac('sha256', key).update(data, 'utf8').digest());
  },
};
