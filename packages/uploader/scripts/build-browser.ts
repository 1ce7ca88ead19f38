/**
 * Builds the browser bundles with esbuild and prints their sizes:
 *
 * ```sh
 * node --conditions=@hoist/source scripts/build-browser.ts [outDir]   # default dist/browser
 * ```
 *
 * - `hoist.js`: the engine for browsers (ESM). hash-wasm is reached only through a dynamic
 *   import (the main-thread fallback), so it lands in a separate lazily loaded chunk.
 * - `hoist-hash-worker.js`: the hash worker (classic script, hash-wasm inside).
 * - `hoist-uploader.js`: the `<hoist-uploader>` web component, from `src/index.ts`.
 * - `hoist-uppy.js` and `.css`: `hoist dev`'s /uppy page (the real Uppy Dashboard).
 *
 * The budget (core ≤ 15.25 KiB min+gzip, hash WASM excluded) is measured on a separate in-memory
 * build of the core entry with hash-wasm left external, so it holds whatever the chunking.
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type OutputFile } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
// The engine's modules come from @hoist/client, as sources with the repository's
// `@hoist/source` condition (node --conditions=@hoist/source), else from its built dist/.
const fromPackage = (specifier: string): string =>
  relative(ROOT, fileURLToPath(import.meta.resolve(specifier)));
const CORE_ENTRY = fromPackage('@hoist/client/browser');
const WORKER_ENTRY = fromPackage('@hoist/client/internal/browser/hash-worker');
const WEB_ENTRY = 'src/index.ts';
/** `hoist dev`'s /uppy page: the Uppy Dashboard (and its CSS, as hoist-uppy.css) against the broker. */
const UPPY_ENTRY = 'src/uppy-demo.ts';

/**
 * Core bundle budget in bytes of min+gzip, hash WASM excluded. 15 KiB until the engine was
 * split by job (issue 15): the split costs ~240 B after the savings found (the problem titles
 * table out of the bundle, a flat session); hashing parts from their Blob in the worker (no
 * second read of every byte on the page) and the protocol's shared option rules ~110 B more.
 * 15.75 KiB: small files as the broker's POST form (S3 enforces size, type and checksum), ~300 B.
 */
export const CORE_BUDGET_BYTES = 15.75 * 1024;

export interface BundleFile {
  /** Absolute path of the written file. */
  path: string;
  bytes: number;
  /** gzip level 9 of the minified output. */
  gzipBytes: number;
}

export interface BrowserBuild {
  outDir: string;
  /** Written .js files (source maps left out). */
  files: BundleFile[];
  /** The core entry, min+gzip with hash-wasm external: the number the budget is about. */
  core: { entry: string; bytes: number; gzipBytes: number; largestInputs: { path: string; bytes: number }[] };
}

const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  minify: true,
  platform: 'browser',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'silent',
  write: false,
  conditions: ['@hoist/source'],
};

const gzipSize = (contents: Uint8Array): number => gzipSync(contents, { level: 9 }).byteLength;
const present = (entry: string): boolean => existsSync(join(ROOT, entry));

async function emit(outputs: OutputFile[]): Promise<BundleFile[]> {
  const files: BundleFile[] = [];
  for (const output of outputs) {
    await mkdir(dirname(output.path), { recursive: true });
    await writeFile(output.path, output.contents);
    if (output.path.endsWith('.js')) {
      files.push({
        path: output.path,
        bytes: output.contents.byteLength,
        gzipBytes: gzipSize(output.contents),
      });
    }
  }
  return files;
}

// Earlier builds' hashed chunks would pile up; only our own output types are removed.
async function clean(outDir: string): Promise<void> {
  if (!existsSync(outDir)) return;
  for (const name of await readdir(outDir)) {
    if (/\.js(\.map)?$/.test(name)) await rm(join(outDir, name));
  }
}

/** Builds every browser bundle into `outDir` (created if missing) and measures the core. */
export async function buildBrowserBundles(
  outDir: string = join(ROOT, 'dist/browser'),
): Promise<BrowserBuild> {
  const out = resolve(outDir);
  await clean(out);
  const coreEntry = CORE_ENTRY;
  const modules = [{ in: coreEntry, out: 'hoist' }];
  if (present(WEB_ENTRY)) modules.push({ in: WEB_ENTRY, out: 'hoist-uploader' });
  if (present(UPPY_ENTRY)) modules.push({ in: UPPY_ENTRY, out: 'hoist-uppy' });

  const files: BundleFile[] = [];
  // One build per ESM entry: the uploader stays a single self-contained file, not a shared chunk.
  for (const entry of modules) {
    const result = await build({
      ...COMMON,
      entryPoints: [entry],
      outdir: out,
      format: 'esm',
      splitting: true,
      chunkNames: `${entry.out}-[name]-[hash]`,
      sourcemap: 'linked',
    });
    files.push(...(await emit(result.outputFiles!)));
  }
  const worker = await build({
    ...COMMON,
    entryPoints: [{ in: WORKER_ENTRY, out: 'hoist-hash-worker' }],
    outdir: out,
    format: 'iife',
    sourcemap: 'linked',
  });
  files.push(...(await emit(worker.outputFiles!)));

  // What a page loads up front: the entry and every chunk it imports statically (shared code),
  // but not the chunks it imports lazily (the main-thread hashing fallback); hash-wasm external.
  const measured = await build({
    ...COMMON,
    entryPoints: [coreEntry],
    outdir: join(out, 'measure'),
    format: 'esm',
    splitting: true,
    external: ['hash-wasm'],
    metafile: true,
  });
  const outputs = measured.metafile.outputs;
  const entryPath = Object.entries(outputs).find(([, output]) => output.entryPoint !== undefined)?.[0];
  if (!entryPath) throw new Error('build-browser: the core entry produced no output');
  const upFront = new Set<string>();
  const visit = (path: string) => {
    if (upFront.has(path) || !outputs[path]) return;
    upFront.add(path);
    for (const imported of outputs[path].imports)
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(entryPath);
  // Metafile paths are relative to ROOT ("../../tmp/…" for an outDir outside it).
  const loaded = [...upFront].map((path) => {
    const file = measured.outputFiles?.find((output) => output.path === resolve(ROOT, path));
    if (!file) throw new Error(`build-browser: no output file for ${path}`);
    return file.contents;
  });
  const contents = Buffer.concat(loaded);
  const inputs = Object.assign({}, ...[...upFront].map((path) => outputs[path]?.inputs ?? {})) as Record<
    string,
    { bytesInOutput: number }
  >;
  const largestInputs = Object.entries(inputs)
    .map(([path, input]) => ({ path, bytes: input.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
  return {
    outDir: out,
    files,
    core: {
      entry: coreEntry,
      bytes: contents.byteLength,
      // Each file is its own (gzipped) response: the sum of their sizes is what goes over the wire.
      gzipBytes: loaded.reduce((sum, file) => sum + gzipSize(file), 0),
      largestInputs,
    },
  };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** The size table printed by the script (and by tests, as a diagnostic). */
export function formatBuildReport(result: BrowserBuild): string {
  const name = (path: string): string => relative(result.outDir, path);
  const width = Math.max(...result.files.map((file) => name(file.path).length));
  const shown = relative(process.cwd(), result.outDir);
  const lines = [`${shown.startsWith('..') ? result.outDir : shown || '.'}:`];
  for (const file of result.files) {
    lines.push(
      `  ${name(file.path).padEnd(width)}  ${kib(file.bytes).padStart(9)}  min+gzip ${kib(file.gzipBytes).padStart(9)}`,
    );
  }
  const { core } = result;
  const verdict = core.gzipBytes <= CORE_BUDGET_BYTES ? 'within' : 'OVER';
  lines.push(
    `core (${core.entry}, hash-wasm excluded): ${kib(core.bytes)} min, ${kib(core.gzipBytes)} min+gzip ` +
      `(${core.gzipBytes} B; ${verdict} the ${kib(CORE_BUDGET_BYTES)} budget)`,
  );
  lines.push(
    `  largest inputs: ${core.largestInputs.map((input) => `${input.path} ${input.bytes} B`).join(', ')}`,
  );
  return lines.join('\n');
}

if (import.meta.main) {
  const result = await buildBrowserBundles(process.argv[2] ?? join(ROOT, 'dist/browser'));
  console.log(formatBuildReport(result));
}
