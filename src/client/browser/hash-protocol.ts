/** Messages between the worker hasher (page) and its hash worker. */
import type { ChecksumAlgorithm } from '../../protocol/checksum.ts';

export interface HashRequest {
  id: number;
  algorithm: ChecksumAlgorithm;
  bytes: Uint8Array;
}

export type HashReply = { id: number; digest: string } | { id: number; error: string };
