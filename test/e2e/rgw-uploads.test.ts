/**
 * Uploads on a store Hoist did not write (Ceph RGW, test/helpers/rgw.ts), through real
 * processes: `hoist dev` pointed at RGW as an external store, `hoist upload` in child processes,
 * `<hoist-uploader>` on the dev page in Chromium. RGW keeps no flexible checksums, so every
 * part carries Content-MD5 and the broker verifies the ETag chain (issue 11).
 *
 * Both stacks (one `hoist dev` per mode) reach RGW through a fault proxy: their S3 (and STS)
 * endpoint is the proxy, so the tests see, count and slow the UploadPart requests the CLI and
 * the page send.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { corsConfiguration } from '@hoist/cli/internal/aws/cors';
import { uploadRolePolicy } from '@hoist/cli/internal/aws/policies';
import { launchBrowser, makePageFile, openPage, saveScreenshot, seededDigest } from '../helpers/browser.ts';
import { type DevStack, runCli, startDev, waitForCli } from '../helpers/cli.ts';
import { type FaultProxy, isUploadPart, type LogEntry, startFaultProxy } from '../helpers/fault-proxy.ts';
import {
  createUploadRole,
  type RgwEndpoint,
  rgwClient,
  rgwUnavailable,
  uniqueBucket,
  useRgw,
} from '../helpers/rgw.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { tmpDir } from '../helpers/server.ts';

const skip = rgwUnavailable();
const MiB = 1024 * 1024;
/** `hoist dev`'s key prefix (DEV_KEY_PREFIX): the upload role's scope. */
const DEV_PREFIX = 'uploads';

/** `size` random bytes written to `path` in 1 MiB chunks; their SHA-256. */
async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let done = 0; done < size; ) {
    const chunk = randomBytes(Math.min(MiB, size - done));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    done += chunk.length;
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return hash.digest('hex');
}

/** SHA-256 and length of the object as RGW serves it to its owner. */
async function storedDigest(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ sha256: string; size: number }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

const partNumberOf = (entry: LogEntry): number =>
  Number(new URL(entry.request.url, 'http://x').searchParams.get('partNumber'));

describe('uploads on Ceph RGW through hoist dev, hoist upload and <hoist-uploader>', { skip }, () => {
  const cleanup = suiteCleanup();
  let rgw: RgwEndpoint;
  let s3: S3Client;
  let proxy: FaultProxy;
  let presign: DevStack;
  let dir: string;
  const bucket = uniqueBucket('uploads');

  const devEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    HOIST_DEV_ACCESS_KEY_ID: rgw.credentials.accessKeyId,
    HOIST_DEV_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
    ...extra,
  });
  const storeArgs = (endpoint: string) => [
    '--bucket',
    bucket,
    '--s3-endpoint',
    endpoint,
    '--region',
    rgw.region,
  ];

  before(async () => {
    rgw = await useRgw();
    s3 = rgwClient(rgw);
    cleanup.after(() => s3.destroy());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    dir = await tmpDir(cleanup, 'hoist-rgw-uploads-');
    proxy = await startFaultProxy(rgw.endpoint);
    cleanup.after(() => proxy.close());
    presign = await startDev(
      ['--port', '0', '--data-dir', join(dir, 'dev-presign'), '--mode', 'presign', ...storeArgs(proxy.url)],
      devEnv(),
    );
    cleanup.after(() => presign.stop());
    assert.deepEqual(presign.info.s3, { endpoint: proxy.url, region: rgw.region, bucket, external: true });
  });

  after(() => {
    // Said only when something went wrong in the stack (its log is quiet otherwise).
    if (presign && /error/i.test(presign.stderr()))
      process.stderr.write(`hoist dev (presign):\n${presign.stderr()}`);
  });

  const token = (stack: DevStack) => stack.info.users[0]?.token ?? '';

  async function listed(stack: DevStack, id: string): Promise<{ status: string; size: number } | undefined> {
    const res = await fetch(`${stack.info.broker}/uploads?limit=100`, {
      headers: { authorization: `Bearer ${token(stack)}` },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { uploads: { id: string; status: string; size: number }[] };
    return body.uploads.find((upload) => upload.id === id);
  }

  const uploadArgs = (stack: DevStack, file: string, stateFile: string, more: string[] = []) => [
    'upload',
    file,
    '--broker',
    stack.info.broker,
    '--token',
    token(stack),
    '--state-file',
    stateFile,
    '--json',
    ...more,
  ];

  /** The completed event of a CLI run that must have succeeded; checks RGW's bytes and the broker's listing. */
  async function assertUploaded(
    stack: DevStack,
    events: Record<string, unknown>[],
    expected: { sha256: string; size: number },
  ): Promise<Record<string, unknown>> {
    const completed = events.find((e) => e.event === 'completed');
    assert.ok(completed, JSON.stringify(events.slice(-3)));
    assert.equal(completed.size, expected.size);
    assert.deepEqual(await storedDigest(s3, bucket, completed.key as string), expected);
    const entry = await listed(stack, completed.id as string);
    assert.equal(entry?.status, 'completed', JSON.stringify(entry));
    assert.equal(entry?.size, expected.size);
    return completed;
  }

  /** At least `atLeast` UploadParts since log index `from`, every one answered 200 and sent with Content-MD5. */
  function assertPartsCarriedMd5(from: number, atLeast: number): void {
    const puts = partPuts(from);
    assert.ok(puts.length >= atLeast, `${puts.length} parts`);
    for (const put of puts) {
      assert.equal(put.status, 200);
      assert.match(
        String(put.request.headers['content-md5']),
        /^[A-Za-z0-9+/]{22}==$/,
        `part ${partNumberOf(put)} carried Content-MD5`,
      );
    }
  }

  /** UploadPart requests the proxy saw from log index `from` on. */
  const partPuts = (from: number, to = proxy.log.length) =>
    proxy.log.slice(from, to).filter((e) => isUploadPart(e.request));

  test('hoist upload of a 100 MiB file (presign mode): RGW holds its bytes, the broker lists it completed', async () => {
    const size = 100 * MiB;
    const path = join(dir, 'hundred.bin');
    const sha256 = await randomFile(path, size);
    const from = proxy.log.length;
    const cli = runCli(uploadArgs(presign, path, join(dir, 'hundred.json')));
    assert.equal(await cli.exited, 0, cli.stderr());
    await assertUploaded(presign, cli.events(), { sha256, size });
    assertPartsCarriedMd5(from, 2);
    for (const put of partPuts(from))
      assert.ok(new URL(put.request.url, 'http://x').searchParams.has('X-Amz-Signature'), 'presigned');
  });

  test('SIGKILLed mid-upload, the rerun completes on RGW without re-sending the parts that landed', async (t) => {
    const size = 48 * MiB;
    const path = join(dir, 'killed.bin');
    const sha256 = await randomFile(path, size);
    const stateFile = join(dir, 'killed.json');
    const args = uploadArgs(presign, path, stateFile, ['--part-size', '5MiB', '--concurrency', '2']);
    const firstFrom = proxy.log.length;
    // Slow parts (about 1.25 s each) so that the kill lands mid-upload, with parts in flight.
    proxy.setRule((request) =>
      isUploadPart(request) ? { kind: 'slow-request', bytesPerSecond: 4 * MiB } : undefined,
    );
    let reported: number[];
    try {
      const first = runCli(args);
      const parts = () => first.events().filter((e) => e.event === 'part');
      await waitForCli(first, () => parts().length >= 3, 'three parts');
      first.kill('SIGKILL');
      await first.exited;
      reported = parts().map((e) => e.partNumber as number);
      assert.ok(!first.events().some((e) => e.event === 'completed'), 'killed before the end');
    } finally {
      proxy.setRule(undefined);
    }
    const secondFrom = proxy.log.length;
    const landed = new Set(
      partPuts(firstFrom, secondFrom)
        .filter((e) => e.status === 200)
        .map(partNumberOf),
    );
    for (const n of reported) assert.ok(landed.has(n), `part ${n} was reported done, so it landed`);
    assert.ok(landed.size < 10, 'the kill came before the last part landed');

    const second = runCli(args);
    assert.equal(await second.exited, 0, second.stderr());
    const events = second.events();
    const resumed = events.find((e) => e.event === 'resumed');
    assert.ok(resumed, 'the rerun says it resumes');
    assert.equal(resumed.partCount, 10);
    assert.ok((resumed.partsDone as number) >= reported.length, JSON.stringify(resumed));
    await assertUploaded(presign, events, { sha256, size });

    assertPartsCarriedMd5(secondFrom, 1);
    const resent = partPuts(secondFrom).map(partNumberOf);
    t.diagnostic(
      `before the kill: parts ${[...landed].sort((a, b) => a - b).join(',')} landed (${reported.length} reported); the rerun sent ${resent.sort((a, b) => a - b).join(',')}`,
    );
    for (const n of landed)
      assert.ok(!resent.includes(n), `part ${n} landed before the kill and was sent again`);
    // Every part number was sent at most twice: once cut by the kill, once by the rerun.
    const sends = new Map<number, number>();
    for (const put of partPuts(firstFrom))
      sends.set(partNumberOf(put), (sends.get(partNumberOf(put)) ?? 0) + 1);
    assert.deepEqual(
      [...sends.keys()].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    for (const [n, count] of sends) assert.ok(count <= 2, `part ${n} sent ${count} times`);
    assert.deepEqual(JSON.parse(await readFile(stateFile, 'utf8')).records, {}, 'no resume state left');
  });

  test('<hoist-uploader> on the hoist dev page in Chromium: a 20 MiB file reaches 100%, parts with Content-MD5', async (t) => {
    const origin = new URL(presign.info.web).origin;
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: corsConfiguration({ origins: [origin] }),
      }),
    );
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, presign.info.web);
    const user = presign.info.users[0]?.id ?? '';
    await page.selectOption('#user', user);
    await page.click('#signin button[type=submit]');
    await page.locator('#whoami').waitFor();

    const seed = 2026;
    const size = 20 * MiB;
    const name = 'rgw-page.bin';
    const from = proxy.log.length;
    const file = await makePageFile(page, { seed, size, name });
    const view = await page
      .evaluate(async (file) => {
        const el = document.querySelector('hoist-uploader') as HTMLElement & {
          addFiles(files: File[]): void;
        };
        const done = new Promise<Record<string, unknown>>((resolve, reject) => {
          el.addEventListener('hoist-upload-complete', (e) => resolve((e as CustomEvent).detail));
          el.addEventListener('hoist-upload-error', (e) =>
            reject(new Error(JSON.stringify((e as CustomEvent).detail))),
          );
        });
        el.addFiles([file]);
        return done;
      }, file)
      .catch(async (error: Error) => {
        await saveScreenshot(page, 'rgw-uploader-failed');
        throw new Error(`${error.message}; page errors: ${errors.join(' | ')}`);
      });
    assert.equal(view.status, 'completed');
    assert.equal(view.size, size);

    const row = page.locator('hoist-uploader li.file', { hasText: name });
    await row.and(page.locator('[data-state=completed]')).waitFor({ timeout: 30_000 });
    assert.equal(Number(await row.getByRole('progressbar').getAttribute('aria-valuenow')), 100);

    assert.deepEqual(await storedDigest(s3, bucket, view.key as string), {
      sha256: seededDigest(seed, size),
      size,
    });
    assert.equal((await listed(presign, view.id as string))?.status, 'completed');
    assertPartsCarriedMd5(from, 2);
  });

  test('hoist upload through hoist dev --mode sts on RGW (overwrite risk accepted): RGW holds the bytes', async () => {
    const roleName = `hoist-upload-${bucket}`;
    await createUploadRole(rgw, {
      roleName,
      policyName: 'hoist-upload',
      policy: uploadRolePolicy({ bucket, prefix: DEV_PREFIX }),
    });
    const sts = await startDev(
      [
        '--port',
        '0',
        '--data-dir',
        join(dir, 'dev-sts'),
        '--mode',
        'sts',
        '--role-arn',
        `arn:aws:iam:::role/${roleName}`,
        ...storeArgs(proxy.url),
      ],
      devEnv({ HOIST_DEV_ACCEPT_OVERWRITE_RISK: 'true' }),
    );
    try {
      assert.equal(sts.info.mode, 'sts');
      assert.match(sts.stderr(), /store\.acceptOverwriteRisk: upload credentials can overwrite/);
      const size = 20 * MiB + 123;
      const path = join(dir, 'sts.bin');
      const sha256 = await randomFile(path, size);
      const from = proxy.log.length;
      const cli = runCli(uploadArgs(sts, path, join(dir, 'sts.json')));
      assert.equal(await cli.exited, 0, cli.stderr());
      await assertUploaded(sts, cli.events(), { sha256, size });
      // The parts went with the role's session credentials, signed by the CLI, not presigned.
      assertPartsCarriedMd5(from, 2);
      for (const put of partPuts(from)) {
        assert.ok(put.request.headers['x-amz-security-token'], 'signed with session credentials');
        assert.ok(!new URL(put.request.url, 'http://x').searchParams.has('X-Amz-Signature'), 'not presigned');
      }
    } finally {
      await sts.stop();
    }
  });
});
