/**
 * `<hoist-uploader>` and the demo page end to end in headless Chromium: the page served with
 * the built bundles and a /config.json, a real broker in front of the real local S3 + STS
 * server, and a fault proxy between the browser and S3 that slows parts down (so an upload
 * can be paused, reloaded or cancelled midway) and logs which parts were sent. Files are
 * generated inside the page from a seed; Node computes the same bytes' CRC32C to compare.
 * Screenshots of each state go to test-artifacts/uploader-*.png.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import type { UploadView } from '@hoist/protocol/internal/api';
import { crc32c } from '@hoist/server/internal/checksum/crc32c';
import type { HoistUploaderElement } from '@hoist/uploader/internal/element';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import {
  type BrowserBuild,
  buildBrowserBundles,
  formatBuildReport,
} from '../../packages/uploader/scripts/build-browser.ts';
import {
  BUCKET,
  brokerConfig,
  E2E_LIMITS,
  MiB,
  openMultipartKeys,
  s3Through,
  startBrokerBackend,
  startTestBroker,
  type TestBroker,
  TOKENS,
} from '../helpers/broker.ts';
import {
  launchBrowser,
  makePageFile,
  openPage,
  type StaticServer,
  saveScreenshot,
  seededBytes,
  serveStatic,
} from '../helpers/browser.ts';
import { type FaultProxy, type LogEntry, startFaultProxy } from '../helpers/fault-proxy.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { type TestServer, tmpDir } from '../helpers/server.ts';

const DEMO = resolve(import.meta.dirname, '../../packages/uploader/src/demo.html');
const PART = 8 * MiB;
const LAST_MODIFIED = 1_700_000_000_000;

/** What the page records: every hoist-upload-* event that reaches the document. */
type Recorded = { events: { type: string; detail: Record<string, unknown> }[] };

/** The stored object's checksum as S3 reports it: base64 of the big-endian CRC32C of the seeded bytes. */
function seededCrc32c(seed: number, size: number): string {
  let crc = 0;
  for (let at = 0; at < size; at += PART) crc = crc32c(seededBytes(seed, at, Math.min(size, at + PART)), crc);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}

const isPartPut = (request: { method: string; url: string }): boolean =>
  request.method === 'PUT' && request.url.includes('partNumber=');

const partNumber = (entry: LogEntry): number =>
  Number(new URL(entry.request.url, 'http://x').searchParams.get('partNumber'));

describe('<hoist-uploader> in headless Chromium', () => {
  const cleanup = suiteCleanup();
  let build: BrowserBuild;
  let server: TestServer;
  let proxy: FaultProxy;
  let broker: TestBroker;
  let web: StaticServer;
  let browser: BrowserContext;
  let tab: Page;
  /** The page's uncaught exceptions and console errors, for failure messages. */
  let pageErrors: string[];

  before(async () => {
    const dir = await tmpDir(cleanup, 'hoist-web-');
    build = await buildBrowserBundles(join(dir, 'site/assets'));
    server = await startBrokerBackend(cleanup);
    proxy = await startFaultProxy(server.url);
    cleanup.after(() => proxy.close());
    let config: unknown;
    web = await serveStatic(cleanup, {
      dir: join(dir, 'site'),
      routes: {
        '/': { body: await readFile(DEMO), type: 'text/html; charset=utf-8' },
        // As a framework renders it: the element is created and given its properties (a token
        // callback included) before the definition loads, then upgraded.
        '/framework.html': {
          type: 'text/html; charset=utf-8',
          body:
            '<!doctype html><meta charset=utf-8><title>framework</title><div id=app></div><script type=module>' +
            "const el = document.createElement('hoist-uploader');" +
            "el.brokerUrl = new URLSearchParams(location.search).get('broker');" +
            "el.tokenProvider = () => new URLSearchParams(location.search).get('token');" +
            "el.maxSize = 5 * 1024 * 1024; el.setAttribute('no-list', '');" +
            "document.getElementById('app').append(el);" +
            "window.before = customElements.get('hoist-uploader') === undefined;" +
            "await import('/assets/hoist-uploader.js'); document.body.dataset.ready = '1';" +
            '</script>',
        },
        '/config.json': (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(config));
        },
      },
    });
    await server.client.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [web.origin],
              AllowedMethods: ['PUT', 'POST', 'GET', 'HEAD'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag'],
            },
          ],
        },
      }),
    );
    // The browser reaches S3 through the proxy (the broker's public endpoint); the broker directly.
    broker = await startTestBroker(
      cleanup,
      brokerConfig(server, 'sts', {
        s3: s3Through(server, proxy.url),
        partSize: '8MiB',
        limits: { ...E2E_LIMITS, maxObjectSize: '256MiB' },
        cors: { origins: [web.origin] },
      }),
    );
    config = {
      brokerUrl: broker.url,
      users: Object.entries(TOKENS).map(([id, token]) => ({ id, token })),
      region: server.region,
      bucket: BUCKET,
      mode: 'sts',
    };
    browser = await launchBrowser(cleanup);
    await browser.addInitScript(() => {
      const recorded = { events: [] } as Recorded;
      Object.assign(window, recorded);
      for (const type of [
        'hoist-upload-start',
        'hoist-upload-progress',
        'hoist-upload-complete',
        'hoist-upload-error',
      ])
        document.addEventListener(type, (event) =>
          recorded.events.push({ type, detail: (event as CustomEvent).detail }),
        );
    });
    ({ page: tab, errors: pageErrors } = await openPage(browser, web.url('/')));
    await tab.locator('body[data-ready]').waitFor();
  });

  const uploader = (): Locator => tab.locator('hoist-uploader');
  const row = (name: string): Locator => tab.locator('hoist-uploader li.file', { hasText: name });
  const bar = (name: string): Locator => row(name).getByRole('progressbar');
  const valueNow = async (name: string): Promise<number> =>
    Number(await bar(name).getAttribute('aria-valuenow'));
  const events = (): Promise<Recorded['events']> =>
    tab.evaluate(() => (window as unknown as Recorded).events);
  const shot = async (name: string): Promise<void> => {
    await saveScreenshot(tab, `uploader-${name}`);
  };
  const slowParts = (bytesPerSecond: number): void =>
    proxy.setRule((request) => (isPartPut(request) ? { kind: 'slow-request', bytesPerSecond } : undefined));

  async function signIn(user: keyof typeof TOKENS): Promise<void> {
    if (await tab.locator('#whoami').isVisible()) await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.getByLabel('Sign in as').selectOption(user);
    await tab.getByRole('button', { name: 'Sign in', exact: true }).click();
    await tab.locator('#who', { hasText: user }).waitFor();
  }

  /** Drops seeded files on the drop zone as a user would: a DragEvent carrying a DataTransfer. */
  async function drop(
    ...files: { seed: number; size: number; name: string; type?: string }[]
  ): Promise<void> {
    const handles = [];
    for (const file of files) handles.push(await makePageFile(tab, { lastModified: LAST_MODIFIED, ...file }));
    await tab.evaluate((list) => {
      const zone = document.querySelector('hoist-uploader')!.shadowRoot!.querySelector('.dropzone')!;
      const data = new DataTransfer();
      for (const file of list) data.items.add(file);
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    }, handles);
  }

  /** Records every aria-valuenow the row's bar takes, from now on. */
  async function recordValues(): Promise<void> {
    await tab.evaluate(() => {
      const values: number[] = [];
      Object.assign(window, { values });
      new MutationObserver((records) => {
        for (const record of records) {
          const target = record.target as Element;
          if (target.closest('li.file')) values.push(Number(target.getAttribute('aria-valuenow')));
        }
      }).observe(document.querySelector('hoist-uploader')!.shadowRoot!, {
        subtree: true,
        attributes: true,
        attributeFilter: ['aria-valuenow'],
      });
    });
  }

  async function waitForValue(name: string, atLeast: number): Promise<void> {
    const failed = (error: Error) => {
      throw new Error(`${error.message}\n${pageErrors.join('\n')}`);
    };
    await tab
      .waitForFunction(
        ({ name, atLeast }) => {
          const rows =
            document.querySelector('hoist-uploader')?.shadowRoot?.querySelectorAll('li.file') ?? [];
          const li = Array.from(rows).find((r) => r.querySelector('.name')?.textContent === name);
          return Number(li?.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')) >= atLeast;
        },
        { name, atLeast },
      )
      .catch(failed);
  }

  async function listed(user: keyof typeof TOKENS): Promise<UploadView[]> {
    const res = await broker.api<{ uploads: UploadView[] }>(user, 'GET', '/uploads');
    assert.equal(res.status, 200);
    return res.body.uploads;
  }

  /** Part numbers S3 holds for the upload, as the broker reports them. */
  async function partsOnS3(id: string): Promise<Set<number>> {
    const res = await broker.api<UploadView>('alice', 'GET', `/uploads/${id}`);
    assert.equal(res.status, 200);
    return new Set((res.body.parts ?? []).map((p) => p.partNumber));
  }

  /** The resume record the page keeps for `name`, read from IndexedDB as the engine wrote it. */
  function storedParts(name: string): Promise<number> {
    return tab.evaluate(async (name) => {
      const db = await new Promise<IDBDatabase>((done, fail) => {
        const open = indexedDB.open('hoist-uploads', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('uploads', { keyPath: 'key' });
        open.onsuccess = () => done(open.result);
        open.onerror = () => fail(open.error);
      });
      const all = await new Promise<{ fileName: string; parts: unknown[] }[]>((done, fail) => {
        const get = db.transaction('uploads').objectStore('uploads').getAll();
        get.onsuccess = () => done(get.result);
        get.onerror = () => fail(get.error);
      });
      db.close();
      return all.find((r) => r.fileName === name)?.parts.length ?? 0;
    }, name);
  }

  it('builds the component bundle', (t) => {
    t.diagnostic(formatBuildReport(build));
    const bundle = build.files.find((file) => file.path.endsWith('/hoist-uploader.js'));
    assert.ok(bundle, 'hoist-uploader.js was built');
    t.diagnostic(`hoist-uploader.js: ${bundle.bytes} B min, ${bundle.gzipBytes} B min+gzip`);
  });

  it('shows the demo page signed out, then the idle uploader once signed in', async () => {
    await uploader().getByText('Sign in to upload files').waitFor();
    assert.equal(await uploader().locator('input[type=file]').isDisabled(), true);
    await signIn('alice');
    await uploader().getByText('Drop files here or browse').waitFor();
    await uploader().getByText('No uploads yet.').waitFor();
    assert.equal(await uploader().getByLabel('Choose files to upload').isEnabled(), true);
    // The file picker is next in the tab order after the account controls.
    await tab.getByRole('button', { name: 'Sign out' }).focus();
    await tab.keyboard.press('Tab');
    const focused = await tab.evaluate(
      () => document.activeElement?.shadowRoot?.activeElement?.getAttribute('aria-label') ?? null,
    );
    assert.equal(focused, 'Choose files to upload');
    await shot('idle');
  });

  it('uploads a dropped 150 MiB file: progress to 100%, pause and resume, listed with its CRC32C', async () => {
    const name = 'holiday-video.mp4';
    const size = 150 * MiB;
    const seed = 150;
    slowParts(6 * MiB);
    await recordValues();
    await drop({ seed, size, name, type: 'video/mp4' });
    await waitForValue(name, 3);
    await bar(name).and(tab.locator('[aria-valuetext*="/s"]')).waitFor();
    assert.match(
      (await bar(name).getAttribute('aria-valuetext')) ?? '',
      /^\d+% — [\d.]+ [kMG]?B\/s(, .+ left)?$/,
    );
    assert.match((await row(name).locator('.speed').textContent()) ?? '', /B\/s$/);
    await shot('uploading');

    await row(name)
      .getByRole('button', { name: `Pause ${name}` })
      .click();
    await row(name).and(tab.locator('[data-state=paused]')).waitFor();
    await row(name)
      .getByRole('button', { name: `Resume ${name}` })
      .waitFor();
    const pausedAt = await valueNow(name);
    assert.ok(pausedAt > 0 && pausedAt < 100, `paused at ${pausedAt}%`);
    await shot('paused');

    proxy.setRule(undefined);
    await row(name)
      .getByRole('button', { name: `Resume ${name}` })
      .click();
    await row(name).and(tab.locator('[data-state=completed]')).waitFor({ timeout: 90_000 });
    assert.equal(await valueNow(name), 100);

    const values = await tab.evaluate(() => (window as unknown as { values: number[] }).values);
    for (let i = 1; i < values.length; i++)
      assert.ok(values[i]! >= values[i - 1]!, `aria-valuenow went back: ${values.join(' ')}`);
    assert.ok(new Set(values).size >= 4, `progress moved through ${values.join(' ')}`);
    assert.equal(values.at(-1), 100);

    const expected = seededCrc32c(seed, size);
    const line = uploader().locator('tr[data-status=completed]', { hasText: name });
    await line.waitFor();
    assert.equal(await line.locator('code').textContent(), expected);
    const progress = (await events()).filter((e) => e.type === 'hoist-upload-progress');
    assert.ok(progress.length > 2, `${progress.length} progress events`);
    assert.ok(progress.every((e) => e.detail.filename === name && e.detail.totalBytes === size));
    const complete = (await events()).find((e) => e.type === 'hoist-upload-complete');
    assert.equal(complete?.detail.checksum, expected);
    assert.equal(complete?.detail.filename, name);
    const [stored] = await listed('alice');
    assert.equal(stored?.checksum, expected);
    assert.equal(stored?.size, size);
    await shot('completed');

    const [download] = await Promise.all([
      tab.waitForEvent('download'),
      line.getByRole('button', { name: `Download ${name}` }).click(),
    ]);
    assert.equal(download.suggestedFilename(), name);
    assert.match(download.url(), /X-Amz-Signature=/);
    await download.cancel();
    await row(name)
      .getByRole('button', { name: `Remove ${name} from the list` })
      .click();
    await row(name).waitFor({ state: 'detached' });
  });

  it('resumes after a reload once the same file is picked again, sending only the missing parts', async () => {
    const name = 'dataset.csv';
    const size = 6 * PART;
    const seed = 48;
    slowParts(2 * MiB);
    await drop({ seed, size, name, type: 'text/csv' });
    // Reload once the page has written down two parts: the rest is still on its way.
    const deadline = Date.now() + 60_000;
    while ((await storedParts(name)) < 2) {
      assert.ok(Date.now() < deadline, 'two parts were written down within a minute');
      await tab.waitForTimeout(100);
    }
    const id = (await listed('alice')).find((u) => u.filename === name && u.status !== 'completed')?.id;
    assert.ok(id, 'the upload exists on the broker');
    await tab.reload();
    await tab.locator('body[data-ready]').waitFor();

    await row(name).and(tab.locator('[data-state=waiting]')).waitFor();
    await row(name).getByText(`Paused — pick ${name} again to resume`).waitFor();
    await row(name)
      .getByRole('button', { name: `Pick ${name} again to resume` })
      .waitFor();
    assert.ok((await valueNow(name)) >= 33, 'the bar shows what S3 already has');
    const before = await partsOnS3(id);
    assert.ok(before.size >= 2 && before.size < 6, `S3 had parts ${[...before]}`);
    await shot('resumable-after-reload');

    // Same name and size, other bytes: refused by the fingerprint, nothing created or sent.
    let mark = proxy.log.length;
    await drop({ seed: seed + 1, size, name, type: 'text/csv' });
    await row(name).getByText("That's a different file").waitFor();
    assert.equal(await row(name).getAttribute('data-state'), 'waiting');
    assert.equal(proxy.log.slice(mark).filter((e) => isPartPut(e.request)).length, 0);
    assert.equal((await listed('alice')).length, 2);
    await shot('resume-mismatch');

    proxy.setRule(undefined);
    mark = proxy.log.length;
    await drop({ seed, size, name, type: 'text/csv' });
    await row(name).and(tab.locator('[data-state=completed]')).waitFor({ timeout: 60_000 });
    const sent = proxy.log
      .slice(mark)
      .filter((e) => isPartPut(e.request) && e.status === 200)
      .map(partNumber);
    assert.deepEqual(
      sent.filter((n) => before.has(n)),
      [],
      `parts S3 already had were sent again: ${sent}`,
    );
    assert.equal(new Set(sent).size, sent.length, `a part was sent twice: ${sent}`);
    assert.ok(sent.length <= 6 - before.size, `sent ${sent} after S3 had ${[...before]}`);
    const start = (await events()).find((e) => e.type === 'hoist-upload-start' && e.detail.filename === name);
    assert.equal(start?.detail.resumed, true);
    const done = (await listed('alice')).find((u) => u.id === id);
    assert.equal(done?.status, 'completed');
    assert.equal(done?.checksum, seededCrc32c(seed, size));
    await uploader().locator('tr[data-status=completed]', { hasText: name }).waitFor();
  });

  it('refuses files over max-size or of another type before sending anything', async () => {
    await signIn('bob');
    await uploader().getByText('No uploads yet.').waitFor();
    await uploader().evaluate((el: HoistUploaderElement) => {
      el.maxSize = '10MiB';
      el.accept = 'video/*,.mp4';
    });
    await uploader().getByText('Video files, .mp4 files, up to 10.5 MB').waitFor();
    const mark = proxy.log.length;
    await drop(
      { seed: 1, size: 12 * MiB, name: 'too-big.mp4', type: 'video/mp4' },
      { seed: 2, size: 1024, name: 'notes.txt', type: 'text/plain' },
    );
    await row('too-big.mp4')
      .getByText('This file is too large: 12.6 MB, and the limit is 10.5 MB.')
      .waitFor();
    await row('notes.txt').getByText('This type of file is not accepted here.').waitFor();
    assert.equal(await row('too-big.mp4').getAttribute('data-state'), 'refused');
    const codes = (await events())
      .filter(
        (e) =>
          e.type === 'hoist-upload-error' && ['too-big.mp4', 'notes.txt'].includes(String(e.detail.filename)),
      )
      .map((e) => e.detail.code);
    assert.deepEqual(codes, ['too-large', 'unsupported-type']);
    assert.deepEqual(await listed('bob'), [], 'no upload was created');
    assert.equal(proxy.log.length, mark, 'nothing reached S3');
    await shot('error');

    for (const name of ['too-big.mp4', 'notes.txt'])
      await row(name)
        .getByRole('button', { name: `Remove ${name} from the list` })
        .click();
    await uploader().evaluate((el: HoistUploaderElement) => {
      el.maxSize = null;
      el.accept = '';
    });

    // The broker's own refusal (its limit is 256 MiB) reads the same way. A 300 MiB file made
    // of one repeated 1 MiB blob: nothing is read but the fingerprint's samples.
    const big = await tab.evaluateHandle(
      () =>
        new File(Array(300).fill(new Blob([new Uint8Array(1024 * 1024)])), 'huge.mov', {
          type: 'video/quicktime',
        }),
    );
    await tab.evaluate((file) => document.querySelector('hoist-uploader')!.addFiles([file]), big);
    await row('huge.mov').getByText('This file is too large for this site.').waitFor();
    assert.equal(await row('huge.mov').getByRole('button', { name: 'Retry huge.mov' }).count(), 0);
    assert.deepEqual(await listed('bob'), []);
    await row('huge.mov').getByRole('button', { name: 'Cancel huge.mov' }).click();
    await row('huge.mov').waitFor({ state: 'detached' });
  });

  it('several files at once: a total bar; cancel aborts one multipart upload and forgets it', async () => {
    const [cancelled, kept] = ['cancel-me.bin', 'keep-me.bin'];
    slowParts(2 * MiB);
    await drop({ seed: 3, size: 2 * PART, name: cancelled }, { seed: 5, size: 2 * PART, name: kept });
    for (const name of [cancelled, kept]) await waitForValue(name, 1);
    const total = uploader().getByRole('progressbar', { name: 'All files' });
    await total.waitFor();
    assert.match((await total.getAttribute('aria-valuetext')) ?? '', /^\d+%/);
    await uploader().getByText('2 files —').waitFor();
    await total.and(tab.locator('[aria-valuetext*="/s"]')).waitFor();
    assert.equal((await openMultipartKeys(server.client)).length, 2);
    await shot('several-files');

    await row(cancelled)
      .getByRole('button', { name: `Cancel ${cancelled}` })
      .click();
    await row(cancelled).waitFor({ state: 'detached' });
    await total.waitFor({ state: 'hidden' });
    const open = await openMultipartKeys(server.client);
    assert.equal(open.length, 1);
    assert.match(open[0]!, /keep-me\.bin$/);
    proxy.setRule(undefined);
    await row(kept).and(tab.locator('[data-state=completed]')).waitFor({ timeout: 60_000 });
    assert.deepEqual(await openMultipartKeys(server.client), []);
    const views = await listed('bob');
    assert.deepEqual(views.map((v) => [v.filename, v.status]).sort(), [
      [cancelled, 'aborted'],
      [kept, 'completed'],
    ]);
    // Nothing left to resume after a reload either.
    await tab.reload();
    await tab.locator('body[data-ready]').waitFor();
    await uploader().locator('tr[data-status=aborted]', { hasText: cancelled }).waitFor();
    assert.equal(await uploader().locator('li.file').count(), 0);
  });

  it('works as a framework uses it: properties set before the element is defined', async () => {
    const { page } = await openPage(
      browser,
      web.url(`/framework.html?broker=${encodeURIComponent(broker.url)}&token=${TOKENS.bob}`),
    );
    await page.locator('body[data-ready]').waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as { before: boolean }).before), true);
    const file = await makePageFile(page, {
      seed: 77,
      size: 3 * MiB,
      name: 'framework.bin',
      lastModified: LAST_MODIFIED,
    });
    const view = await page.evaluate(async (file) => {
      const el = document.querySelector('hoist-uploader') as HTMLElement & { addFiles(files: File[]): void };
      const done = new Promise<Record<string, unknown>>((resolve, reject) => {
        el.addEventListener('hoist-upload-complete', (e) => resolve((e as CustomEvent).detail));
        el.addEventListener('hoist-upload-error', (e) =>
          reject(new Error(JSON.stringify((e as CustomEvent).detail))),
        );
      });
      el.addFiles([file]);
      return done;
    }, file);
    assert.equal(view.status, 'completed');
    assert.equal(view.size, 3 * MiB);
    // The token came from the callback set before the upgrade: the upload is bob's.
    assert.ok((await listed('bob')).some((upload) => upload.id === view.id));
    // And maxSize, set before the upgrade too, refuses a larger file before anything is sent.
    const before = (await listed('bob')).length;
    const big = await makePageFile(page, {
      seed: 78,
      size: 6 * MiB,
      name: 'too-big.bin',
      lastModified: LAST_MODIFIED,
    });
    const refused = await page.evaluate(async (file) => {
      const el = document.querySelector('hoist-uploader') as HTMLElement & { addFiles(files: File[]): void };
      const error = new Promise<{ code: string }>((resolve) =>
        el.addEventListener('hoist-upload-error', (e) => resolve((e as CustomEvent).detail), { once: true }),
      );
      el.addFiles([file]);
      return error;
    }, big);
    assert.equal(refused.code, 'too-large');
    assert.equal((await listed('bob')).length, before);
    // A max-size the page got wrong refuses files too: they are never sent unchecked.
    const small = await makePageFile(page, {
      seed: 79,
      size: 1024,
      name: 'small.bin',
      lastModified: LAST_MODIFIED,
    });
    const misconfigured = await page.evaluate(async (file) => {
      const el = document.querySelector('hoist-uploader') as HTMLElement & { addFiles(files: File[]): void };
      el.setAttribute('max-size', 'lots');
      const error = new Promise<{ code: string; message: string }>((resolve) =>
        el.addEventListener('hoist-upload-error', (e) => resolve((e as CustomEvent).detail), { once: true }),
      );
      el.addFiles([file]);
      return error;
    }, small);
    assert.equal(misconfigured.code, 'invalid-options');
    assert.match(misconfigured.message, /max-size/);
    assert.equal((await listed('bob')).length, before);
    await page.close();
  });

  it('an expired session says so in plain words', async () => {
    await uploader().evaluate((el: HoistUploaderElement) => {
      el.token = 'not-a-valid-token';
    });
    await drop({ seed: 4, size: 1024, name: 'late.txt', type: 'text/plain' });
    await row('late.txt').getByText('Your session has expired — sign in again').waitFor();
    assert.equal(await row('late.txt').getAttribute('data-state'), 'failed');
    const last = (await events()).filter((e) => e.type === 'hoist-upload-error').at(-1);
    assert.equal(last?.detail.code, 'unauthorized');
    // The demo page takes the hint and shows the sign-in form again.
    await tab.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await shot('session-expired');
    // Signed in again, Retry sends the same file.
    await signIn('alice');
    await row('late.txt').getByRole('button', { name: 'Retry late.txt' }).click();
    await row('late.txt').and(tab.locator('[data-state=completed]')).waitFor();
    await uploader().locator('tr[data-status=completed]', { hasText: 'late.txt' }).waitFor();
  });
});
