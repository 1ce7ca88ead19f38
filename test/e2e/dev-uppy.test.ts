/**
 * The real Uppy Dashboard (`@uppy/core`, `@uppy/dashboard`, `@uppy/aws-s3`, bundled by the
 * build) on `hoist dev`'s /uppy page, in Debian's Chromium: files added through the
 * Dashboard's own file input, sent with its Upload button, the bytes read back from S3 and
 * the uploads found in the broker's `GET /uploads`. Both of Uppy's paths: Companion routes
 * (cookie) and signRequest (hoist/client/uppy, bearer token).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import {
  launchBrowser,
  makePageFile,
  openPage,
  saveScreenshot,
  seededDigest,
  serveStatic,
} from '../helpers/browser.ts';
import { type DevStack, startDev } from '../helpers/cli.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { tmpDir } from '../helpers/server.ts';

const MiB = 1024 * 1024;

describe('the Uppy Dashboard on hoist dev /uppy, in Chromium', () => {
  const cleanup = suiteCleanup();
  let dev: DevStack;
  let s3: S3Client;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    const dir = await tmpDir(cleanup, 'hoist-dev-uppy-');
    dev = await startDev([
      '--port',
      '0',
      '--s3-port',
      '0',
      '--max-size',
      '32MiB',
      '--data-dir',
      join(dir, 'data'),
    ]);
    const { s3: store } = dev.info;
    s3 = new S3Client({
      endpoint: store.endpoint,
      region: store.region,
      forcePathStyle: true,
      credentials: { accessKeyId: String(store.accessKeyId), secretAccessKey: String(store.secretAccessKey) },
    });
    browser = await launchBrowser(cleanup);
  });

  after(async () => {
    s3?.destroy();
    await dev?.stop();
  });

  const token = (id: string) => dev.info.users.find((u) => u.id === id)?.token ?? '';

  async function signedInPage(user: string, query = ''): Promise<{ page: Page; errors: string[] }> {
    const opened = await openPage(browser, `${dev.info.web}uppy${query}`);
    await opened.page.selectOption('#user', user);
    await opened.page.click('#signin button[type=submit]');
    await opened.page.waitForSelector('.uppy-Dashboard-input', { state: 'attached' });
    return opened;
  }

  /** Adds a seeded file through the Dashboard's own file input, then presses its Upload button. */
  async function addAndUpload(page: Page, file: { seed: number; size: number; name: string; type: string }) {
    const handle = await makePageFile(page, file);
    await page.evaluate((f) => {
      const input = document.querySelector<HTMLInputElement>('.uppy-Dashboard-input')!;
      const data = new DataTransfer();
      data.items.add(f);
      input.files = data.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, handle);
    await page.click('.uppy-StatusBar-actionBtn--upload');
  }

  async function storedDigest(key: string): Promise<string> {
    const out = await s3.send(new GetObjectCommand({ Bucket: dev.info.s3.bucket, Key: key }));
    return createHash('sha256')
      .update(await out.Body!.transformToByteArray())
      .digest('hex');
  }

  async function registryList(user: string) {
    const res = await fetch(`${dev.info.broker}/uploads?limit=100`, {
      headers: { authorization: `Bearer ${token(user)}` },
    });
    return ((await res.json()) as { uploads: { key: string }[] }).uploads;
  }

  async function registryEntry(user: string, key: string) {
    const res = await fetch(`${dev.info.broker}/uploads?limit=100`, {
      headers: { authorization: `Bearer ${token(user)}` },
    });
    const body = (await res.json()) as {
      uploads: { key: string; status: string; size: number; filename: string }[];
    };
    return body.uploads.find((u) => u.key === key);
  }

  /** The key Uppy reports for the one successful file of the page. */
  async function uploadedKey(page: Page): Promise<string> {
    await page.waitForSelector('.uppy-StatusBar.is-complete', { timeout: 120_000 });
    return page.evaluate(() => {
      const uppy = (
        window as unknown as { uppy: { getFiles(): { response?: { body?: { key?: string } } }[] } }
      ).uppy;
      return uppy.getFiles()[0]?.response?.body?.key ?? '';
    });
  }

  for (const [path, query] of [
    ['Companion routes (cookie)', ''],
    ['signRequest (hoist/client/uppy)', '?path=sign'],
  ] as const) {
    test(`${path}: a 30 MiB multipart upload and a 1 MiB POST form, bytes in S3, listed by GET /uploads`, async () => {
      for (const file of [
        { seed: 31, size: 30 * MiB, name: 'film «30».mp4', type: 'video/mp4' },
        { seed: 7, size: 1 * MiB, name: 'notes.txt', type: 'text/plain' },
      ]) {
        const { page, errors } = await signedInPage('alice', query);
        const toS3: string[] = [];
        page.on('request', (request) => {
          if (request.url().startsWith(dev.info.s3.endpoint)) toS3.push(request.method());
        });
        try {
          await addAndUpload(page, file);
          const key = await uploadedKey(page);
          // The small file went as one POST form (S3 checked its policy), the large one in parts.
          if (file.size < 8 * MiB) assert.deepEqual(toS3, ['POST'], 'one form POST to the bucket');
          else assert.ok(!toS3.includes('POST') && toS3.includes('PUT'), 'parts PUT to S3');
          assert.match(key, /^uploads\/alice\/[a-z0-9]+\//, `the broker chose the key (${key})`);
          assert.equal(await storedDigest(key), seededDigest(file.seed, file.size), 'the bytes in S3');
          // For the form, this read is what settles it: the broker verifies the object it finds.
          const entry = await registryEntry('alice', key);
          assert.equal(entry?.status, 'completed');
          assert.equal(entry?.size, file.size);
          assert.equal(entry?.filename, file.name);
          assert.equal(await registryEntry('bob', key), undefined, "not in another user's list");
        } catch (error) {
          await saveScreenshot(page, `uppy-${query ? 'sign' : 'companion'}-${file.size}`);
          throw Object.assign(error as Error, { pageErrors: errors });
        } finally {
          await page.close();
        }
      }
    });

    test(`${path}: a file over the user's limit shows the broker's message in the Dashboard`, async () => {
      const { page } = await signedInPage('bob', query);
      try {
        await addAndUpload(page, {
          seed: 3,
          size: 40 * MiB,
          name: 'too-big.bin',
          type: 'application/octet-stream',
        });
        // The Dashboard shows a file's error as its "?" button's tooltip (aria-label).
        const details = page.locator('.uppy-Dashboard-Item-errorDetails');
        await details.waitFor({ timeout: 120_000 });
        await details.hover();
        const label = (await details.getAttribute('aria-label')) ?? '';
        assert.match(label, /This file is larger than your 32 MiB limit$/);
        assert.ok(
          await page.locator('.uppy-StatusBar.is-error').isVisible(),
          'the status bar says it failed',
        );
      } catch (error) {
        await saveScreenshot(page, `uppy-${query ? 'sign' : 'companion'}-too-large`);
        throw error;
      } finally {
        await page.close();
      }
    });
  }

  for (const [path, query] of [
    ['Companion routes (cookie)', ''],
    ['signRequest (hoist/client/uppy)', '?path=sign'],
  ] as const)
    test(`${path}: a small file from a user over a quota is refused at the form, the message in the Dashboard`, async () => {
      // Fill bob's open uploads (hoist dev allows 20 at once), then ask for one more form.
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`${dev.info.broker}${path}`, {
          method,
          headers: { authorization: `Bearer ${token('bob')}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      const fillers: string[] = [];
      for (;;) {
        const res = await api('POST', '/uploads', { filename: 'f.bin', size: 1, contentType: 'text/plain' });
        if (res.status !== 201) break;
        fillers.push(((await res.json()) as { id: string }).id);
      }
      const { page } = await signedInPage('bob', query);
      const toS3: string[] = [];
      page.on('request', (request) => {
        if (request.url().startsWith(dev.info.s3.endpoint)) toS3.push(request.method());
      });
      try {
        await addAndUpload(page, { seed: 5, size: 64 * 1024, name: 'small.txt', type: 'text/plain' });
        const details = page.locator('.uppy-Dashboard-Item-errorDetails');
        await details.waitFor({ timeout: 120_000 });
        const label = (await details.getAttribute('aria-label')) ?? '';
        assert.match(label, /at most 20 uploads may be open at once; finish or abort one$/);
        assert.deepEqual(toS3, [], 'nothing was sent to S3');
      } catch (error) {
        await saveScreenshot(page, `uppy-${query ? 'sign' : 'companion'}-quota`);
        throw error;
      } finally {
        await page.close();
        for (const id of fillers) await api('DELETE', `/uploads/${id}`);
      }
    });

  test('pause and resume in the Dashboard: the upload goes on from the parts S3 has', async () => {
    const { page, errors } = await signedInPage('alice');
    try {
      // Each part PUT to S3 is held a moment, so the pause lands mid-upload.
      await page.route(`${dev.info.s3.endpoint}/**`, async (route) => {
        if (route.request().method() === 'PUT') await new Promise((done) => setTimeout(done, 700));
        await route.continue();
      });
      const lists: string[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (request.method() === 'GET' && /\/companion\/s3\/multipart\/[^/]+$/.test(url.pathname))
          lists.push(url.pathname);
      });
      const file = { seed: 12, size: 30 * MiB, name: 'paused.bin', type: 'application/octet-stream' };
      await addAndUpload(page, file);
      const uploaded = () =>
        page.evaluate(() => {
          const uppy = (
            window as unknown as { uppy: { getFiles(): { progress: { bytesUploaded: number | false } }[] } }
          ).uppy;
          return Number(uppy.getFiles()[0]?.progress.bytesUploaded || 0);
        });
      while ((await uploaded()) < 10 * MiB) await new Promise((done) => setTimeout(done, 100));
      await page.click('[data-cy=togglePauseResume]');
      await page.waitForSelector('[data-cy=togglePauseResume][title=Resume]');
      const atPause = await uploaded();
      await new Promise((done) => setTimeout(done, 2000));
      assert.ok((await uploaded()) <= atPause + 5 * MiB, 'at most the part in flight lands after the pause');
      assert.ok((await uploaded()) < file.size, 'paused before the end');
      assert.equal(await page.locator('.uppy-StatusBar.is-complete').count(), 0);
      assert.deepEqual(lists, [], 'nothing listed yet');

      await page.click('[data-cy=togglePauseResume]');
      const key = await uploadedKey(page);
      assert.ok(lists.length >= 1, 'the resume listed the parts S3 already had (through the broker)');
      assert.equal(await storedDigest(key), seededDigest(file.seed, file.size));
      assert.equal((await registryEntry('alice', key))?.status, 'completed');
    } catch (error) {
      await saveScreenshot(page, 'uppy-pause-resume');
      throw Object.assign(error as Error, { pageErrors: errors });
    } finally {
      await page.close();
    }
  });

  test('a page of another origin cannot use the cookie (a classic cross-site POST creates nothing)', async () => {
    const { page } = await signedInPage('alice');
    await page.close();
    const count = async () => (await registryList('alice')).length;
    const forge = async (pageUrl: string) => {
      const opened = await openPage(browser, pageUrl);
      try {
        // What a hostile page can send with the user's cookie: a "simple" request, no preflight.
        await opened.page.evaluate(async (url) => {
          await fetch(url, {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'include',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ filename: 'forged.bin', type: 'application/octet-stream' }),
          });
        }, `${dev.info.broker}/companion/s3/multipart`);
      } finally {
        await opened.page.close();
      }
    };
    const before = await count();
    // The same request from the app's own page goes through (so the cookie is really sent)…
    await forge(`${dev.info.web}uppy`);
    assert.equal(await count(), before + 1);
    // …and from another origin of the same site (SameSite lets the cookie go along) it is refused.
    const other = await serveStatic(cleanup, {
      routes: { '/': { body: '<!doctype html><title>other</title>' } },
    });
    await forge(other.url('/'));
    assert.equal(await count(), before + 1, 'the cross-origin request created nothing');
  });

  test('the cookie is HttpOnly and other origins are refused with it', async () => {
    const { page } = await signedInPage('alice');
    try {
      assert.equal(await page.evaluate(() => document.cookie), '', 'page scripts cannot read the token');
      const cookies = await browser.cookies(dev.info.web);
      const session = cookies.find((c) => c.name === 'hoist_token');
      assert.equal(session?.httpOnly, true);
      assert.equal(session?.sameSite, 'Strict');
    } finally {
      await page.close();
    }
    const cross = await fetch(`${dev.info.broker}/companion/s3/multipart`, {
      method: 'POST',
      headers: {
        cookie: `hoist_token=${token('alice')}`,
        origin: 'http://evil.example',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ filename: 'x.bin', type: 'application/octet-stream' }),
    });
    assert.equal(cross.status, 403);
  });
});
