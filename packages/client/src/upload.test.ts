/**
 * The engine's state machine against a scripted fake stack: a broker behind an injected
 * `fetch`, an S3 transport whose answers are scripted per request, and a virtual clock that
 * jumps to the next timer once the engine is idle, so retries, persistence and the stall
 * watchdog run in milliseconds without real sleeps. The end-to-end suites
 * (test/e2e/engine*.test.ts) run the same engine against the real local servers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { CreateUploadResponse, UploadView } from '@hoist/protocol';
import type { Clock } from './clock.ts';
import { UploadError } from './errors.ts';
import type {
  HttpRequest,
  HttpResponse,
  ResumeRecord,
  ResumeStore,
  UploadEvents,
  UploadOptions,
  UploadState,
} from './types.ts';
import { Upload } from './upload.ts';

const MiB = 1024 * 1024;
const PART = MiB;
const SIZE = 4 * PART;
const START = Date.parse('2026-01-01T00:00:00Z');

/**
 * A clock whose timers fire in time order, each once nothing else is left to run; with
 * `auto` false they never fire (a test that pauses or aborts a hanging request would
 * otherwise race the stall watchdog).
 */
class VirtualClock implements Clock {
  readonly auto: boolean;
  time = START;
  #timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  #seq = 0;
  #pumping = false;
  constructor(auto = true) {
    this.auto = auto;
  }
  now = (): number => this.time;
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + ms, seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    if (this.auto) this.#pump();
    return () => {
      timer.cancelled = true;
    };
  }
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    // setImmediate runs once every promise reaction is done: the engine waits on a timer (or on
    // WebCrypto's thread pool, which a timer firing early cannot hurt: virtual time only orders).
    setImmediate(() => {
      this.#pumping = false;
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift();
      if (next) {
        this.time = Math.max(this.time, next.at);
        next.fn();
      }
      if (this.#timers.length > 0) this.#pump();
    });
  }
}

function bytesOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
  return bytes;
}

const digest = (algorithm: string, bytes: Uint8Array): string =>
  createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(bytes)
    .digest('base64');

function response(status: number, headers: Record<string, string> = {}, text = ''): HttpResponse {
  return { status, header: (name) => headers[name] ?? null, text };
}

const s3Error = (status: number, code: string, message = code): HttpResponse =>
  response(status, {}, `<Error><Code>${code}</Code><Message>${message}</Message></Error>`);

/** What the scripted S3 answers one request with: a response, or 'hang' until it is aborted. */
type Answer = HttpResponse | 'hang';
/** Scripts answers by part number and attempt (1-based); anything unscripted succeeds. */
type Script = (partNumber: number, attempt: number, request: HttpRequest) => Answer | undefined;

interface SentRequest {
  partNumber: number;
  attempt: number;
  request: HttpRequest;
  aborted: boolean;
}

function memoryStore(): ResumeStore & { records: Map<string, ResumeRecord> } {
  const records = new Map<string, ResumeRecord>();
  return {
    records,
    get: async (key) => structuredClone(records.get(key)),
    set: async (record) => {
      records.set(record.key, structuredClone(record));
    },
    delete: async (key) => {
      records.delete(key);
    },
    list: async () => [...records.values()],
  };
}

interface StackOptions {
  script?: Script;
  mode?: CreateUploadResponse['mode'];
  /** Parts the broker lists for GET /uploads/:id (resuming). */
  listed?: UploadView['parts'];
  options?: Partial<UploadOptions>;
  /** false: timers never fire (see VirtualClock). */
  autoClock?: boolean;
}

/** A scripted broker and S3, and an upload of a 4 MiB file in 1 MiB parts through them. */
function fakeStack(setup: StackOptions = {}) {
  const clock = new VirtualClock(setup.autoClock ?? true);
  const file = bytesOf(SIZE);
  const sent: SentRequest[] = [];
  const broker: { method: string; path: string; body: unknown }[] = [];
  const attempts = new Map<number, number>();
  let keyNumber = 0;
  const credentials = () => ({
    accessKeyId: `AKIAFAKE${++keyNumber}`,
    secretAccessKey: 'secret',
    sessionToken: `token-${keyNumber}`,
    expiration: new Date(clock.now() + 3_600_000).toISOString(),
  });
  const mode = setup.mode ?? 'sts';
  const view = (status: UploadView['status'], parts?: UploadView['parts']): UploadView => ({
    id: 'up-1',
    status,
    filename: 'f.bin',
    key: 'uploads/u1/f.bin',
    size: SIZE,
    contentType: 'application/octet-stream',
    mode,
    uploadId: 'mpu-1',
    partSize: PART,
    checksumAlgorithm: 'SHA256',
    createdAt: new Date(START).toISOString(),
    ...(parts ? { parts } : {}),
  });

  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const path = url.pathname.replace(/^\/api/, '');
    broker.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (method === 'POST' && path === '/uploads') {
      const created: CreateUploadResponse = {
        id: 'up-1',
        bucket: 'b',
        key: 'uploads/u1/f.bin',
        region: 'us-east-1',
        endpoint: 'http://s3.test',
        forcePathStyle: true,
        mode,
        uploadId: 'mpu-1',
        partSize: PART,
        partCount: SIZE / PART,
        checksumAlgorithm: 'SHA256',
        checksumType: 'COMPOSITE',
        ...(mode === 'presign' ? {} : { credentials: credentials() }),
        expiresAt: new Date(START + 86_400_000).toISOString(),
      };
      return json(created, 201);
    }
    if (method === 'POST' && path === '/uploads/up-1/credentials')
      return json({ credentials: credentials() });
    if (method === 'POST' && path === '/uploads/up-1/parts') {
      const { partNumbers } = JSON.parse(String(init?.body)) as { partNumbers: number[] };
      return json({
        parts: partNumbers.map((n) => ({
          partNumber: n,
          url: `http://s3.test/b/k?partNumber=${n}`,
          headers: {},
        })),
      });
    }
    if (method === 'POST' && path === '/uploads/up-1/complete') return json(view('completed'));
    if (method === 'GET' && path === '/uploads/up-1') return json(view('uploading', setup.listed ?? []));
    if (method === 'DELETE' && path === '/uploads/up-1') return json({});
    return json({ type: 'https://hoist.dev/problems/not-found', title: 'No such upload', status: 404 }, 404);
  };

  const transport = {
    send(request: HttpRequest): Promise<HttpResponse> {
      const partNumber = Number(new URL(request.url).searchParams.get('partNumber') ?? 1);
      const attempt = (attempts.get(partNumber) ?? 0) + 1;
      attempts.set(partNumber, attempt);
      const entry: SentRequest = { partNumber, attempt, request, aborted: false };
      sent.push(entry);
      const answer =
        setup.script?.(partNumber, attempt, request) ?? response(200, { etag: `"etag-${partNumber}"` });
      return new Promise((resolve, reject) => {
        const abort = () => {
          entry.aborted = true;
          reject(new DOMException('aborted', 'AbortError'));
        };
        if (request.signal.aborted) return abort();
        request.signal.addEventListener('abort', abort, { once: true });
        if (answer === 'hang') return;
        request.onUploadProgress?.(PART);
        resolve(answer);
      });
    },
  };

  const store = memoryStore();
  const events: { [E in keyof UploadEvents]?: UploadEvents[E][] } = {};
  const upload = new Upload(
    {
      source: {
        name: 'f.bin',
        size: SIZE,
        type: 'application/octet-stream',
        lastModified: START,
        read: async (start, end) => file.slice(start, end),
      },
      brokerUrl: 'http://broker.test/api',
      token: 'tok',
      checksumAlgorithm: 'SHA256',
      concurrency: 2,
      adaptiveConcurrency: false,
      stallTimeoutMs: 1000,
      transport,
      hasher: { digest: async (algorithm, bytes) => digest(algorithm, bytes) },
      fetch,
      store,
      resumeKey: 'k',
      now: clock.now,
      ...setup.options,
    },
    clock,
  );
  const record =
    <E extends keyof UploadEvents>(name: E) =>
    (event: UploadEvents[E]) => {
      const list = (events[name] ?? []) as UploadEvents[E][];
      list.push(event);
      events[name] = list as never;
    };
  upload.on('state', record('state'));
  upload.on('retry', record('retry'));
  upload.on('part', record('part'));
  upload.on('credentials', record('credentials'));
  upload.on('error', record('error'));
  const states = (): UploadState[] => (events.state ?? []).map((e) => e.state);
  const brokerCalls = (method: string, path: string) =>
    broker.filter((call) => call.method === method && call.path === path);
  return { clock, file, upload, sent, broker, brokerCalls, store, events, states };
}

/** A part's S3 checksum, as the engine computes it. */
const partChecksum = (file: Uint8Array, n: number) => digest('SHA256', file.slice((n - 1) * PART, n * PART));

describe('the upload state machine through a scripted transport', () => {
  test('sends every part, completes with them in order, and walks the states', async () => {
    const stack = fakeStack();
    const view = await stack.upload.start();
    assert.equal(view.status, 'completed');
    assert.deepEqual(stack.states(), ['preparing', 'uploading', 'completing', 'completed']);
    assert.deepEqual(stack.sent.map((s) => s.partNumber).sort(), [1, 2, 3, 4]);
    const complete = completeBody(stack.brokerCalls('POST', '/uploads/up-1/complete'));
    const parts = complete.parts;
    assert.deepEqual(
      parts.map((p) => [p.partNumber, p.etag, p.checksum]),
      [1, 2, 3, 4].map((n) => [n, `"etag-${n}"`, partChecksum(stack.file, n)]),
    );
    assert.equal(stack.store.records.size, 0, 'the resume record is gone once completed');
  });

  test('part 3 answered 503 twice is retried with backoff and then succeeds', async () => {
    const stack = fakeStack({
      script: (part, attempt) => (part === 3 && attempt <= 2 ? s3Error(503, 'SlowDown') : undefined),
    });
    await stack.upload.start();
    const retries = stack.events.retry ?? [];
    assert.deepEqual(
      retries.map((r) => [r.operation, r.partNumber, r.attempt, r.error.upstreamCode]),
      [
        ['UploadPart', 3, 1, 'SlowDown'],
        ['UploadPart', 3, 2, 'SlowDown'],
      ],
    );
    assert.ok(retries.every((r) => r.error.retryable));
    assert.equal(stack.events.part?.find((p) => p.partNumber === 3)?.attempts, 3);
    assert.equal(stack.sent.filter((s) => s.partNumber === 3).length, 3);
  });

  test('credentials that expire mid-upload are refreshed through the broker and the part re-signed at once', async () => {
    const stack = fakeStack({
      script: (part, attempt) => (part === 2 && attempt === 1 ? s3Error(400, 'ExpiredToken') : undefined),
    });
    await stack.upload.start();
    assert.equal(stack.brokerCalls('POST', '/uploads/up-1/credentials').length, 1);
    assert.equal(stack.events.credentials?.length, 1);
    const retry = stack.events.retry?.[0];
    assert.equal(retry?.delayMs, 0, 'no backoff before a retry with fresh credentials');
    const [first, second] = stack.sent.filter((s) => s.partNumber === 2);
    assert.match(first?.request.headers.authorization ?? '', /Credential=AKIAFAKE1\//);
    assert.match(second?.request.headers.authorization ?? '', /Credential=AKIAFAKE2\//);
    assert.equal(second?.request.headers['x-amz-security-token'], 'token-2');
  });

  test('pause cancels the part in flight and writes resume state; resume sends it again', async () => {
    // Part 2's first request hangs; the pause arrives while it is in flight.
    const hang = fakeStack({
      autoClock: false,
      options: { concurrency: 1 },
      script: (part, attempt) => (part === 2 && attempt === 1 ? 'hang' : undefined),
    });
    const done = hang.upload.start();
    await until(() => hang.sent.some((s) => s.partNumber === 2));
    await hang.upload.pause();
    assert.equal(hang.upload.state, 'paused');
    const record = hang.store.records.get('k');
    assert.deepEqual(
      record?.parts.map((p) => p.partNumber),
      [1],
      'the record holds the part that finished before the pause',
    );
    assert.equal(hang.sent.find((s) => s.partNumber === 2)?.aborted, true);
    hang.upload.resume();
    await done;
    assert.deepEqual(
      hang.sent.filter((s) => s.partNumber === 2).map((s) => s.aborted),
      [true, false],
    );
    assert.equal(
      hang.states().join(' → '),
      'preparing → uploading → paused → uploading → completing → completed',
    );
  });

  test('resume adopts the parts the broker lists when their checksums are the file’s', async () => {
    const file = bytesOf(SIZE);
    const listed = [1, 2].map((n) => ({
      partNumber: n,
      size: PART,
      etag: `"old-${n}"`,
      checksum: partChecksum(file, n),
    }));
    // Part 3 is listed with a checksum that is not the file's: it is sent again.
    listed.push({
      partNumber: 3,
      size: PART,
      etag: '"old-3"',
      checksum: digest('SHA256', new Uint8Array(1)),
    });
    const first = fakeStack({ autoClock: false, script: (part) => (part >= 2 ? 'hang' : undefined) });
    const running = first.upload.start();
    await until(() => first.sent.length >= 2);
    await first.upload.pause();
    const record = first.store.records.get('k') as ResumeRecord;
    void running;

    const stack = fakeStack({ listed, options: { resumeFrom: record } });
    const view = await stack.upload.start();
    assert.equal(view.status, 'completed');
    assert.deepEqual(
      stack.sent.map((s) => s.partNumber).sort(),
      [3, 4],
      'only the parts S3 does not have (with the right bytes) are sent',
    );
    assert.equal(stack.brokerCalls('POST', '/uploads').length, 0, 'no new upload is created');
    const complete = completeBody(stack.brokerCalls('POST', '/uploads/up-1/complete'));
    const parts = complete.parts;
    assert.deepEqual(
      parts.map((p) => p.etag),
      ['"old-1"', '"old-2"', '"etag-3"', '"etag-4"'],
    );
  });

  test('abort cancels the requests in flight, aborts the upload on the broker and forgets the record', async () => {
    const stack = fakeStack({ autoClock: false, script: () => 'hang' });
    const started = stack.upload.start();
    await until(() => stack.sent.length === 2);
    await stack.upload.abort();
    await assert.rejects(started, (error) => error instanceof UploadError && error.code === 'aborted');
    assert.ok(stack.sent.every((s) => s.aborted));
    assert.equal(stack.brokerCalls('DELETE', '/uploads/up-1').length, 1);
    assert.equal(stack.store.records.size, 0);
    assert.equal(stack.upload.state, 'aborted');
  });

  test('a 403 AccessDenied stops the upload at once with a typed error', async () => {
    const stack = fakeStack({
      script: (part) => (part === 2 ? s3Error(403, 'AccessDenied', 'Access Denied') : undefined),
    });
    await assert.rejects(
      stack.upload.start(),
      (error) =>
        error instanceof UploadError &&
        error.code === 'access-denied' &&
        error.upstreamCode === 'AccessDenied' &&
        error.partNumber === 2 &&
        !error.retryable,
    );
    assert.equal(stack.events.retry, undefined, 'nothing is retried');
    assert.equal(stack.sent.filter((s) => s.partNumber === 2).length, 1);
    assert.equal(stack.upload.state, 'failed');
    assert.equal(stack.events.error?.[0]?.error.code, 'access-denied');
    assert.equal(stack.brokerCalls('POST', '/uploads/up-1/complete').length, 0);
    assert.ok(stack.store.records.has('k'), 'the record stays for a later resume');
  });

  test('the stall watchdog cancels a request without progress and the part is sent again', async () => {
    const stack = fakeStack({
      script: (part, attempt) => (part === 2 && attempt === 1 ? 'hang' : undefined),
    });
    const startedAt = stack.clock.now();
    await stack.upload.start();
    const stalled = stack.events.retry?.find((r) => r.error.code === 'stalled');
    assert.equal(stalled?.partNumber, 2);
    assert.equal(stack.sent.find((s) => s.partNumber === 2 && s.attempt === 1)?.aborted, true);
    assert.ok(stack.clock.now() - startedAt > 1000, 'virtual time passed the stall timeout');
  });

  test('presigned parts: each URL is asked for with the part’s checksum, once per attempt', async () => {
    const stack = fakeStack({
      mode: 'presign',
      script: (part, attempt) => (part === 1 && attempt === 1 ? s3Error(500, 'InternalError') : undefined),
    });
    await stack.upload.start();
    const asked = stack
      .brokerCalls('POST', '/uploads/up-1/parts')
      .map((c) => c.body as { partNumbers: number[]; checksums: Record<string, string> });
    assert.equal(asked.filter((b) => b.partNumbers[0] === 1).length, 2);
    assert.equal(asked.find((b) => b.partNumbers[0] === 3)?.checksums['3'], partChecksum(stack.file, 3));
    assert.ok(stack.sent.every((s) => s.request.headers.authorization === undefined));
  });
});

/** The parts of the one completion call. */
function completeBody(calls: { body: unknown }[]) {
  assert.equal(calls.length, 1);
  return calls[0]?.body as { parts: { partNumber: number; etag: string; checksum: string }[] };
}

/**
 * Waits (a macrotask at a time) until `condition` holds. WebCrypto (fingerprint, signing) runs
 * on Node's thread pool, so this is bounded by wall time, not by a number of turns.
 */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('until: the condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
