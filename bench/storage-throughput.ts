/**
 * Measures the blob write path: 1 GiB in 64 KiB chunks through writeBlob
 * (coalesced writes + fdatasync + directory fsync) versus a plain
 * fs.createWriteStream followed by fdatasync; then the same two without any
 * sync, which shows the ingest speed into the page cache. Modes alternate
 * within each round and dirty pages are flushed (`sync`) before each run, so
 * a noisy disk hurts them alike.
 *
 *   npm run bench:storage -- [MiB=1024] [rounds=3]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCoalesced } from '@hoist/server/internal/storage/blob-writer';
import { openStorage } from '@hoist/server/internal/storage/index';

const CHUNK = 64 * 1024;
const totalMiB = Number(process.argv[2] ?? 1024);
const rounds = Number(process.argv[3] ?? 3);
const chunkCount = (totalMiB * 1024 * 1024) / CHUNK;
// A few distinct chunks, cycled: generating random bytes would dominate the measurement.
const pool = Array.from({ length: 16 }, () => randomBytes(CHUNK));

async function* source(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < chunkCount; i++) yield pool[i % pool.length]!;
}

async function viaWriteBlob(dir: string): Promise<void> {
  const storage = openStorage({ dataDir: join(dir, 'data') });
  try {
    await storage.writeBlob(source());
  } finally {
    storage.close();
  }
}

async function viaWriteStream(file: FileHandle): Promise<void> {
  const out = createWriteStream('', { fd: file.fd, autoClose: false });
  for await (const chunk of source()) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function onFile(
  dir: string,
  write: (file: FileHandle) => Promise<unknown>,
  sync: boolean,
): Promise<void> {
  const file = await open(join(dir, 'plain.bin'), 'w');
  try {
    await write(file);
    if (sync) await file.datasync();
  } finally {
    await file.close();
  }
}

const modes: [string, (dir: string) => Promise<void>][] = [
  ['storage.writeBlob (durable)', viaWriteBlob],
  ['createWriteStream + fdatasync', (dir) => onFile(dir, viaWriteStream, true)],
  [
    'coalesced writes, no sync',
    (dir) => onFile(dir, (file) => writeCoalesced(file, source(), Infinity), false),
  ],
  ['createWriteStream, no sync', (dir) => onFile(dir, viaWriteStream, false)],
];

const results = new Map<string, number[]>(modes.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of modes) {
    const dir = mkdtempSync(join(tmpdir(), 'hoist-throughput-'));
    try {
      execFileSync('sync');
      const started = performance.now();
      await run(dir);
      const seconds = (performance.now() - started) / 1000;
      results.get(name)!.push((totalMiB * 1024 * 1024) / 1e6 / seconds);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

console.log(`${totalMiB} MiB in ${CHUNK / 1024} KiB chunks, ${rounds} rounds (MB/s = 10^6 bytes/s)`);
for (const [name, values] of results) {
  const sorted = values.toSorted((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `${name.padEnd(32)} median ${median.toFixed(0).padStart(5)} MB/s   best ${sorted.at(-1)!.toFixed(0)}`,
  );
}
