/**
 * The page's browser bundles (engine, hash worker, `<hoist-uploader>`) and the demo page, both
 * from @hoist/uploader: built at start with its build script when the CLI runs from the
 * repository's sources (edits show on restart), else its prebuilt `dist/browser/`.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const UPLOADER_DIR = dirname(fileURLToPath(import.meta.resolve('@hoist/uploader/package.json')));
const BUILD_SCRIPT = join(UPLOADER_DIR, 'scripts', 'build-browser.ts');
const PREBUILT = join(UPLOADER_DIR, 'dist', 'browser');
/** The page `GET /` serves when it exists; it loads /assets/* and /config.json. */
export const DEMO_PAGE = fileURLToPath(import.meta.resolve('@hoist/uploader/demo.html'));
/** The page `GET /uppy` serves: the Uppy Dashboard against the broker (docs/uppy.md). */
export const UPPY_PAGE = fileURLToPath(import.meta.resolve('@hoist/uploader/uppy.html'));

export interface BuiltAssets {
  dir: string;
  /** File names that can be asked for under /assets/. */
  files: string[];
}

type BuildModule = {
  buildBrowserBundles(outDir: string): Promise<{ files: { path: string }[] }>;
};

/**
 * Builds into `outDir` when running from sources; throws with esbuild's message when they do
 * not build. Installed from npm, the prebuilt bundles are served as they are.
 */
export async function buildAssets(outDir: string): Promise<BuiltAssets> {
  if (!import.meta.url.endsWith('.ts') || !existsSync(BUILD_SCRIPT)) {
    if (!existsSync(PREBUILT)) throw new Error(`@hoist/uploader has no prebuilt bundles in ${PREBUILT}`);
    return { dir: PREBUILT, files: await listAssets(PREBUILT) };
  }
  // Loaded on use (a path, not a specifier): esbuild is a dev dependency of a development command.
  const build = (await import(pathToFileURL(BUILD_SCRIPT).href)) as BuildModule;
  await build.buildBrowserBundles(outDir);
  return { dir: resolve(outDir), files: await listAssets(resolve(outDir)) };
}

async function listAssets(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(isAssetName).sort();
}

/** A flat file name (no path, no dot file): all the build writes, and all a request may ask for. */
export function isAssetName(name: string): boolean {
  return /^[\w-][\w.-]*$/.test(name) && !name.includes('..');
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  map: 'application/json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
  wasm: 'application/wasm',
  svg: 'image/svg+xml',
  png: 'image/png',
};

export function contentTypeOf(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** The asset's bytes, or undefined when there is no such asset. */
export async function readAsset(assets: BuiltAssets, name: string): Promise<Buffer | undefined> {
  if (!isAssetName(name) || !assets.files.includes(name)) return undefined;
  return readFile(join(assets.dir, name));
}

/** The demo page's HTML, read on every request so edits show on reload; undefined until it exists. */
export async function readDemoPage(page: string = DEMO_PAGE): Promise<string | undefined> {
  if (!existsSync(page)) return undefined;
  return readFile(page, 'utf8');
}
