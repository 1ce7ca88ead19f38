/**
 * The hash worker's script (bundled to dist/browser/hoist-hash-worker.js): digests the parts
 * the page posts, with the same hasher the main thread would use.
 * @module
 */
import { createPartHasher } from '../checksum.ts';
import type { HashReply, HashRequest } from './hash-protocol.ts';

const hasher = createPartHasher();

globalThis.addEventListener('message', (event: MessageEvent<HashRequest>) => {
  const { id, algorithm, bytes } = event.data;
  hasher.digest(algorithm, bytes).then(
    (digest) => reply({ id, digest }),
    (error: unknown) => reply({ id, error: error instanceof Error ? error.message : String(error) }),
  );
});

function reply(message: HashReply): void {
  globalThis.postMessage(message);
}
