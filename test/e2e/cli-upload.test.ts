/**
 * `hoist upload` and `hoist credentials` as a user runs them: the real CLI in a child process
 * against a real broker and local S3 + STS server, with a fault proxy as the S3 endpoint the
 * broker hands out (it counts the UploadPart bytes and can slow them down).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { GetObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import {
  BUCKET,
  brokerConfig,
  MiB,
  s3Through,
  sha256,
  startBrokerBackend,
  startTestBroker,
  storedBytes,
  type TestBroker,
  TOKENS,
} from '../helpers/broker.ts';
import { runCli as run, waitForCli as waitFor } from '../helpers/cli.ts';
import { type FaultProxy, isUploadPart, startFaultProxy } from '../helpers/fault-proxy.ts';
import { rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { type TestServer, tmpDir } from '../helpers/server.ts';

const stateRecords = async (file: string): Promise<Record<string, { parts: unknown[] }>> =>
  JSON.parse(await readFile(file, 'utf8')).records;

describe('hoist upload / hoist credentials', () => {
  const t = suiteCleanup();
  let server: TestServer;
  let proxy: FaultProxy;
  let broker: TestBroker;
  let dir: string;

  before(async () => {
    server = await startBrokerBackend(t);
    proxy = await startFaultProxy(server.url);
    t.after(() => proxy.close());
    broker = await startTestBroker(t, proxiedConfig('sts'));
    dir = await tmpDir(t);
  });

  /** A broker config handing out the fault proxy as the S3 endpoint. */
  const proxiedConfig = (mode: 'sts' | 'presign') =>
    brokerConfig(server, mode, {
      s3: s3Through(server, proxy.url),
    });

  /** A file of random bytes in the temp dir. */
  async function file(name: string, size: number): Promise<{ path: string; data: Buffer }> {
    const path = join(dir, name);
    const data = randomBytes(size);
    await writeFile(path, data);
    return { path, data };
  }

  const uploadArgs = (files: string[], token: string, stateFile: string, more: string[] = []) => [
    'upload',
    ...files,
    '--broker',
    broker.url,
    '--token',
    token,
    '--state-file',
    stateFile,
    ...more,
  ];

  test('uploads two files; --json prints one event per line; the stored bytes are the files', async () => {
    const small = await file('small.txt', MiB + 3);
    const large = await file('large.bin', 12 * MiB + 7);
    const stateFile = join(dir, 'two.json');
    const cli = run(
      uploadArgs([small.path, large.path], TOKENS.alice, stateFile, ['--json', '--checksum', 'CRC32C']),
    );
    assert.equal(await cli.exited, 0, cli.stderr());
    assert.equal(cli.stderr(), '', 'nothing on stderr when all went well');
    const events = cli.events();
    for (const e of events)
      assert.ok(['started', 'progress', 'part', 'completed'].includes(e.event as string), JSON.stringify(e));
    const completed = events.filter((e) => e.event === 'completed');
    assert.deepEqual(
      completed.map((e) => e.file),
      [small.path, large.path],
    );
    assert.equal(events.filter((e) => e.event === 'part' && e.file === large.path).length, 3);
    for (const [e, f] of [
      [completed[0], small],
      [completed[1], large],
    ] as const) {
      assert.equal(e?.size, f.data.length);
      assert.equal(e?.checksumAlgorithm, 'CRC32C');
      assert.equal(typeof e?.checksum, 'string');
      const stored = await storedBytes(server.client, e?.key as string);
      assert.equal(sha256(stored), sha256(f.data));
      const view = await broker.api('alice', 'GET', `/uploads/${e?.id}`);
      assert.equal(view.body.status, 'completed');
    }
    assert.deepEqual(await stateRecords(stateFile), {}, 'finished uploads leave no resume state');
  });

  test('a small file against a presign-mode broker goes as its POST form', async () => {
    const presign = await startTestBroker(t, proxiedConfig('presign'));
    const small = await file('form.bin', 300 * 1024 + 1);
    const mark = proxy.log.length;
    const args = ['upload', small.path, '--broker', presign.url, '--token', TOKENS.bob, '--json'];
    const cli = run([...args, '--state-file', join(dir, 'form.json')]);
    assert.equal(await cli.exited, 0, cli.stderr());
    const completed = cli.events().find((e) => e.event === 'completed');
    assert.equal(sha256(await storedBytes(server.client, completed?.key as string)), sha256(small.data));
    assert.deepEqual(
      proxy.log.slice(mark).map((e) => [e.request.method, e.status]),
      [['POST', 201]],
    );
    assert.match(
      String(proxy.log.at(-1)?.request.headers['content-type']),
      /^multipart\/form-data; boundary=/,
    );
  });

  test('a missing file is a usage error: exit 2 and nothing is created', async () => {
    const present = await file('present.bin', 1024);
    const cli = run(
      uploadArgs([present.path, join(dir, 'missing.bin')], TOKENS.bob, join(dir, 'missing.json')),
    );
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr(), /^hoist: .*missing\.bin: no such file/);
    assert.equal(cli.stderr().trim().split('\n').length, 1);
    assert.equal(cli.stdout(), '');
    const list = await broker.api('bob', 'GET', '/uploads');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.uploads, []);
  });

  test('a bad token fails with one line naming the reason, exit 1', async () => {
    const one = await file('refused.bin', 2048);
    const cli = run(uploadArgs([one.path], 'not-a-valid-token', join(dir, 'refused.json')));
    assert.equal(await cli.exited, 1);
    // (A line also says the file is starting: stderr is a pipe, so progress comes as plain lines.)
    const lines = cli
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('hoist:'));
    assert.equal(lines.length, 1, cli.stderr());
    assert.match(lines[0] ?? '', /^hoist: .*refused\.bin: .+ \(unauthorized\)$/);
    assert.doesNotMatch(cli.stderr(), /not-a-valid-token/);
  });

  test('killed with SIGKILL mid-upload, the same command resumes and re-sends at most concurrency × partSize', async () => {
    const size = 48 * MiB;
    const partSize = 5 * MiB;
    const concurrency = 2;
    const big = await file('killed.bin', size);
    const stateFile = join(dir, 'killed.json');
    const args = uploadArgs([big.path], TOKENS.alice, stateFile, [
      '--json',
      '--part-size',
      '5MiB',
      '--concurrency',
      String(concurrency),
    ]);
    const before = proxy.stats.byRoute(isUploadPart).bodyBytes;
    // Slow parts (about 1.25 s each) so that the kill lands mid-upload, with parts in flight.
    proxy.setRule((request) =>
      isUploadPart(request) ? { kind: 'slow-request', bytesPerSecond: 4 * MiB } : undefined,
    );
    try {
      const first = run(args);
      await waitFor(first, () => first.events().filter((e) => e.event === 'part').length >= 3, 'three parts');
      first.kill('SIGKILL');
      await first.exited;
      assert.ok(!first.events().some((e) => e.event === 'completed'), 'killed before the end');
    } finally {
      proxy.setRule(undefined);
    }
    assert.equal(Object.keys(await stateRecords(stateFile)).length, 1, 'the resume state survived the kill');

    const second = run(args);
    assert.equal(await second.exited, 0, second.stderr());
    const events = second.events();
    // Without --checksum, Node's default: CRC32 (zlib, native).
    assert.equal(events.find((e) => e.event === 'completed')?.checksumAlgorithm, 'CRC32');
    const resumed = events.find((e) => e.event === 'resumed');
    assert.ok(resumed, 'the rerun says it resumes');
    assert.equal(resumed.partCount, 10);
    assert.ok((resumed.partsDone as number) >= 3, JSON.stringify(resumed));
    const completed = events.find((e) => e.event === 'completed');
    assert.ok(completed);
    assert.equal(sha256(await storedBytes(server.client, completed.key as string)), sha256(big.data));
    const resent = proxy.stats.byRoute(isUploadPart).bodyBytes - before - size;
    assert.ok(resent >= 0 && resent <= concurrency * partSize, `re-sent ${resent} bytes`);
    assert.deepEqual(await stateRecords(stateFile), {});
  });

  test('Ctrl-C pauses and exits 130 keeping the state; the rerun finishes', async () => {
    const mid = await file('paused.bin', 15 * MiB);
    const stateFile = join(dir, 'paused.json');
    const args = uploadArgs([mid.path], TOKENS.alice, stateFile, [
      '--part-size',
      '5MiB',
      '--concurrency',
      '1',
    ]);
    proxy.setRule((request) =>
      isUploadPart(request) ? { kind: 'slow-request', bytesPerSecond: 8 * MiB } : undefined,
    );
    try {
      const first = run([...args, '--json']);
      await waitFor(first, () => first.events().some((e) => e.event === 'part'), 'a part');
      first.kill('SIGINT');
      assert.equal(await first.exited, 130);
      assert.match(first.stderr(), /paused\. Run the same command again to resume/);
      assert.equal(first.events().at(-1)?.event, 'interrupted');
      const [record] = Object.values(await stateRecords(stateFile));
      assert.ok(record && record.parts.length >= 1, 'the pause wrote the finished parts down');
    } finally {
      proxy.setRule(undefined);
    }
    // Without --json, stderr a pipe: plain lines.
    const second = run(args);
    assert.equal(await second.exited, 0, second.stderr());
    assert.match(second.stderr(), /resuming .*paused\.bin: [123] of 3 parts already uploaded/);
    assert.match(second.stderr(), /uploaded .*paused\.bin \(15\.0 MiB\) as /);
  });

  test('hoist credentials --format json: the credentials send parts of that key and read nothing', async () => {
    const target = await file('by-hand.bin', 6 * MiB);
    const cli = run(['credentials', target.path, '--broker', broker.url, '--format', 'json'], {
      HOIST_TOKEN: TOKENS.alice,
    });
    assert.equal(await cli.exited, 0, cli.stderr());
    assert.match(cli.stderr(), /expire in about \d+ min/);
    assert.match(cli.stderr(), /\/complete/);
    const created = JSON.parse(cli.stdout());
    assert.equal(created.partCount, 2);
    const s3 = new S3Client({
      endpoint: created.endpoint,
      region: created.region,
      forcePathStyle: created.forcePathStyle,
      credentials: {
        accessKeyId: created.credentials.accessKeyId,
        secretAccessKey: created.credentials.secretAccessKey,
        sessionToken: created.credentials.sessionToken,
      },
      maxAttempts: 1,
    });
    t.after(() => s3.destroy());
    const parts = [];
    for (const partNumber of [1, 2]) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: created.bucket,
          Key: created.key,
          UploadId: created.uploadId,
          PartNumber: partNumber,
          Body: target.data.subarray((partNumber - 1) * 5 * MiB, partNumber * 5 * MiB),
          ChecksumAlgorithm: 'CRC32C',
        }),
      );
      parts.push({ partNumber, etag: out.ETag, checksum: out.ChecksumCRC32C });
    }
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: created.bucket, Key: created.key })),
      'AccessDenied',
      403,
    );
    const done = await broker.api('alice', 'POST', `/uploads/${created.id}/complete`, { parts });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(sha256(await storedBytes(server.client, created.key)), sha256(target.data));
  });

  test('hoist credentials prints shell exports by default', async () => {
    const target = await file('env.bin', 6 * MiB);
    const cli = run(['credentials', target.path, '--broker', broker.url, '--token', TOKENS.bob]);
    assert.equal(await cli.exited, 0, cli.stderr());
    const vars = Object.fromEntries(
      [...cli.stdout().matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]),
    );
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION'])
      assert.ok(vars[name], `${name} is exported`);
    assert.equal(vars.HOIST_BUCKET, BUCKET);
    assert.match(vars.HOIST_KEY ?? '', /\/env\.bin$/);
    const view = await broker.api('bob', 'GET', `/uploads/${vars.HOIST_UPLOAD_ID}`);
    assert.equal(view.body.uploadId, vars.HOIST_S3_UPLOAD_ID);
    await broker.api('bob', 'DELETE', `/uploads/${vars.HOIST_UPLOAD_ID}`);
  });

  test('hoist credentials against a presign-mode broker says it issues no credentials', async () => {
    const presign = await startTestBroker(t, brokerConfig(server, 'presign'));
    const target = await file('presigned.bin', 6 * MiB);
    const cli = run(['credentials', target.path, '--broker', presign.url, '--token', TOKENS.bob]);
    assert.equal(await cli.exited, 1);
    assert.match(
      cli.stderr(),
      /^hoist: .*presigned\.bin: this broker issues no credentials \(presign mode\)/,
    );
    assert.equal(cli.stdout(), '');
    const list = await presign.api('bob', 'GET', '/uploads');
    for (const upload of list.body.uploads)
      assert.equal(upload.status, 'aborted', 'the upload was not left open');
  });
});
