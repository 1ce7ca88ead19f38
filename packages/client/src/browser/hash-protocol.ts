/** Messages between the worker hasher (page) and its hash worker. */
import type { DigestAlgorithm } from '@hoist/protocol';

export interface HashRequest {
  id: number;
  algorithm: DigestAlgorithm;
  /** A File slice, or bytes wrapped in a Blob: the worker reads them itself. */
  blob: Blob;
}

/** `error` is the whole message; `unreadable`: the Blob could not be read (the file changed or is gone). */
export type HashReply = { id: number; digest: string } | { id: number; error: string; unreadable?: boolean };
