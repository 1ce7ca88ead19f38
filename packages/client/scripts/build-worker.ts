/**
 * Bundles the hash worker (hash-wasm inside) next to the built browser entry, as the classic
 * script `dist/browser/hoist-hash-worker.js` that `createWorkerHasher` loads by default
 * (`new URL('./hoist-hash-worker.js', import.meta.url)`, which bundlers copy as an asset):
 *
 * ```sh
 * node scripts/build-worker.ts   # after tsc -b
 * ```
 * @module
 */
import { resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');

await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/browser/hash-worker.ts'],
  outfile: 'dist/browser/hoist-hash-worker.js',
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
