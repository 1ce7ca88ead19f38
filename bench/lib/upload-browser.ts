/**
 * The browser rows of `npm run bench:upload` (an UploadBenchExtension): the benchmark's file
 * uploaded by the engine's browser bundle in headless Chromium to Hoist's local S3 server
 * through a real broker (sts mode), next to Chromium's own speed reading the same File (every
 * part-size slice through Blob.slice().arrayBuffer(), as many in flight as the engine sends)
 * and uploading the same File slices with plain XHR and plain fetch() PUTs (the engine's budget
 * is against the faster of the two), and the core bundle's size (min+gzip) against its budget.
 *
 * The page gets the file through an <input type=file>: Playwright hands a local Chromium the
 * path, so the File is disk-backed like a user's pick, and no byte crosses CDP. The S3 server
 * runs in its own process (its CPU is reported); the broker and the static server run in this
 * one, idle otherwise. The client's CPU and peak RSS are Chromium's: every process of its tree.
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutBucketCorsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { parseSize } from '@hoist/broker/internal/config';
import { createLogger } from '@hoist/broker/internal/log';
import { startBroker } from '@hoist/broker/internal/node';
import type * as Browser from '@hoist/client/browser';
import { pino } from 'pino';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildBrowserBundles, CORE_BUDGET_BYTES } from '../../packages/uploader/scripts/build-browser.ts';
import { serveStatic } from '../../test/helpers/browser.ts';
import type { Hook } from '../../test/helpers/server.ts';
import { CHROMIUM, requireTool } from '../../test/helpers/tools.ts';
import { BUCKET, benchBrokerConfig, ROOT_CREDENTIALS, USERS } from './broker-fixture.ts';
import { positiveInt, requireNode24 } from './cli.ts';
import { cpuTimes, peakRssMiB, resetPeakRss } from './proc.ts';
import { BenchResources } from './resources.ts';
import { timeoutMs } from './upload-cases.ts';
import type { UploadBenchContext } from './upload-extension.ts';
import {
  type Budget,
  type Row,
  renderBudgets,
  renderSection,
  type Sample,
  type Section,
  summarize,
} from './upload-report.ts';
import { deleteStored, type ServerWorld, startReadyChild, storedSize } from './upload-world.ts';

const PAGE =
  '<!doctype html><meta charset=utf-8><title>hoist bench</title><input type=file>' +
  "<script type=module>import * as hoist from '/hoist.js'; window.hoist = hoist;</script>";

const READ_ROW = "Chromium's own File read";
const XHR_ROW = 'plain XHR PUTs of File slices';
const FETCH_ROW = 'plain fetch() PUTs of File slices';
/** Budgets against the better of the two plain uploads in the same run (issue 16). */
const ENGINE_VS_PLAIN = 0.9;
const ENGINE_CPU_VS_PLAIN = 1.5;
const ENGINE_ROW = 'Hoist engine (browser bundle)';

type PageWindow = { hoist: typeof Browser };

/** What one timed run in the page reports (seconds from the page's own clock). */
type PageResult = { ok: true; seconds: number; bytes: number; key?: string } | { ok: false; error: string };

// ---- Chromium's processes ----------------------------------------------------------------------

/** Pids of every process under the Chromium Playwright started from this process. */
function chromiumTree(): number[] {
  const children = new Map<number, { pid: number; name: string }[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push({ pid: Number(entry), name });
      children.set(ppid, list);
    } catch {
      // the process ended meanwhile
    }
  }
  // The S3 server child is Node: only Chromium's own subtree counts.
  const roots = (children.get(process.pid) ?? []).filter((c) => /chrom/i.test(c.name)).map((c) => c.pid);
  const tree: number[] = [];
  for (const queue = [...roots]; queue.length > 0; ) {
    const pid = queue.shift() as number;
    tree.push(pid);
    for (const child of children.get(pid) ?? []) queue.push(child.pid);
  }
  return tree;
}

/** Runs `fn` on each pid, skipping processes that ended meanwhile. */
function sumOver(pids: number[], fn: (pid: number) => number): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += fn(pid);
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

// ---- the world ------------------------------------------------------------------------------

async function allowOrigin(s3Url: string, origin: string): Promise<void> {
  const client = new S3Client({
    endpoint: s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...ROOT_CREDENTIALS },
  });
  try {
    await client.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [origin],
              AllowedMethods: ['PUT'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag'],
            },
          ],
        },
      }),
    );
  } finally {
    client.destroy();
  }
}

/** Headless Chromium with its profile inside the benchmark's work dir (removed with it, also on Ctrl-C). */
function launchChromium(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: requireTool(CHROMIUM),
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-sync',
    ],
  });
}

// ---- the timed runs in the page -----------------------------------------------------------------

/** Reads the picked file slice by slice, `concurrency` slices in flight. */
function readInPage(page: Page, partSize: number, concurrency: number): Promise<PageResult> {
  return page.evaluate(
    async ({ partSize, concurrency }): Promise<PageResult> => {
      const file = document.querySelector('input')?.files?.[0];
      if (!file) return { ok: false, error: 'no file picked' };
      let next = 0;
      let bytes = 0;
      const worker = async (): Promise<void> => {
        for (let start = next; start < file.size; start = next) {
          next += partSize;
          bytes += (await file.slice(start, start + partSize).arrayBuffer()).byteLength;
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      return { ok: true, seconds: (performance.now() - started) / 1000, bytes };
    },
    { partSize, concurrency },
  );
}

type PlainApi = 'xhr' | 'fetch';

/**
 * PUTs each part-size File slice to its presigned URL with XHR or fetch(), `concurrency` in
 * flight; ETags back.
 */
function plainInPage(page: Page, urls: string[], partSize: number, concurrency: number, api: PlainApi) {
  return page.evaluate(
    async ({ urls, partSize, concurrency, api }): Promise<PageResult & { etags?: string[] }> => {
      const file = document.querySelector('input')?.files?.[0];
      if (!file) return { ok: false, error: 'no file picked' };
      const etags: string[] = [];
      let next = 0;
      const viaFetch = async (index: number) => {
        const response = await fetch(urls[index] as string, {
          method: 'PUT',
          body: file.slice(index * partSize, (index + 1) * partSize),
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`part ${index + 1}: HTTP ${response.status}`);
        etags[index] = response.headers.get('etag') ?? '';
      };
      const put = (index: number) =>
        api === 'fetch'
          ? viaFetch(index)
          : new Promise<void>((resolve, reject) => {
              const xhr = new XMLHttpRequest();
              xhr.open('PUT', urls[index] as string);
              xhr.onload = () => {
                etags[index] = xhr.getResponseHeader('etag') ?? '';
                if (xhr.status === 200) resolve();
                else reject(new Error(`part ${index + 1}: HTTP ${xhr.status}`));
              };
              xhr.onerror = () => reject(new Error(`part ${index + 1}: network error`));
              xhr.send(file.slice(index * partSize, (index + 1) * partSize));
            });
      const worker = async (): Promise<void> => {
        for (let index = next++; index < urls.length; index = next++) await put(index);
      };
      const started = performance.now();
      try {
        await Promise.all(Array.from({ length: concurrency }, worker));
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
      return { ok: true, seconds: (performance.now() - started) / 1000, bytes: file.size, etags };
    },
    { urls, partSize, concurrency, api },
  );
}

/** A ceiling row: a multipart upload with root credentials, parts PUT from the page, no checksums. */
async function plainUpload(
  page: Page,
  world: ServerWorld,
  size: number,
  partSize: number,
  concurrency: number,
  api: PlainApi,
): Promise<PageResult> {
  const client = new S3Client({
    endpoint: world.s3.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...ROOT_CREDENTIALS },
  });
  try {
    const key = `bench/${api}-${Date.now()}.bin`;
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const count = Math.max(1, Math.ceil(size / partSize));
    const urls = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        getSignedUrl(
          client,
          new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1 }),
          {
            expiresIn: 3600,
          },
        ),
      ),
    );
    const result = await plainInPage(page, urls, partSize, concurrency, api);
    if (!result.ok || !result.etags) return result;
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: result.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    return { ok: true, seconds: result.seconds, bytes: result.bytes, key };
  } finally {
    client.destroy();
  }
}

/** Uploads the picked file with the engine's defaults (CRC32C hashed in workers, IndexedDB resume state). */
function uploadInPage(
  page: Page,
  job: { brokerUrl: string; token: string; concurrency: number },
): Promise<PageResult> {
  return page.evaluate(async (job): Promise<PageResult> => {
    const file = document.querySelector('input')?.files?.[0];
    if (!file) return { ok: false, error: 'no file picked' };
    const upload = (window as unknown as PageWindow).hoist.createBrowserUpload(file, job);
    let confirmed = 0;
    upload.on('progress', (progress) => {
      confirmed = progress.confirmedBytes;
    });
    const started = performance.now();
    try {
      const view = await upload.start();
      const seconds = (performance.now() - started) / 1000;
      if (confirmed !== file.size)
        return { ok: false, error: `progress ended at ${confirmed} of ${file.size} bytes` };
      return { ok: true, seconds, bytes: view.size, key: view.key };
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      return { ok: false, error: `${code ?? 'error'}: ${message}` };
    }
  }, job);
}

/** One measured run: Chromium's CPU and peak RSS around `work`, the S3 server's CPU if given. */
async function measured(
  work: () => Promise<PageResult>,
  limitMs: number,
  serverPid: number | undefined,
): Promise<Sample & { key?: string | undefined }> {
  const pids = chromiumTree();
  for (const pid of pids) resetPeakRss(pid);
  const cpu = () => sumOver(pids, (pid) => cpuTimes(pid).total);
  const cpuBefore = cpu();
  const serverBefore = serverPid === undefined ? 0 : cpuTimes(serverPid).total;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result after ${limitMs / 1000} s`)), limitMs);
  });
  try {
    const result = await Promise.race([work(), timeout]);
    if (!result.ok) throw new Error(result.error);
    return {
      seconds: result.seconds,
      cpuSeconds: cpu() - cpuBefore,
      peakRssMiB: sumOver(pids, peakRssMiB),
      ...(serverPid === undefined ? {} : { serverCpuSeconds: cpuTimes(serverPid).total - serverBefore }),
      key: result.key,
    };
  } finally {
    clearTimeout(timer);
  }
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** The engine against the faster plain upload of the same run: speed and Chromium CPU per GiB. */
function enginePlainBudgets(engine: Row, plain: Row[]): Budget[] {
  const e = summarize(engine);
  const best = plain
    .map((row) => ({ row, s: summarize(row) }))
    .filter((x) => x.s !== undefined)
    .sort((a, b) => (b.s?.mbps ?? 0) - (a.s?.mbps ?? 0))[0];
  const b = best?.s;
  const name = best?.row.client ?? 'the best plain upload';
  return [
    {
      what: `browser engine ≥ ${ENGINE_VS_PLAIN}× the best plain upload`,
      pass: e && b ? e.mbps >= ENGINE_VS_PLAIN * b.mbps : undefined,
      detail:
        e && b
          ? `${(e.mbps / b.mbps).toFixed(2)}× (${e.mbps.toFixed(0)} vs ${b.mbps.toFixed(0)} MB/s, ${name})`
          : 'not measured',
    },
    {
      what: `browser engine Chromium CPU/GiB ≤ ${ENGINE_CPU_VS_PLAIN}× the best plain upload's`,
      pass: e && b ? e.cpuPerGiB <= ENGINE_CPU_VS_PLAIN * b.cpuPerGiB : undefined,
      detail:
        e && b
          ? `${(e.cpuPerGiB / b.cpuPerGiB).toFixed(2)}× (${e.cpuPerGiB.toFixed(2)} vs ${b.cpuPerGiB.toFixed(2)} CPU-s/GiB)`
          : 'not measured',
    },
  ];
}

/** The extension's entry: `{ name: 'browser', run: measureBrowser }` in bench/upload.ts. */
export async function measureBrowser(
  context: UploadBenchContext,
): Promise<{ sections: Section[]; budgets: Budget[] }> {
  const closers: (() => unknown)[] = [];
  const hook: Hook = { after: (fn) => closers.push(fn) };
  const dir = join(context.workDir, 'browser');
  mkdirSync(dir, { recursive: true });
  const { size, partSize, concurrency, runs } = context;
  const read: Row = { client: READ_ROW, bytes: size, samples: [] };
  const xhr: Row = { client: XHR_ROW, bytes: size, samples: [], integrity: 'none' };
  const viaFetch: Row = { client: FETCH_ROW, bytes: size, samples: [], integrity: 'none' };
  const engine: Row = { client: ENGINE_ROW, bytes: size, samples: [], integrity: 'CRC32C header' };
  const notes: string[] = [];
  try {
    process.stdout.write('browser: building the bundles…');
    const build = await buildBrowserBundles(join(dir, 'dist'));
    const web = await serveStatic(hook, { dir: join(dir, 'dist'), routes: { '/': { body: PAGE } } });
    const s3 = await startReadyChild(context.resources, 's3 (browser)', [
      join(import.meta.dirname, 'broker-child.ts'),
      's3',
      join(dir, 's3'),
    ]);
    hook.after(() => {
      try {
        process.kill(s3.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    });
    await allowOrigin(s3.url, web.origin);
    const broker = await startBroker(
      {
        ...benchBrokerConfig('sts', s3.url, join(dir, 'registry.sqlite')),
        partSize,
        cors: { origins: [web.origin], allowAnyOrigin: false },
      },
      {
        logger: createLogger({
          level: 'info',
          destination: pino.destination({ dest: '/dev/null', sync: true }),
        }),
        sweeper: false,
      },
    );
    hook.after(() => broker.close());
    const world: ServerWorld = {
      s3,
      broker: { url: broker.url, pid: process.pid },
      bucket: BUCKET,
      credentials: ROOT_CREDENTIALS,
      token: USERS[0]!.token,
    };

    const browser = await launchChromium(join(dir, 'profile'));
    hook.after(() => browser.close());
    const page = await browser.newPage();
    await page.goto(web.url('/'));
    await page.locator('input[type=file]').setInputFiles(context.file);
    const agent = await page.evaluate(() => navigator.userAgent);
    notes.push(
      `${/HeadlessChrome\/[\d.]+/.exec(agent)?.[0] ?? agent}; the file picked through <input type=file> (disk-backed File).`,
      `File read: Blob.slice(${partSize / 2 ** 20} MiB).arrayBuffer(), ${concurrency} in flight, bytes dropped.`,
      `plain XHR / fetch(): File slices PUT to presigned UploadPart URLs (root credentials), ${concurrency} in flight, no checksums.`,
      'engine: createBrowserUpload defaults (XHR with upload progress, CRC32C of File slices read and hashed',
      'in Web Workers, IndexedDB resume state), the broker (sts mode, this process)',
      `picks ${partSize / 2 ** 20} MiB parts; ${concurrency} in flight; the S3 server in its own process.`,
      'CPU s/GiB and peak RSS: all Chromium processes (peak RSS = the sum of their high-water marks).',
    );

    const limit = timeoutMs(size);
    for (let run = 1; run <= runs; run++) {
      process.stdout.write(` run ${run}/${runs}:`);
      // Order alternates per run, so neither row always gets the colder start.
      const order = run % 2 === 1 ? [read, xhr, viaFetch, engine] : [engine, viaFetch, xhr, read];
      for (const row of order) {
        if (row.note) continue;
        process.stdout.write(
          row === read ? ' read' : row === xhr ? ' xhr' : row === viaFetch ? ' fetch' : ' upload',
        );
        try {
          if (row === read) {
            row.samples.push(await measured(() => readInPage(page, partSize, concurrency), limit, undefined));
            continue;
          }
          const job = { brokerUrl: broker.url, token: world.token, concurrency };
          const work =
            row === engine
              ? () => uploadInPage(page, job)
              : () => plainUpload(page, world, size, partSize, concurrency, row === xhr ? 'xhr' : 'fetch');
          const { key, ...sample } = await measured(work, limit, s3.pid);
          if (!key) throw new Error('the page returned no object key');
          const stored = await storedSize(world, key);
          await deleteStored(world, key);
          if (stored !== size) throw new Error(`the server stored ${stored} bytes, expected ${size}`);
          row.samples.push(sample);
        } catch (error) {
          row.note = `FAILED: ${(error as Error).message}`;
          process.stdout.write(' (FAILED)');
        }
      }
    }
    process.stdout.write('\n');

    const core = build.core;
    const bundle = build.files.find((file) => file.path.endsWith('/hoist.js'));
    notes.push(
      `Bundle: hoist.js ${bundle ? `${kib(bundle.bytes)} min, ${kib(bundle.gzipBytes)} min+gzip` : 'missing'}; ` +
        `core (${core.entry}, hash-wasm excluded) ${kib(core.gzipBytes)} min+gzip.`,
    );
    return {
      sections: [
        {
          title: `(d) ${kibOrMib(size)} in headless Chromium: the engine's browser bundle to Hoist's local S3 server — ${runs} run(s), medians`,
          rows: [read, xhr, viaFetch, engine],
          ratioTo: READ_ROW,
          notes,
        },
      ],
      budgets: [
        ...enginePlainBudgets(engine, [xhr, viaFetch]),
        {
          what: `engine core bundle ≤ ${kib(CORE_BUDGET_BYTES)} min+gzip (hash WASM excluded)`,
          pass: core.gzipBytes <= CORE_BUDGET_BYTES,
          detail: `${core.gzipBytes} B (${kib(core.gzipBytes)})`,
        },
      ],
    };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

const kibOrMib = (bytes: number): string =>
  bytes % 2 ** 30 === 0
    ? `${bytes / 2 ** 30} GiB`
    : bytes % 2 ** 20 === 0
      ? `${bytes / 2 ** 20} MiB`
      : `${bytes} B`;

/**
 * Standalone, for these rows alone:
 *
 *   node bench/lib/upload-browser.ts [--size 1GiB] [--runs 3] [--part-size 16MiB] [--concurrency 4]
 */
async function standalone(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      runs: { type: 'string' },
      'part-size': { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  requireNode24('upload-browser');
  const size = values.size === undefined ? 2 ** 30 : parseSize(values.size);
  const partSize = values['part-size'] === undefined ? 16 * 2 ** 20 : parseSize(values['part-size']);
  if (!size || !partSize) throw new Error('--size and --part-size take sizes such as 256MiB or 1GiB');
  const resources = new BenchResources();
  resources.stopOnInterrupt('the S3 server and Chromium');
  const workDir = mkdtempSync(join(tmpdir(), 'hoist-bench-browser-'));
  resources.workDir = workDir;
  try {
    const file = join(workDir, 'upload-bench.bin');
    const fd = openSync(file, 'w');
    const chunk = Buffer.allocUnsafe(16 * 2 ** 20);
    for (let written = 0; written < size; ) {
      const n = Math.min(chunk.length, size - written);
      written += writeSync(fd, randomFillSync(chunk, 0, n), 0, n);
    }
    closeSync(fd);
    const out = await measureBrowser({
      file,
      size,
      runs: positiveInt(values.runs, 3, '--runs'),
      partSize,
      concurrency: positiveInt(values.concurrency, 4, '--concurrency'),
      workDir,
      resources,
      sinkWorld: () => Promise.reject(new Error('no sink in the standalone browser rows')),
      engineToSink: undefined,
    });
    for (const section of out.sections) console.log(`\n${renderSection(section)}`);
    console.log(`\n${renderBudgets(out.budgets)}`);
  } finally {
    await resources.stopChildren();
    resources.removeWorkDir();
  }
}

if (import.meta.main) await standalone();
