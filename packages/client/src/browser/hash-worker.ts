/**
 * The hash worker's script (bundled to dist/browser/hoist-hash-worker.js): digests the parts
 * the page posts, with the same hashes the main thread would use. File slices are read here,
 * so the page's thread never touches a part's bytes; CRCs and MD5 take them as they stream in,
 * without gathering a part into one buffer first.
 * @module
 */
import type { DigestAlgorithm } from '@hoist/protocol';
import { createPartHasher, createWasmHasher } from '../checksum.ts';
import { UploadError } from '../errors.ts';
import { readBlob } from './blob-source.ts';
import type { HashReply, HashRequest } from './hash-protocol.ts';

const hasher = createPartHasher();

globalThis.addEventListener('message', (event: MessageEvent<HashRequest>) => {
  const { id, algorithm, blob } = event.data;
  digestBlob(algorithm, blob).then(
    (digest) => reply({ id, digest }),
    (error: unknown) =>
      reply(
        error instanceof UploadError
          ? { id, error: error.message, unreadable: true }
          : { id, error: `Checksum failed in the hash worker: ${messageOf(error)}` },
      ),
  );
});

/** Rejects with UploadError('read-failed') when the Blob cannot be read whole. */
async function digestBlob(algorithm: DigestAlgorithm, blob: Blob): Promise<string> {
  // WebCrypto's SHA is native but not incremental: it gets the part whole.
  if (algorithm === 'SHA1' || algorithm === 'SHA256') return hasher.digest(algorithm, await readBlob(blob));
  const hash = (await createWasmHasher(algorithm)).init();
  let read = 0;
  try {
    const reader = blob.stream().getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      hash.update(chunk.value);
      read += chunk.value.byteLength;
    }
  } catch (cause) {
    // Chromium: NotReadableError/NotFoundError once the file on disk changed or is gone.
    throw new UploadError('read-failed', `Could not read the file: ${(cause as Error)?.name ?? cause}`, {
      cause,
    });
  }
  if (read !== blob.size)
    throw new UploadError(
      'read-failed',
      `The file is shorter than expected (read ${read} of ${blob.size} bytes)`,
    );
  return btoa(String.fromCharCode(...hash.digest('binary')));
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function reply(message: HashReply): void {
  globalThis.postMessage(message);
}
