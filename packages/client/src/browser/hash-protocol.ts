/** Messages between the worker hasher (page) and its hash worker. */
import type { ChecksumAlgorithm } from '@hoist/protocol';

export interface HashRequest {
  id: number;
  algorithm: ChecksumAlgorithm;
  bytes: Uint8Array;
}

export type HashReply = { id: number; digest: string } | { id: number; error: string };
