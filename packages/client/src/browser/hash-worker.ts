/**
 * The hash worker's script (bundled to dist/browser/hoist-hash-worker.js): digests the parts
 * the page posts, with the same hasher the main thread would use. File slices are read here,
 * so the page's thread never touches a part's bytes.
 * @module
 */
import { createPartHasher } from '../checksum.ts';
import { readBlob } from './blob-source.ts';
import type { HashReply, HashRequest } from './hash-protocol.ts';

const hasher = createPartHasher();

globalThis.addEventListener('message', async (event: MessageEvent<HashRequest>) => {
  const { id, algorithm, blob } = event.data;
  let bytes: Uint8Array;
  try {
    bytes = await readBlob(blob);
  } catch (error) {
    reply({ id, error: messageOf(error), unreadable: true });
    return;
  }
  hasher.digest(algorithm, bytes).then(
    (digest) => reply({ id, digest }),
    (error: unknown) => reply({ id, error: `Checksum failed in the hash worker: ${messageOf(error)}` }),
  );
});

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function reply(message: HashReply): void {
  globalThis.postMessage(message);
}
