/**
 * The page's browser bundles (engine, hash worker, `<hoist-uploader>` once src/web has it),
 * built at start with the project's own build script, and the demo page from src/web.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BUILD_SCRIPT = join(ROOT, 'scripts', 'build-browser.ts');
/** The page `GET /` serves when it exists; it loads /assets/* and /config.json. */
export const DEMO_PAGE = join(ROOT, 'src', 'web', 'demo.html');
/** The page `GET /uppy` serves: the Uppy Dashboard against the broker (docs/uppy.md). */
export const UPPY_PAGE = join(ROOT, 'src', 'web', 'uppy.html');

export interface BuiltAssets {
  dir: string;
  /** File names that can be asked for under /assets/. */
  files: string[];
}

type BuildModule = {
  buildBrowserBundles(outDir: string): Promise<{ files: { path: string }[] }>;
};

/** Builds into `outDir`; throws with esbuild's message when the sources do not build. */
export async function buildAssets(outDir: string): Promise<BuiltAssets> {
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
