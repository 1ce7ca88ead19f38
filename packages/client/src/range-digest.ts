/**
 * A part's digest as cheaply as the source and hasher allow: from the source's Blob when the
 * hasher reads Blobs itself (no bytes on the engine's thread), else from bytes read here, which
 * are returned only when they are what the engine sends (sources without `blob()`).
 */
import type { DigestAlgorithm } from '@hoist/protocol';
import type { PartHasher, UploadSource } from './types.ts';

export async function digestRange(
  source: UploadSource,
  hasher: PartHasher,
  algorithm: DigestAlgorithm,
  start: number,
  end: number,
): Promise<{ checksum: string; bytes?: Uint8Array | undefined }> {
  if (source.blob && hasher.digestBlob)
    return { checksum: await hasher.digestBlob(algorithm, source.blob(start, end)) };
  const bytes = await source.read(start, end);
  return { checksum: await hasher.digest(algorithm, bytes), bytes: source.blob ? undefined : bytes };
}
