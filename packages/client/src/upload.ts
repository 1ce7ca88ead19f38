/**
 * One upload, start to finish: ask the broker, send the parts in parallel (checksummed,
 * signed just before sending, retried one part at a time), keep resume state, complete, and
 * check that the object's checksum is the file's.
 */
import type { CompletedPart, CreateUploadResponse, TemporaryCredentials, UploadView } from '@hoist/protocol';
import { checksumHeaderName, type DigestAlgorithm, partCount, partRange } from '@hoist/protocol';
import { BrokerClient } from './broker-client.ts';
import { ConcurrencyController } from './concurrency.ts';
import { CredentialManager } from './credentials.ts';
import { Emitter } from './emitter.ts';
import { isUploadError, UploadError } from './errors.ts';
import { fingerprint } from './fingerprint.ts';
import { compositeChecksum, fullObjectChecksum } from './object-checksum.ts';
import { type ResolvedOptions, resolveOptions } from './options.ts';
import { ProgressTracker } from './progress.ts';
import { digestRange } from './range-digest.ts';
import { backoffDelay, sleep } from './retry.ts';
import { classifyS3Response, type ObjectTarget, objectUrl, requireEtag, signedPutHeaders } from './s3.ts';
import type {
  HttpRequest,
  HttpResponse,
  ResumePart,
  ResumeRecord,
  UploadEventName,
  UploadEvents,
  UploadOptions,
  UploadProgress,
  UploadState,
} from './types.ts';

/**
 * Files up to this size (the broker's default single-request limit) are hashed whole before
 * the broker is asked, so it can bind the checksum into a presigned PUT.
 */
const HASH_FIRST_MAX = 8 * 1024 * 1024;
/** Resume state is written at most this often while parts finish (always on pause, failure, exit). */
const PERSIST_EVERY_MS = 1000;
/** Clock differences below this are noise (Date has one-second resolution). */
const SKEW_TOLERANCE_MS = 60_000;

const PAUSED = Symbol('paused');

interface Session {
  id: string;
  target: ObjectTarget;
  mode: CreateUploadResponse['mode'];
  uploadId: string | null;
  partSize: number;
  partCount: number;
  checksumType: CreateUploadResponse['checksumType'];
  /** 'content-md5' on stores without flexible checksums: parts carry Content-MD5, ETags are checked. */
  integrity?: CreateUploadResponse['integrity'];
  createdAt: string;
  expiresAt: string;
  putHeaders?: Record<string, string> | undefined;
  putRequest?: CreateUploadResponse['putRequest'];
}

/** Creates an upload; nothing is sent until `start()`. Throws UploadError('invalid-options'). */
export function createUpload(options: UploadOptions): Upload {
  return new Upload(options);
}

export class Upload {
  readonly #o: ResolvedOptions;
  readonly #broker: BrokerClient;
  readonly #events = new Emitter<UploadEvents>();
  readonly #done = new Map<number, ResumePart>();
  #state: UploadState = 'idle';
  #session: Session | undefined;
  #fingerprint: string | undefined;
  #fileChecksum: string | undefined;
  /** The whole file's MD5 (base64), for single requests on stores without checksums. */
  #md5: string | undefined;
  #credentials: CredentialManager | undefined;
  #progress: ProgressTracker;
  #concurrency: ConcurrencyController;
  #skewMs = 0;
  /** Aborted by pause() and abort(): cancels the requests in flight. */
  #run = new AbortController();
  #aborted = new AbortController();
  #resumed: (() => void) | undefined;
  #promise: Promise<UploadView> | undefined;
  #persistTimer: ReturnType<typeof setTimeout> | undefined;
  #resumeFrom: ResumeRecord | undefined;
  #cleanup: Promise<void> | undefined;
  /** The whole file, read once for a single-request upload. */
  #fileBytes: Uint8Array | undefined;
  /** Checksums of parts hashed ahead of sending (Blob sources only). */
  readonly #ahead = new Map<number, Promise<string>>();

  constructor(options: UploadOptions) {
    this.#o = resolveOptions(options);
    this.#resumeFrom = options.resumeFrom;
    this.#broker = new BrokerClient({
      baseUrl: this.#o.brokerUrl,
      token: this.#o.token,
      fetch: this.#o.fetch,
      retry: this.#o.retry,
      timeoutMs: Math.max(this.#o.stallTimeoutMs, 30_000),
      onRetry: (operation, attempt, delayMs, error) =>
        this.#events.emit('retry', { operation, attempt, delayMs, error }),
    });
    this.#progress = new ProgressTracker(this.#o.source.size, this.#o.now);
    this.#concurrency = this.#newConcurrency();
    const signal = this.#o.signal;
    if (signal) {
      if (signal.aborted) this.#aborted.abort(signal.reason);
      else signal.addEventListener('abort', () => void this.abort(), { once: true });
    }
  }

  get state(): UploadState {
    return this.#state;
  }

  /** The broker's id of this upload, once it has one. */
  get id(): string | undefined {
    return this.#session?.id;
  }

  get key(): string | undefined {
    return this.#session?.target.key;
  }

  get progress(): UploadProgress {
    return this.#progress.snapshot(this.#state === 'completed');
  }

  get concurrency(): number {
    return this.#concurrency.current;
  }

  on<E extends UploadEventName>(name: E, listener: (event: UploadEvents[E]) => void): () => void {
    return this.#events.on(name, listener);
  }

  off<E extends UploadEventName>(name: E, listener: (event: UploadEvents[E]) => void): void {
    this.#events.off(name, listener);
  }

  /** Runs the upload; resolves with the completed upload, rejects with an UploadError. Idempotent. */
  start(): Promise<UploadView> {
    this.#promise ??= this.#main();
    return this.#promise;
  }

  /**
   * Stops sending (requests in flight are cancelled and resent on resume). Resolves once the
   * resume state is saved, so a process may exit right after.
   */
  pause(): Promise<void> {
    if (this.#state !== 'uploading' && this.#state !== 'preparing') return Promise.resolve();
    this.#setState('paused');
    this.#run.abort(PAUSED);
    clearTimeout(this.#persistTimer);
    this.#persistTimer = undefined;
    return this.#persist().catch(() => {});
  }

  resume(): void {
    if (this.#state !== 'paused') return;
    this.#run = new AbortController();
    this.#progress.restartClock();
    this.#setState('uploading');
    this.#resumed?.();
  }

  /** Sets the number of parallel part requests (adaptive changes continue from it). */
  setConcurrency(value: number): void {
    if (!Number.isInteger(value) || value < 1 || value > 64)
      throw new UploadError('invalid-options', `concurrency must be an integer from 1 to 64, got ${value}`);
    this.#concurrency.set(value);
    this.#wake();
  }

  /** Cancels everything in flight, aborts the multipart upload and forgets the resume state. */
  async abort(): Promise<void> {
    if (this.#state === 'completed' || this.#state === 'aborted') return;
    const wasRunning = this.#promise !== undefined;
    this.#aborted.abort(new UploadError('aborted', 'The upload was aborted'));
    this.#run.abort(this.#aborted.signal.reason);
    this.#resumed?.();
    this.#setState('aborted');
    const id = this.#session?.id;
    this.#cleanup ??= (async () => {
      if (id) await this.#broker.abort(id).catch(() => {});
      await this.#forget();
    })();
    await this.#cleanup;
    if (wasRunning) await this.#promise?.catch(() => {});
  }

  // ---- the run --------------------------------------------------------------------------------

  async #main(): Promise<UploadView> {
    try {
      this.#throwIfAborted();
      this.#progress.restartClock();
      this.#setState('preparing');
      const view = await this.#prepare();
      if (view) return this.#finish(view);
      this.#setState(this.#state === 'paused' ? 'paused' : 'uploading');
      const session = this.#required();
      const result =
        session.uploadId === null ? await this.#sendSingle(session) : await this.#sendParts(session);
      return this.#finish(result);
    } catch (caught) {
      // start() settles only once an abort has also aborted the multipart upload.
      if (this.#aborted.signal.aborted) await this.#cleanup;
      const error = this.#aborted.signal.aborted
        ? (this.#aborted.signal.reason as UploadError)
        : isUploadError(caught)
          ? caught
          : new UploadError('network', `The upload failed: ${describe(caught)}`, { cause: caught });
      clearTimeout(this.#persistTimer);
      if (this.#state !== 'aborted') {
        await this.#persist().catch(() => {});
        this.#setState('failed');
      }
      this.#events.emit('error', { error });
      throw error;
    }
  }

  #finish(view: UploadView): UploadView {
    this.#setState('completed');
    this.#events.emit('progress', this.#progress.snapshot(true));
    this.#events.emit('complete', { upload: view });
    return view;
  }

  /** Resumes a stored upload when there is one for this file, else creates one. A view = already done. */
  async #prepare(): Promise<UploadView | undefined> {
    const o = this.#o;
    this.#fingerprint = await fingerprint(o.source);
    const stored = this.#resumeFrom ?? (await o.store?.get(o.resumeKey));
    if (stored) {
      if (stored.fingerprint !== this.#fingerprint) {
        if (this.#resumeFrom)
          throw new UploadError(
            'resume-mismatch',
            `This is not the file that was being uploaded (${stored.fileName}, ${stored.fileSize} bytes): pick the same file to resume`,
          );
        // The file at this path changed: the old upload can never finish.
        await this.#broker.abort(stored.id).catch(() => {});
        await o.store?.delete(stored.key);
      } else {
        const view = await this.#reattach(stored);
        if (view !== null) return view;
      }
    }
    await this.#create();
    return undefined;
  }

  /** Picks up a stored upload: null when it cannot continue (a new one is created instead). */
  async #reattach(stored: ResumeRecord): Promise<UploadView | undefined | null> {
    let view: UploadView;
    try {
      view = await this.#broker.get(stored.id, this.#aborted.signal);
    } catch (error) {
      if (isUploadError(error) && error.code === 'upload-gone') {
        await this.#o.store?.delete(stored.key);
        return null;
      }
      throw error;
    }
    if (view.status === 'completed') {
      await this.#forget(stored.key);
      return view;
    }
    if (view.status !== 'created' && view.status !== 'uploading') {
      await this.#o.store?.delete(stored.key);
      return null;
    }
    // Only multipart uploads are stored; anything else cannot be continued.
    if (stored.uploadId === null) {
      await this.#o.store?.delete(stored.key);
      return null;
    }
    this.#session = sessionOf({ ...stored, key: stored.objectKey }, this.#o.source.size);
    await this.#adoptParts(stored, view.parts ?? []);
    if (stored.mode !== 'presign') {
      const { credentials } = await this.#broker.credentials(stored.id, this.#aborted.signal);
      this.#useCredentials(credentials);
    }
    return undefined;
  }

  /** Trusts a part S3 has when its size is right and its checksum is the file's. */
  async #adoptParts(stored: ResumeRecord, listed: NonNullable<UploadView['parts']>): Promise<void> {
    const session = this.#required();
    const known = new Map(stored.parts.map((p) => [p.partNumber, p]));
    for (const part of listed) {
      if (part.partNumber < 1 || part.partNumber > session.partCount) continue;
      const { start, end } = partRange(this.#o.source.size, session.partSize, part.partNumber);
      // Where the store keeps no checksums the broker lists each part's MD5 (its ETag) instead.
      if (part.size !== end - start || !part.checksum) continue;
      let checksum = known.get(part.partNumber)?.checksum;
      // Sent before a crash but never written down: hash the file's bytes to be sure they match.
      checksum ??= (await digestRange(this.#o.source, this.#o.hasher, this.#digestAlgorithm(), start, end))
        .checksum;
      if (checksum !== part.checksum) continue;
      this.#done.set(part.partNumber, {
        partNumber: part.partNumber,
        size: part.size,
        etag: part.etag,
        checksum,
      });
      this.#progress.confirmed(part.partNumber, part.size);
    }
    this.#events.emit('progress', this.#progress.snapshot());
  }

  async #create(): Promise<void> {
    const o = this.#o;
    if (o.source.size <= HASH_FIRST_MAX) {
      this.#fileBytes = await o.source.read(0, o.source.size);
      this.#fileChecksum = await o.hasher.digest(o.checksumAlgorithm, this.#fileBytes);
      // Also the MD5: a store without checksums takes the file as one PUT only with it declared.
      this.#md5 = await o.hasher.digest('MD5', this.#fileBytes);
    }
    const response = await this.#broker.create(
      {
        filename: o.filename,
        size: o.source.size,
        contentType: o.contentType,
        checksumAlgorithm: o.checksumAlgorithm,
        ...(o.metadata ? { metadata: o.metadata } : {}),
        ...(o.partSize ? { partSize: o.partSize } : {}),
        ...(this.#fileChecksum ? { checksum: this.#fileChecksum, contentMd5: this.#md5 as string } : {}),
      },
      this.#aborted.signal,
      crypto.randomUUID(),
    );
    this.#session = sessionOf(
      {
        ...response,
        checksumType: response.checksumType ?? 'COMPOSITE',
        createdAt: new Date(o.now()).toISOString(),
      },
      o.source.size,
    );
    // Kept only for the single request that sends them.
    if (response.uploadId !== null) this.#fileBytes = undefined;
    if (response.credentials) this.#useCredentials(response.credentials);
    if (response.uploadId !== null) await this.#persist();
  }

  #useCredentials(initial: TemporaryCredentials): void {
    const id = this.#required().id;
    this.#credentials = new CredentialManager({
      initial,
      marginMs: this.#o.refreshMarginMs,
      now: () => this.#now(),
      refresh: async () => (await this.#broker.credentials(id, this.#aborted.signal)).credentials,
      onRefresh: (fresh) => this.#events.emit('credentials', { expiration: fresh.expiration }),
    });
  }

  // ---- single request -------------------------------------------------------------------------

  async #sendSingle(session: Session): Promise<UploadView> {
    const o = this.#o;
    await this.#whileResumable(() =>
      this.#attempts('PutObject', undefined, async (signal, credentials, attempt) => {
        // Read (and hashed) once: in #create for small files, else on the first attempt.
        this.#fileBytes ??= await o.source.read(0, o.source.size);
        this.#fileChecksum ??= await o.hasher.digest(o.checksumAlgorithm, this.#fileBytes);
        const body = o.source.blob?.(0, o.source.size) ?? this.#fileBytes;
        let request: Omit<HttpRequest, 'signal'>;
        if (session.putRequest) {
          request = {
            method: 'PUT',
            url: session.putRequest.url,
            headers: { ...session.putRequest.headers },
            body,
          };
        } else {
          const url = objectUrl(session.target);
          // A single request goes on a store without checksums only with the MD5 hashed in #create.
          const headers = {
            ...session.putHeaders,
            ...this.#digestHeader(
              (this.#digestAlgorithm() === 'MD5' ? this.#md5 : this.#fileChecksum) as string,
            ),
          };
          request = { method: 'PUT', url, headers: await this.#sign(url, headers, credentials), body };
        }
        try {
          requireEtag(await this.#send({ ...request, signal }, 1, o.source.size), 'PutObject');
        } catch (error) {
          // If-None-Match on a retry: an earlier attempt's bytes arrived though its answer did not.
          // Completion verifies the object either way.
          if (error instanceof S3Failure && error.response.status === 412 && attempt > 1) return;
          throw error;
        }
      }),
    );
    this.#fileBytes = undefined;
    this.#progress.confirmed(1, o.source.size);
    this.#setState('completing');
    const view = await this.#broker.complete(session.id, { parts: [] }, this.#aborted.signal);
    this.#checkObjectChecksum(view, this.#fileChecksum);
    return view;
  }

  /** Runs `work` again after each pause, until it finishes or fails for another reason. */
  async #whileResumable(work: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        return await work();
      } catch (error) {
        if (error !== PAUSED) throw error;
        await this.#untilResumed();
        this.#throwIfAborted();
      }
    }
  }

  #untilResumed(): Promise<void> {
    if (this.#state !== 'paused') return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#resumed = () => {
        this.#resumed = undefined;
        resolve();
      };
    });
  }

  // ---- multipart ------------------------------------------------------------------------------

  async #sendParts(session: Session): Promise<UploadView> {
    const queue: number[] = [];
    for (let n = 1; n <= session.partCount; n++) if (!this.#done.has(n)) queue.push(n);
    const running = new Set<Promise<void>>();
    let failure: unknown;
    while ((queue.length > 0 || running.size > 0) && failure === undefined) {
      this.#throwIfAborted();
      if (this.#state === 'paused') {
        await Promise.allSettled(running);
        // Parts that finished while the pause cancelled the others are written down now.
        await this.#persist().catch(() => {});
        await this.#untilResumed();
        continue;
      }
      this.#hashAhead(session, queue);
      while (queue.length > 0 && running.size < this.#concurrency.current && this.#state === 'uploading') {
        const partNumber = queue.shift() as number;
        const task: Promise<void> = this.#sendPart(session, partNumber)
          .catch((error: unknown) => {
            if (error === PAUSED || this.#run.signal.reason === PAUSED) queue.unshift(partNumber);
            else failure ??= error;
          })
          .finally(() => running.delete(task));
        running.add(task);
      }
      await Promise.race([...running, this.#wakeSignal()]);
    }
    if (failure !== undefined) {
      this.#run.abort(failure);
      await Promise.allSettled(running);
      throw failure;
    }
    this.#throwIfAborted();
    return this.#complete(session);
  }

  /**
   * With a Blob to send (browsers), a part's bytes are only read to be hashed, so the parts
   * about to go can be hashed while others upload, at the cost of a checksum each.
   */
  #hashAhead(session: Session, queue: readonly number[]): void {
    const o = this.#o;
    if (!o.source.blob) return;
    for (const partNumber of queue.slice(0, this.#concurrency.current)) {
      if (this.#ahead.has(partNumber)) continue;
      const { start, end } = partRange(o.source.size, session.partSize, partNumber);
      const checksum = digestRange(o.source, o.hasher, this.#digestAlgorithm(), start, end).then(
        (digest) => digest.checksum,
      );
      checksum.catch(() => {}); // awaited (and reported) by the part's own task
      this.#ahead.set(partNumber, checksum);
    }
  }

  async #sendPart(session: Session, partNumber: number): Promise<void> {
    const o = this.#o;
    const { start, end } = partRange(o.source.size, session.partSize, partNumber);
    // With a Blob to send (browsers), the bytes are only read to be hashed, then let go.
    const body = (): Uint8Array | Blob => o.source.blob?.(start, end) ?? (bytes as Uint8Array);
    let bytes: Uint8Array | undefined;
    const ahead = this.#ahead.get(partNumber);
    this.#ahead.delete(partNumber);
    // Hashing ahead is only a head start: if it failed, the part is read here as usual.
    const early = await ahead?.catch(() => undefined);
    let checksum: string;
    if (early !== undefined) checksum = early;
    else ({ checksum, bytes } = await digestRange(o.source, o.hasher, this.#digestAlgorithm(), start, end));
    let etag = '';
    const query = `partNumber=${partNumber}&uploadId=${encodeURIComponent(session.uploadId ?? '')}`;
    let attempts = 0;
    await this.#attempts('UploadPart', partNumber, async (signal, credentials, attempt, lastError) => {
      attempts = attempt;
      if (
        lastError?.upstreamCode === 'BadDigest' ||
        lastError?.upstreamCode === 'XAmzContentChecksumMismatch'
      ) {
        // The bytes changed between read and send, or on the way: read and hash them again.
        ({ checksum, bytes } = await digestRange(o.source, o.hasher, this.#digestAlgorithm(), start, end));
      }
      let request: Omit<HttpRequest, 'signal'>;
      if (session.mode === 'presign') {
        const { parts } = await this.#broker.partUrls(
          session.id,
          { partNumbers: [partNumber], checksums: { [partNumber]: checksum } },
          signal,
          // One try here: the part's own retry loop (with its backoff) is the only one.
          { maxAttempts: 1 },
        );
        const url = parts[0];
        if (!url) throw new UploadError('broker-error', `The broker returned no URL for part ${partNumber}`);
        request = { method: 'PUT', url: url.url, headers: { ...url.headers }, body: body() };
      } else {
        const url = objectUrl(session.target, query);
        const headers = this.#digestHeader(checksum);
        request = { method: 'PUT', url, headers: await this.#sign(url, headers, credentials), body: body() };
      }
      etag = requireEtag(
        await this.#send({ ...request, signal }, partNumber, end - start),
        `UploadPart ${partNumber}`,
      );
    });
    const part: ResumePart = { partNumber, size: end - start, etag, checksum };
    this.#done.set(partNumber, part);
    this.#progress.confirmed(partNumber, part.size);
    this.#concurrency.partDone(part.size);
    this.#events.emit('part', { ...part, attempts });
    this.#events.emit('progress', this.#progress.snapshot());
    this.#schedulePersist();
  }

  async #complete(session: Session): Promise<UploadView> {
    const o = this.#o;
    this.#setState('completing');
    await this.#persist();
    const parts = [...this.#done.values()].sort((a, b) => a.partNumber - b.partNumber);
    const completed: CompletedPart[] = parts.map(({ partNumber, etag, checksum }) => ({
      partNumber,
      etag,
      checksum,
    }));
    let expected: string | undefined;
    let full: string | undefined;
    // Where the store keeps no checksums (`content-md5`), the broker alone checks the ETag chain.
    if (this.#digestAlgorithm() === 'MD5') expected = undefined;
    else if (session.checksumType === 'FULL_OBJECT') {
      full = fullObjectChecksum(o.checksumAlgorithm, parts);
      expected = full;
    } else {
      expected = await compositeChecksum(
        o.checksumAlgorithm,
        parts.map((p) => p.checksum),
        o.hasher,
      );
    }
    let view: UploadView;
    try {
      view = await this.#broker.complete(
        session.id,
        { parts: completed, ...(full ? { checksum: full } : {}) },
        this.#aborted.signal,
      );
    } catch (error) {
      // A completion whose answer was lost: the retry finds the upload already completed.
      if (!isUploadError(error) || error.upstreamCode !== 'conflict') throw error;
      view = await this.#broker.get(session.id, this.#aborted.signal);
      if (view.status !== 'completed') throw error;
    }
    this.#checkObjectChecksum(view, expected);
    await this.#forget();
    return view;
  }

  /** What parts are hashed with: the upload's checksum algorithm, or MD5 where the store keeps none. */
  #digestAlgorithm(): DigestAlgorithm {
    return this.#session?.integrity === 'content-md5' ? 'MD5' : this.#o.checksumAlgorithm;
  }

  /** The header a digest travels in: Content-MD5 where the store keeps no checksums. */
  #digestHeader(digest: string): Record<string, string> {
    const algorithm = this.#digestAlgorithm();
    return { [algorithm === 'MD5' ? 'content-md5' : checksumHeaderName(algorithm)]: digest };
  }

  #checkObjectChecksum(view: UploadView, expected: string | undefined): void {
    if (expected === undefined || view.checksum === undefined) return;
    if (view.checksum !== expected)
      throw new UploadError(
        'checksum-mismatch',
        `The stored object's ${this.#o.checksumAlgorithm} checksum ${view.checksum} is not the file's ${expected}`,
      );
  }

  // ---- one request, retried -------------------------------------------------------------------

  /**
   * Runs `attempt` until it succeeds: backoff with jitter on network errors, stalls, 5xx,
   * SlowDown and RequestTimeout; a credential refresh on ExpiredToken; a clock correction on
   * RequestTimeTooSkewed; no retry on AccessDenied and other permanent errors.
   */
  async #attempts(
    operation: string,
    partNumber: number | undefined,
    attempt: (
      signal: AbortSignal,
      credentials: TemporaryCredentials | undefined,
      attempt: number,
      lastError: UploadError | undefined,
    ) => Promise<void>,
  ): Promise<void> {
    const policy = this.#o.retry;
    let lastError: UploadError | undefined;
    for (let n = 1; ; n++) {
      const signal = this.#run.signal;
      if (signal.aborted) throw signal.reason;
      const credentials = await this.#credentials?.get();
      let error: UploadError;
      let refresh = false;
      try {
        await attempt(signal, credentials, n, lastError);
        return;
      } catch (caught) {
        if (signal.aborted) throw signal.reason;
        if (caught instanceof S3Failure) {
          const verdict = classifyS3Response(caught.response, operation, partNumber);
          if (verdict.action === 'fail') throw verdict.error;
          error = verdict.error;
          if (verdict.action === 'refresh') refresh = true;
          else {
            if (verdict.slowDown) this.#concurrency.backOff(`S3 answered ${error.upstreamCode}`);
            if (verdict.serverTime !== undefined) this.#correctClock(verdict.serverTime);
          }
        } else if (isUploadError(caught)) {
          if (!caught.retryable) throw caught;
          error = caught;
          if (caught.code === 'stalled') this.#concurrency.backOff('a request stalled');
        } else {
          error = new UploadError(
            'network',
            `${operation}${partNumber ? ` of part ${partNumber}` : ''}: ${describe(caught)}`,
            {
              retryable: true,
              cause: caught,
              ...(partNumber ? { partNumber } : {}),
            },
          );
        }
      }
      lastError = error;
      if (n >= policy.maxAttempts) throw error;
      const delayMs = refresh
        ? 0
        : backoffDelay(policy, n, Math.random, (error.retryAfterSeconds ?? 0) * 1000);
      this.#events.emit('retry', { operation, partNumber, attempt: n, delayMs, error });
      if (refresh && credentials && this.#credentials) await this.#credentials.replace(credentials);
      await sleep(delayMs, this.#run.signal);
    }
  }

  /** Sends with a stall watchdog; non-2xx answers throw S3Failure for the caller to classify. */
  async #send(request: HttpRequest, partNumber: number, size: number): Promise<HttpResponse> {
    const stall = new AbortController();
    const signal = AbortSignal.any([request.signal, stall.signal]);
    let last = this.#o.now();
    const tick = Math.max(50, Math.floor(this.#o.stallTimeoutMs / 4));
    const watchdog = setInterval(() => {
      if (this.#o.now() - last > this.#o.stallTimeoutMs) stall.abort();
    }, tick);
    this.#progress.inFlight(partNumber, 0);
    try {
      const response = await this.#o.transport.send({
        ...request,
        signal,
        onUploadProgress: (sent) => {
          last = this.#o.now();
          this.#progress.inFlight(partNumber, Math.min(sent, size));
          this.#events.emit('progress', this.#progress.snapshot());
        },
      });
      const date = Date.parse(response.header('date') ?? '');
      if (Number.isFinite(date)) this.#correctClock(date);
      if (response.status < 200 || response.status > 299) throw new S3Failure(response);
      return response;
    } catch (error) {
      this.#progress.dropped(partNumber);
      if (stall.signal.aborted && !request.signal.aborted)
        throw new UploadError('stalled', `part ${partNumber}: no progress for ${this.#o.stallTimeoutMs} ms`, {
          retryable: true,
          partNumber,
        });
      throw error;
    } finally {
      clearInterval(watchdog);
    }
  }

  async #sign(url: string, headers: Record<string, string>, credentials: TemporaryCredentials | undefined) {
    if (!credentials)
      throw new UploadError('broker-error', 'The broker issued no credentials for this upload');
    return signedPutHeaders({
      url,
      region: this.#required().target.region,
      credentials,
      headers,
      now: this.#now(),
    });
  }

  // ---- state, clock, persistence --------------------------------------------------------------

  #now(): number {
    return this.#o.now() + this.#skewMs;
  }

  #correctClock(serverTime: number): void {
    const skew = serverTime - this.#o.now();
    if (Math.abs(skew - this.#skewMs) > SKEW_TOLERANCE_MS) this.#skewMs = skew;
  }

  #setState(state: UploadState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#events.emit('state', { state, previous });
  }

  #required(): Session {
    if (!this.#session) throw new Error('upload: no session yet');
    return this.#session;
  }

  #throwIfAborted(): void {
    if (this.#aborted.signal.aborted) throw this.#aborted.signal.reason;
  }

  #wakeResolve: (() => void) | undefined;
  #wakeSignal(): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeResolve = resolve;
    });
  }
  #wake(): void {
    this.#wakeResolve?.();
  }

  #newConcurrency(): ConcurrencyController {
    return new ConcurrencyController({
      initial: this.#o.concurrency,
      max: this.#o.maxConcurrency,
      adaptive: this.#o.adaptiveConcurrency,
      now: this.#o.now,
      onChange: (concurrency, reason) => {
        this.#events.emit('concurrency', { concurrency, reason });
        this.#wake();
      },
    });
  }

  #schedulePersist(): void {
    if (!this.#o.store || this.#persistTimer !== undefined || this.#state !== 'uploading') return;
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = undefined;
      void this.#persist().catch(() => {});
    }, PERSIST_EVERY_MS);
  }

  async #persist(): Promise<void> {
    const store = this.#o.store;
    const session = this.#session;
    if (!store || !session || session.uploadId === null || this.#fingerprint === undefined) return;
    if (this.#state === 'aborted' || this.#state === 'completed') return;
    await store.set({
      version: 1,
      key: this.#o.resumeKey,
      fingerprint: this.#fingerprint,
      fileName: this.#o.source.name,
      fileSize: this.#o.source.size,
      brokerUrl: this.#o.brokerUrl,
      id: session.id,
      objectKey: session.target.key,
      bucket: session.target.bucket,
      region: session.target.region,
      endpoint: session.target.endpoint,
      forcePathStyle: session.target.forcePathStyle,
      mode: session.mode,
      uploadId: session.uploadId,
      partSize: session.partSize,
      checksumAlgorithm: this.#o.checksumAlgorithm,
      checksumType: session.checksumType,
      integrity: session.integrity,
      parts: [...this.#done.values()].sort((a, b) => a.partNumber - b.partNumber),
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
    });
  }

  async #forget(key = this.#o.resumeKey): Promise<void> {
    clearTimeout(this.#persistTimer);
    this.#persistTimer = undefined;
    await this.#o.store?.delete(key).catch(() => {});
  }
}

/** The upload as the engine runs it, from the broker's answer or a stored record. */
function sessionOf(
  fields: Omit<Session, 'target' | 'partCount'> & Omit<ObjectTarget, 'key'> & { key: string },
  size: number,
): Session {
  const { endpoint, bucket, key, region, forcePathStyle, uploadId, partSize } = fields;
  return {
    id: fields.id,
    target: { endpoint, bucket, key, region, forcePathStyle },
    mode: fields.mode,
    uploadId,
    partSize,
    partCount: uploadId === null ? 1 : partCount(size, partSize),
    checksumType: fields.checksumType,
    integrity: fields.integrity,
    createdAt: fields.createdAt,
    expiresAt: fields.expiresAt,
    putHeaders: fields.putHeaders,
    putRequest: fields.putRequest,
  };
}

/** A non-2xx answer from S3, classified by the retry loop. */
class S3Failure extends Error {
  readonly response: HttpResponse;
  constructor(response: HttpResponse) {
    super(`HTTP ${response.status}`);
    this.response = response;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
