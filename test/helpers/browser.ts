/**
 * Browser test helpers: Debian's headless Chromium through playwright-core, a static server
 * for the built bundles, large seeded files made inside the page (never sent over CDP) with
 * the same bytes reproducible in Node, and screenshots kept as test artifacts.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { type BrowserContext, chromium, type JSHandle, type Page } from 'playwright-core';
import type { Hook } from './server.ts';
import { CHROMIUM, requireTool } from './tools.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS_DIR = join(ROOT, 'test-artifacts');

/**
 * A fresh headless Chromium with its own profile in a temporary directory, closed (and the
 * profile removed) after the test. Playwright refuses `--user-data-dir`, hence the persistent
 * context: that is how it takes a profile directory.
 */
export async function launchBrowser(t: Hook): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), 'hoist-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      // HOIST_CHROMIUM, else chromium on PATH; never a downloaded browser.
      executablePath: requireTool(CHROMIUM),
      headless: true,
      timeout: 60_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  return context;
}

export interface OpenedPage {
  page: Page;
  /** Uncaught exceptions and console errors of the page, for assertion messages. */
  errors: string[];
}

/** A new tab on `url`, recording what goes wrong in it. */
export async function openPage(context: BrowserContext, url: string): Promise<OpenedPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { page, errors };
}

export type StaticRoute =
  | { body: string | Uint8Array; type?: string }
  | ((req: IncomingMessage, res: ServerResponse) => void | Promise<void>);

export interface StaticServer {
  /** `http://127.0.0.1:port` (also the page origin for CORS rules). */
  origin: string;
  url(path?: string): string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * A node:http server on 127.0.0.1:0: `routes` by exact path first, then files under `dir`
 * (the bundles' output directory). Torn down after the test.
 */
export async function serveStatic(
  t: Hook,
  options: { dir?: string; routes?: Record<string, StaticRoute> },
): Promise<StaticServer> {
  const base = options.dir === undefined ? undefined : resolve(options.dir);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const route = options.routes?.[path];
      if (typeof route === 'function') return await route(req, res);
      let body: string | Uint8Array | undefined = route?.body;
      let type = route?.type ?? TYPES[extname(path)] ?? 'application/octet-stream';
      if (route && !route.type && extname(path) === '') type = TYPES['.html']!;
      if (body === undefined && base !== undefined) {
        const file = normalize(join(base, path));
        if (file.startsWith(base + sep)) body = await readFile(file).catch(() => undefined);
      }
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  server.unref();
  t.after(
    () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, url: (path = '/') => `${origin}${path}` };
}

/** Seeded content comes in chunks of this size, each generated independently. */
export const SEED_CHUNK_BYTES = 1024 * 1024;

/**
 * Fills `words` with chunk `chunk` of the seeded stream (xorshift32). Self-contained, because
 * its source text also runs in the page: the same bytes in Node and Chromium (both
 * little-endian here, as the byte view of the words is).
 */
export function seededFill(words: Uint32Array, seed: number, chunk: number): void {
  let x = (seed ^ Math.imul(chunk + 1, 0x9e3779b9)) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
}

function* seededChunks(seed: number, start: number, end: number): Generator<Uint8Array> {
  const words = new Uint32Array(SEED_CHUNK_BYTES / 4);
  const bytes = new Uint8Array(words.buffer);
  for (let chunk = Math.floor(start / SEED_CHUNK_BYTES); chunk * SEED_CHUNK_BYTES < end; chunk++) {
    seededFill(words, seed, chunk);
    const offset = chunk * SEED_CHUNK_BYTES;
    yield bytes.subarray(Math.max(start - offset, 0), Math.min(end - offset, SEED_CHUNK_BYTES));
  }
}

/** Bytes [start, end) of the seeded stream, in Node. */
export function seededBytes(seed: number, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let at = 0;
  for (const piece of seededChunks(seed, start, end)) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** Hex digest of the first `size` bytes of the seeded stream, in Node, without holding them all. */
export function seededDigest(seed: number, size: number, algorithm = 'sha256'): string {
  const hash = createHash(algorithm);
  for (const piece of seededChunks(seed, 0, size)) hash.update(piece);
  return hash.digest('hex');
}

export interface SeededFileOptions {
  seed: number;
  size: number;
  name?: string;
  type?: string;
  lastModified?: number;
}

/**
 * A File of `size` seeded bytes made inside the page (so 100 MiB never crosses CDP); its bytes
 * are `seededBytes(seed, 0, size)`. Pass the handle back into `page.evaluate` to use it.
 */
export async function makePageFile(page: Page, options: SeededFileOptions): Promise<JSHandle<File>> {
  const arg = {
    fill: seededFill.toString(),
    chunkBytes: SEED_CHUNK_BYTES,
    name: 'seeded.bin',
    type: 'application/octet-stream',
    lastModified: 1_700_000_000_000,
    ...options,
  };
  return page.evaluateHandle((a) => {
    const fill = new Function(`return (${a.fill})`)() as (
      w: Uint32Array,
      seed: number,
      chunk: number,
    ) => void;
    const parts: Uint8Array[] = [];
    for (let chunk = 0; chunk * a.chunkBytes < a.size; chunk++) {
      const words = new Uint32Array(a.chunkBytes / 4);
      fill(words, a.seed, chunk);
      parts.push(new Uint8Array(words.buffer, 0, Math.min(a.chunkBytes, a.size - chunk * a.chunkBytes)));
    }
    return new File(parts as BlobPart[], a.name, { type: a.type, lastModified: a.lastModified });
  }, arg);
}

/** Saves a full-page screenshot as test-artifacts/<name>.png (gitignored) and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
