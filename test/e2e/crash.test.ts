/**
 * Crash safety of the local S3 server, end to end: `hoist server` child processes
 * are killed with SIGKILL in the middle of PutObject, CompleteMultipartUpload and a
 * burst of concurrent writes, then restarted on the same data directory. After each
 * restart every key holds wholly one version (never a mix), every acknowledged write
 * is there, and `blobs/` holds exactly the blob files that live objects and uploads
 * reference (no orphan left by the torn request).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type Hook, TEST_CREDENTIALS, tmpDir } from '../helpers/server.ts';
import { type ServerProcess, spawnServer } from '../helpers/server-process.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUCKET = 'crash';

// Helpers

/** Cleanups run last-registered first (node:test runs `t.after` hooks in order): servers die before their dir goes. */
function lifo(t: Hook): Hook {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return { after: (fn) => cleanups.push(fn) };
}

interface Running {
  proc: ServerProcess;
  s3: S3Client;
}

async function start(hook: Hook, dataDir: string): Promise<Running> {
  const proc = await spawnServer(hook, { dataDir });
  const s3 = new S3Client({
    endpoint: proc.url,
    region: proc.region,
    forcePathStyle: true,
    // A copy: the SDK writes bookkeeping fields into the credentials object it is given.
    credentials: { ...TEST_CREDENTIALS },
    maxAttempts: 1,
    // The SDK warns on every request the crash cuts; that is the point here.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  hook.after(() => {
    s3.destroy();
    // Silent unless something went wrong in the server (e.g. an InternalError's cause).
    const stderr = proc.stderr().trim();
    if (stderr !== '') process.stderr.write(`hoist server (${proc.url}) stderr:\n${stderr}\n`);
  });
  return { proc, s3 };
}

/** SIGKILLs the server (if the test's trigger has not already) and checks it died of that signal, not on its own. */
async function crash(server: Running): Promise<void> {
  await server.proc.kill('SIGKILL');
  const { code, signal } = await server.proc.exited;
  assert.equal(signal, 'SIGKILL', `server exited by itself (code ${code}):\n${server.proc.stderr()}`);
  server.s3.destroy();
}

type Outcome = { acked: true; etag: string } | { acked: false; error: unknown };

async function settle(request: Promise<{ ETag?: string | undefined }>): Promise<Outcome> {
  try {
    const out = await request;
    return { acked: true, etag: out.ETag ?? '' };
  } catch (error) {
    return { acked: false, error };
  }
}

/** A request cut by the crash must fail at the transport level: an S3 error answer would mean the server refused it. */
function assertCutByCrash(outcome: Outcome): void {
  if (outcome.acked) return;
  const error = outcome.error as { $metadata?: { httpStatusCode?: number } };
  assert.ok(
    !(error instanceof S3ServiceException) && error.$metadata?.httpStatusCode === undefined,
    `expected a network error, the server answered: ${String(outcome.error)}`,
  );
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function md5(data: Buffer): Buffer {
  return createHash('md5').update(data).digest();
}

function multipartEtag(parts: Buffer[]): string {
  return `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}"`;
}

interface Stored {
  body: Buffer;
  etag: string;
  length: number;
}

async function readObject(s3: S3Client, key: string): Promise<Stored | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const body = Buffer.from(await out.Body!.transformToByteArray());
    return { body, etag: out.ETag ?? '', length: out.ContentLength ?? -1 };
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Files (only) anywhere under `<dataDir>/blobs/`. */
async function blobFiles(dataDir: string): Promise<number> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).length;
}

/** Blobs live state references, as the S3 API shows it: one per single-PUT object, one per part otherwise. */
async function referencedBlobs(s3: S3Client): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: object.Key, PartNumber: 1 }));
      count += head.PartsCount ?? 1;
    }
    token = page.NextContinuationToken;
  } while (token);
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.notEqual(uploads.IsTruncated, true);
  for (const upload of uploads.Uploads ?? []) {
    const parts = await s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: upload.Key, UploadId: upload.UploadId }),
    );
    count += parts.Parts?.length ?? 0;
  }
  return count;
}

/** Right after a restart (orphans are removed at open, before any request): no blob file beyond the referenced ones. */
async function assertNoOrphanBlobs(server: Running, dataDir: string, when: string): Promise<number> {
  const [files, referenced] = [await blobFiles(dataDir), await referencedBlobs(server.s3)];
  assert.equal(files, referenced, `${when}: ${files} blob files, ${referenced} referenced`);
  return files;
}

function assertWhole(got: Stored, expected: Buffer, etag: string, what: string): void {
  assert.equal(got.length, expected.length, `${what}: Content-Length`);
  assert.equal(got.body.length, expected.length, `${what}: body length`);
  assert.equal(sha256(got.body), sha256(expected), `${what}: SHA-256`);
  assert.equal(got.etag, etag, `${what}: ETag`);
}

// Independent data dirs and servers: the three run side by side to keep the file short.
describe('crash safety: SIGKILLed server processes, restarted', { concurrency: true }, () => {
  // PutObject

  const BIG = 32 * MiB;
  const CHUNK = 256 * KiB;

  /** When to kill the server during the PUT of B. */
  type Trigger =
    /** once the body generator has handed out this many bytes: the body is mid-flight */
    | { bytes: number }
    /** this long after the generator handed out its last byte: receiving, syncing, committing or answering */
    | { afterSentMs: number }
    /** as soon as the PUT is acknowledged */
    | { afterAck: true };

  function describeTrigger(trigger: Trigger): string {
    if ('bytes' in trigger) return `kill after ${trigger.bytes} bytes sent`;
    if ('afterSentMs' in trigger) return `kill ${trigger.afterSentMs} ms after the whole body was sent`;
    return 'kill right after the ack';
  }

  /** Version B: BIG random bytes, generated as the request pulls them; `onPull(sent)` runs before each chunk. */
  function bigBody(onPull: (sent: number) => void, onEnd: () => void) {
    const sha = createHash('sha256');
    const md = createHash('md5');
    const state: { sent: number; digest?: { sha256: string; etag: string } } = { sent: 0 };
    async function* chunks(): AsyncGenerator<Buffer> {
      while (state.sent < BIG) {
        onPull(state.sent);
        const chunk = randomBytes(Math.min(CHUNK, BIG - state.sent));
        sha.update(chunk);
        md.update(chunk);
        state.sent += chunk.length;
        yield chunk;
      }
      state.digest = { sha256: sha.digest('hex'), etag: `"${md.digest('hex')}"` };
      onEnd();
    }
    return { state, stream: () => Readable.from(chunks()) };
  }

  test('SIGKILL during PutObject: the key holds wholly the old or the acknowledged new version, no orphan blob', async (t) => {
    const hook = lifo(t);
    const dataDir = await tmpDir(hook, 'hoist-crash-put-');
    let server = await start(hook, dataDir);
    await server.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const key = 'videos/big.bin';

    // How long the server takes from the last byte sent to the ack (receive, sync, commit), to aim kills inside it.
    let sentAt = 0;
    const calibration = bigBody(
      () => {},
      () => {
        sentAt = performance.now();
      },
    );
    await server.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: calibration.stream(), ContentLength: BIG }),
    );
    const lag = Math.max(1, Math.round(performance.now() - sentAt));

    const triggers: Trigger[] = [
      { bytes: 0 },
      { bytes: 64 * KiB },
      { bytes: randomInt(1, BIG / CHUNK - 1) * CHUNK },
      { bytes: BIG - CHUNK },
      { afterSentMs: 0 },
      ...[0.5, 0.9, 1.1].map((f) => ({ afterSentMs: Math.round(lag * f) })),
      { afterAck: true },
    ];
    let newWon = 0;
    let removedAtRestart = 0;
    for (const trigger of triggers) {
      const what = describeTrigger(trigger);
      const a = randomBytes(randomInt(1, 2 * MiB));
      const putA = await server.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: a }));
      assert.equal(putA.ETag, `"${md5(a).toString('hex')}"`);

      const current = server;
      const kill = () => current.proc.child.kill('SIGKILL');
      const b = bigBody(
        (sent) => {
          if ('bytes' in trigger && sent >= trigger.bytes) kill();
        },
        () => {
          if ('afterSentMs' in trigger) setTimeout(kill, trigger.afterSentMs);
        },
      );
      const outcome = await settle(
        server.s3.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: b.stream(), ContentLength: BIG }),
        ),
      );
      if ('afterAck' in trigger && !outcome.acked)
        assert.fail(`${what}: the PUT of B failed: ${String(outcome.error)}`);
      await crash(server);
      assertCutByCrash(outcome);
      const filesAtCrash = await blobFiles(dataDir);
      server = await start(hook, dataDir);

      const got = await readObject(server.s3, key);
      assert.ok(got, `${what}: ${key} is missing after the restart`);
      if (outcome.acked || sha256(got.body) !== sha256(a)) {
        // Only B may replace A, and then B wholly; B may survive unacknowledged (committed, ack lost).
        assert.ok(
          b.state.digest,
          `${what}: ${key} is neither A nor a fully sent B (${got.body.length} bytes)`,
        );
        assert.equal(got.length, BIG, `${what}: Content-Length of B`);
        assert.equal(got.body.length, BIG, `${what}: length of B`);
        assert.equal(sha256(got.body), b.state.digest.sha256, `${what}: SHA-256 of B`);
        assert.equal(got.etag, b.state.digest.etag, `${what}: ETag of B`);
        if (outcome.acked) assert.equal(outcome.etag, b.state.digest.etag);
        newWon++;
      } else {
        assertWhole(got, a, `"${md5(a).toString('hex')}"`, `${what}: A`);
      }
      removedAtRestart += filesAtCrash - (await assertNoOrphanBlobs(server, dataDir, what));
    }
    // The kills mid-body leave partial blobs: the orphan check above has something to find.
    assert.ok(removedAtRestart > 0, 'no kill left a partial blob behind');
    t.diagnostic(
      `last byte sent → ack: ${lag} ms; B survived ${newWon} of ${triggers.length} kills; ` +
        `${removedAtRestart} leftover blob files removed at restarts`,
    );
  });

  // CompleteMultipartUpload

  /** A multipart upload of 3 × 5 MiB + a smaller last part, all parts acknowledged, not completed yet. */
  async function newUpload(s3: S3Client, key: string) {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const uploadId = created.UploadId!;
    const parts = [
      randomBytes(5 * MiB),
      randomBytes(5 * MiB),
      randomBytes(5 * MiB),
      randomBytes(randomInt(1, MiB)),
    ];
    const etags = await Promise.all(
      parts.map(async (body, i) => {
        const input = { Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body };
        const out = await s3.send(new UploadPartCommand(input));
        assert.equal(out.ETag, `"${md5(body).toString('hex')}"`);
        return out.ETag!;
      }),
    );
    const complete = (client: S3Client) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    return {
      uploadId,
      parts,
      etags,
      complete,
      whole: Buffer.concat(parts),
      expectedEtag: multipartEtag(parts),
    };
  }

  test('SIGKILL during CompleteMultipartUpload: wholly completed, or still resumable; never torn', async (t) => {
    const hook = lifo(t);
    const dataDir = await tmpDir(hook, 'hoist-crash-mpu-');
    let server = await start(hook, dataDir);
    await server.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const key = 'datasets/parts.bin';

    // How long an uncrashed Complete takes, so the kills land before, during and after it.
    const calibration = await newUpload(server.s3, 'datasets/calibration.bin');
    const began = performance.now();
    await calibration.complete(server.s3);
    const latency = Math.round(performance.now() - began);
    const maxDelay = Math.max(20, latency);

    const rounds = 5;
    const completedBeforeCrash: boolean[] = [];
    for (let round = 0; round < rounds; round++) {
      const delayMs = round === 0 ? 0 : randomInt(0, maxDelay + 1);
      const what = `round ${round} (kill ${delayMs} ms after sending Complete)`;
      const previous = randomBytes(randomInt(1, 512 * KiB));
      await server.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: previous }));
      const { uploadId, parts, etags, complete, whole, expectedEtag } = await newUpload(server.s3, key);

      const pending = settle(complete(server.s3));
      await sleep(delayMs);
      server.proc.child.kill('SIGKILL');
      const outcome = await pending;
      await crash(server);
      assertCutByCrash(outcome);
      server = await start(hook, dataDir);

      const got = await readObject(server.s3, key);
      assert.ok(got, `${what}: ${key} is missing (it held a previous version)`);
      const listed = await server.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
      const stillListed = (listed.Uploads ?? []).some((upload) => upload.UploadId === uploadId);
      const completed = got.body.length === whole.length && sha256(got.body) === sha256(whole);
      if (outcome.acked) assert.equal(outcome.etag, expectedEtag);
      if (outcome.acked || completed) {
        assertWhole(got, whole, expectedEtag, `${what}: completed object`);
        assert.equal(stillListed, false, `${what}: upload still listed although the object was completed`);
      } else {
        assertWhole(got, previous, `"${md5(previous).toString('hex')}"`, `${what}: previous version`);
        assert.ok(stillListed, `${what}: upload gone although the object was not completed`);
        const listedParts = await server.s3.send(
          new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
        );
        assert.deepEqual(
          listedParts.Parts?.map((part) => [part.PartNumber, part.Size, part.ETag]),
          parts.map((body, i) => [i + 1, body.length, etags[i]]),
          `${what}: parts of the surviving upload`,
        );
      }
      completedBeforeCrash.push(completed);
      await assertNoOrphanBlobs(server, dataDir, what);

      // What a client that got no answer does: Complete again. Either way it now succeeds with the same result.
      const retried = await complete(server.s3);
      assert.equal(retried.ETag, expectedEtag, `${what}: ETag of the retried Complete`);
      const after = await readObject(server.s3, key);
      assert.ok(after, `${what}: ${key} missing after the retried Complete`);
      assertWhole(after, whole, expectedEtag, `${what}: object after the retried Complete`);
    }
    t.diagnostic(
      `Complete takes ${latency} ms; completed before the kill: ${completedBeforeCrash.filter(Boolean).length} of ${rounds}`,
    );
  });

  // Acknowledged writes

  test('SIGKILL during a burst of concurrent PutObjects: every acknowledged write survives, none is torn', async (t) => {
    const hook = lifo(t);
    const dataDir = await tmpDir(hook, 'hoist-crash-burst-');
    let server = await start(hook, dataDir);
    await server.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const rounds = 3;
    const writes = 20;
    const burst = (prefix: string) =>
      Array.from({ length: writes }, (_, i) => ({
        key: `${prefix}/${String(i).padStart(2, '0')}`,
        body: randomBytes(randomInt(1, 512 * KiB)),
      }));
    // How long an uncrashed burst takes, so that round 0 can kill at a random moment inside one.
    const began = performance.now();
    await Promise.all(
      burst('burst/calibration').map(({ key, body }) =>
        server.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body })),
      ),
    );
    const duration = Math.ceil(performance.now() - began);
    const everAcked = new Map<string, Buffer>();
    const stats: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const writesOfRound = burst(`burst/${round}`);
      const keys = writesOfRound.map((write) => write.key);
      const bodies = writesOfRound.map((write) => write.body);
      // Kill when the k-th acknowledgment arrives (k = 0: at a random moment of the burst), plus a little jitter.
      const killAt = round === 0 ? 0 : randomInt(1, writes - 4);
      const jitterMs = randomInt(0, 4);
      const current = server;
      const kill = () => setTimeout(() => current.proc.child.kill('SIGKILL'), jitterMs);
      if (killAt === 0) setTimeout(kill, randomInt(0, duration + 1));
      const acked = new Set<string>();
      const outcomes = await Promise.all(
        bodies.map(async (body, i) => {
          const outcome = await settle(
            server.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: keys[i], Body: body })),
          );
          if (outcome.acked) {
            assert.equal(outcome.etag, `"${md5(body).toString('hex')}"`);
            acked.add(keys[i]!);
            if (acked.size === killAt) kill();
          }
          return outcome;
        }),
      );
      await crash(server);
      for (const outcome of outcomes) assertCutByCrash(outcome);
      server = await start(hook, dataDir);

      let present = 0;
      for (const [i, key] of keys.entries()) {
        const got = await readObject(server.s3, key);
        const body = bodies[i]!;
        if (acked.has(key)) assert.ok(got, `round ${round}: acknowledged ${key} is lost`);
        if (got === undefined) continue;
        present++;
        assertWhole(got, body, `"${md5(body).toString('hex')}"`, `round ${round}: ${key}`);
      }
      for (const key of acked) everAcked.set(key, bodies[keys.indexOf(key)]!);
      // Writes acknowledged in earlier rounds survived this round's crash too.
      for (const [key, body] of everAcked) {
        const got = await readObject(server.s3, key);
        assert.ok(got, `acknowledged ${key} is lost after round ${round}`);
        assertWhole(got, body, `"${md5(body).toString('hex')}"`, `after round ${round}: ${key}`);
      }
      await assertNoOrphanBlobs(server, dataDir, `round ${round}`);
      stats.push(`${acked.size} acked/${present} present`);
    }
    t.diagnostic(`a burst takes ${duration} ms; of ${writes} writes per round: ${stats.join(', ')}`);
  });
});
