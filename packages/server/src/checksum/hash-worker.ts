/**
 * Worker thread that hashes request bodies off the event loop: MD5 alone runs at
 * about 0.5 GB/s here, which would otherwise cap every upload the main thread serves.
 * Protocol (one port, many sessions): open → data… → digest; each data is acked.
 */
import { parentPort } from 'node:worker_threads';
import type { ChecksumAlgorithm } from '@hoist/protocol';
import { createChecksumHasher, createMd5Hasher, type Hasher } from './hasher.ts';

export type HashAlgorithm = ChecksumAlgorithm | 'MD5';

export type HashRequest =
  | { type: 'open'; session: number; algorithms: HashAlgorithm[] }
  | { type: 'data'; session: number; bytes: ArrayBuffer; length: number }
  | { type: 'digest'; session: number }
  | { type: 'close'; session: number };

export type HashResponse =
  | { type: 'ack'; session: number; length: number; bytes: ArrayBuffer }
  | { type: 'digest'; session: number; digests: [HashAlgorithm, Uint8Array][] };

function hasherFor(algorithm: HashAlgorithm): Hasher {
  return algorithm === 'MD5' ? createMd5Hasher() : createChecksumHasher(algorithm);
}

const sessions = new Map<number, [HashAlgorithm, Hasher][]>();

parentPort?.on('message', (message: HashRequest) => {
  switch (message.type) {
    case 'open':
      sessions.set(
        message.session,
        message.algorithms.map((algorithm) => [algorithm, hasherFor(algorithm)]),
      );
      break;
    case 'data': {
      const view = new Uint8Array(message.bytes, 0, message.length);
      for (const [, hasher] of sessions.get(message.session) ?? []) hasher.update(view);
      // The buffer goes back to the pool for reuse: no allocation (and no GC) per MiB hashed.
      parentPort?.postMessage(
        {
          type: 'ack',
          session: message.session,
          length: message.length,
          bytes: message.bytes,
        } satisfies HashResponse,
        [message.bytes],
      );
      break;
    }
    case 'digest': {
      const hashers = sessions.get(message.session) ?? [];
      sessions.delete(message.session);
      const digests = hashers.map(([algorithm, hasher]): [HashAlgorithm, Uint8Array] => [
        algorithm,
        hasher.digest(),
      ]);
      parentPort?.postMessage({ type: 'digest', session: message.session, digests } satisfies HashResponse);
      break;
    }
    case 'close':
      sessions.delete(message.session);
      break;
  }
});
