/**
 * Builds the broker's AWS Lambda package: one esbuild bundle of `@hoist/broker/lambda` (the AWS
 * SDK included, so the function does not depend on the runtime's copy) zipped as `index.mjs`,
 * handler `index.handler`:
 *
 * ```sh
 * npm run build:lambda [-- outDir]   # default: the repository's dist/lambda: index.mjs, broker.zip
 * ```
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const ENTRY = fileURLToPath(import.meta.resolve('@hoist/broker/lambda'));
/** The Lambda runtime the template names. */
export const LAMBDA_TARGET = 'node22';

export interface LambdaBuild {
  bundle: string;
  zip: string;
  bundleBytes: number;
  zipBytes: number;
}

export async function buildLambda(outDir = join(ROOT, '..', '..', 'dist', 'lambda')): Promise<LambdaBuild> {
  await mkdir(outDir, { recursive: true });
  const bundle = join(outDir, 'index.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_TARGET,
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    // CommonJS dependencies call require() for Node built-ins: give the ESM bundle one.
    banner: {
      js: "import { createRequire as __hoistRequire } from 'node:module'; const require = __hoistRequire(import.meta.url);",
    },
    // Optional native add-ons of pg and friends: absent on Lambda, never loaded.
    external: ['pg-native'],
    conditions: ['@hoist/source'],
  });
  const code = await readFile(bundle);
  const zip = join(outDir, 'broker.zip');
  const archive = zipOne('index.mjs', code);
  await writeFile(zip, archive);
  return { bundle, zip, bundleBytes: code.length, zipBytes: archive.length };
}

/** A zip archive holding one deflated file (what Lambda needs; no dependency for it). */
export function zipOne(name: string, data: Buffer, date = new Date(Date.UTC(2020, 0, 1))): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const compressed = deflateRawSync(data, { level: 9 });
  const checksum = crc32(data);
  const dosTime = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1);
  const dosDate = ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0x0800, 6); // UTF-8 names
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt16LE(dosTime, 10);
  local.writeUInt16LE(dosDate, 12);
  local.writeUInt32LE(checksum, 14);
  local.writeUInt32LE(compressed.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(0x031e, 4); // made by: Unix, 3.0
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(dosTime, 12);
  central.writeUInt16LE(dosDate, 14);
  central.writeUInt32LE(checksum, 16);
  central.writeUInt32LE(compressed.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--
  central.writeUInt32LE(0, 42); // local header offset
  const centralOffset = local.length + nameBytes.length + compressed.length;
  const centralSize = central.length + nameBytes.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, compressed, central, nameBytes, end]);
}

if (import.meta.main) {
  const result = await buildLambda(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(
    `${result.bundle} ${(result.bundleBytes / 1024).toFixed(0)} KiB\n${result.zip} ${(result.zipBytes / 1024).toFixed(0)} KiB\n`,
  );
}
