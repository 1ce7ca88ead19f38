/**
 * Throughput of each hasher: 256 MiB in 1 MiB chunks, after a warm-up.
 * Run: `npm run bench:checksum`
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { ChecksumAlgorithm } from '@hoist/protocol';
import { createChecksumHasher, createMd5Hasher, type Hasher } from '@hoist/server/internal/checksum/hasher';

const CHUNK = 2 ** 20;
const CHUNKS = 256;
const chunk = randomBytes(CHUNK);

function run(create: () => Hasher, chunks: number): number {
  const hasher = create();
  const started = performance.now();
  for (let i = 0; i < chunks; i++) hasher.update(chunk);
  hasher.digest();
  return performance.now() - started;
}

const hashers: [string, () => Hasher][] = [
  ...(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA256'] as ChecksumAlgorithm[]).map(
    (algorithm): [string, () => Hasher] => [algorithm, () => createChecksumHasher(algorithm)],
  ),
  ['MD5', createMd5Hasher],
];

for (const [name, create] of hashers) {
  run(create, 16);
  const ms = run(create, CHUNKS);
  const mbps = (CHUNK * CHUNKS) / 1e6 / (ms / 1000);
  console.log(`${name.padEnd(10)} ${mbps.toFixed(0).padStart(6)} MB/s`);
}
