/** Messages between the worker hasher (page) and its hash worker. */
import type { DigestAlgorithm } from '@hoist/protocol';

export interface HashRequest {
  id: number;
  algorithm: DigestAlgorithm;
  bytes: Uint8Array;
}

export type HashReply = { id: number; digest: string } | { id: number; error: string };
