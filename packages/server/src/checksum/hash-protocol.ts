/** What the event loop and a hash worker share: commands, replies and the layout of shared memory. */

import type { MessagePort } from 'node:worker_threads';
import type { ChecksumAlgorithm } from '@hoist/protocol';

export type HashAlgorithm = ChecksumAlgorithm | 'MD5';

/**
 * Shared counters of a session: byte totals modulo 2^32 (int32 arithmetic wraps safely;
 * ring sizes are powers of two, so positions stay consistent across the wrap).
 */
export const PUBLISHED = 0;
export const HASHED = 1;

export const HASH_WORKER = 'hoist-hash-worker';

export interface HashWorkerData {
  kind: typeof HASH_WORKER;
  /** Incremented (and notified) by the event loop whenever there is a command or new bytes. */
  doorbell: Int32Array;
  port: MessagePort;
}

export type HashRequest =
  | { type: 'open'; session: number; algorithms: HashAlgorithm[]; ring: Uint8Array; counters: Int32Array }
  | { type: 'digest'; session: number }
  | { type: 'close'; session: number };

export type HashResponse = { type: 'digest'; session: number; digests: [HashAlgorithm, Uint8Array][] };
