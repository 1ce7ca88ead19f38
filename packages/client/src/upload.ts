/**
 * One upload, start to finish, as a state machine with events: ask the broker (or pick up a
 * stored upload), send the parts, complete, and check the object is the file. The jobs are
 * elsewhere: resume state in resume.ts, the parts in scheduler.ts, requests to S3 (retries,
 * the stall watchdog, signing) in s3-sender.ts, the one-request path in single.ts, completion
 * in complete.ts.
 */
import type { CreateUploadRequest, CreateUploadResponse, UploadView } from '@hoist/protocol';
import { concurrencyProblem } from '@hoist/protocol';
import { BrokerClient } from './broker-client.ts';
import { type Clock, systemClock } from './clock.ts';
import { checkObjectChecksum, completeParts } from './complete.ts';
import { ConcurrencyController } from './concurrency.ts';
import { Emitter } from './emitter.ts';
import { isUploadError, UploadError } from './errors.ts';
import { type ResolvedOptions, resolveOptions } from './options.ts';
import { ProgressTracker } from './progress.ts';
import { createResumeKeeper, type ResumeKeeper } from './resume.ts';
import { createS3Sender, describe, type S3Sender } from './s3-sender.ts';
import { createPartScheduler, PAUSED, type PartScheduler } from './scheduler.ts';
import { type Session, sessionOf } from './session.ts';
import { hashFirst, rememberIntegrity, sendSingleRequest, type WholeFile } from './single.ts';
import type { UploadEventName, UploadEvents, UploadOptions, UploadProgress, UploadState } from './types.ts';

/** Creates an upload; nothing is sent until `start()`. Throws UploadError('invalid-options'). */
export function createUpload(options: UploadOptions): Upload {
  return new Upload(options);
}

export class Upload {
  readonly #o: ResolvedOptions;
  readonly #broker: BrokerClient;
  readonly #events = new Emitter<UploadEvents>();
  readonly #progress: ProgressTracker;
  readonly #concurrency: ConcurrencyController;
  readonly #sender: S3Sender;
  readonly #resume: ResumeKeeper;
  readonly #parts: PartScheduler;
  #state: UploadState = 'idle';
  #session: Session | undefined;
  /** The whole file for a single request, and its checksums. */
  #file: WholeFile = {};
  /** Aborted by pause() and abort(): cancels the requests in flight. */
  #run = new AbortController();
  #aborted = new AbortController();
  #resumed: (() => void) | undefined;
  #promise: Promise<UploadView> | undefined;
  #cleanup: Promise<void> | undefined;

  /** `clock`: the engine's own tests run it on a virtual clock; the `now` option otherwise. */
  constructor(options: UploadOptions, clock?: Clock) {
    const o = resolveOptions(options);
    this.#o = o;
    const time = clock ?? systemClock(o.now);
    this.#broker = new BrokerClient({
      baseUrl: o.brokerUrl,
      token: o.token,
      fetch: o.fetch,
      retry: o.retry,
      timeoutMs: Math.max(o.stallTimeoutMs, 30_000),
      onRetry: (operation, attempt, delayMs, error) =>
        this.#events.emit('retry', { operation, attempt, delayMs, error }),
      clock: time,
    });
    this.#progress = new ProgressTracker(o.source.size, time.now);
    this.#concurrency = new ConcurrencyController({
      initial: o.concurrency,
      max: o.maxConcurrency,
      adaptive: o.adaptiveConcurrency,
      now: time.now,
      onChange: (concurrency, reason) => {
        this.#events.emit('concurrency', { concurrency, reason });
        this.#parts.wake();
      },
    });
    this.#sender = createS3Sender(o, time, this.#progress, this.#concurrency, this.#events);
    this.#resume = createResumeKeeper(
      o,
      time,
      this.#broker,
      options.resumeFrom,
      () => this.#state,
      () => this.#session,
    );
    this.#parts = createPartScheduler(
      o,
      this.#broker,
      this.#sender,
      this.#resume,
      this.#progress,
      this.#concurrency,
      this.#events,
      {
        state: () => this.#state,
        controller: () => this.#run,
        untilResumed: () => this.#untilResumed(),
        check: () => this.#throwIfAborted(),
      },
    );
    const signal = o.signal;
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
    return this.#session?.key;
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
    this.#resume.cancel();
    return this.#resume.save().catch(() => {});
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
    const problem = concurrencyProblem(value);
    if (problem) throw new UploadError('invalid-options', `concurrency ${problem}, got ${value}`);
    this.#concurrency.set(value);
    this.#parts.wake();
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
      await this.#resume.forget();
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
      const done = await this.#prepare();
      if (done) return this.#finish(done);
      this.#setState(this.#state === 'paused' ? 'paused' : 'uploading');
      const session = this.#session as Session;
      return this.#finish(
        session.uploadId === null ? await this.#sendSingle(session) : await this.#sendParts(session),
      );
    } catch (caught) {
      // start() settles only once an abort has also aborted the multipart upload.
      if (this.#aborted.signal.aborted) await this.#cleanup;
      const error = this.#aborted.signal.aborted
        ? (this.#aborted.signal.reason as UploadError)
        : isUploadError(caught)
          ? caught
          : new UploadError('network', `The upload failed: ${describe(caught)}`, { cause: caught });
      this.#resume.cancel();
      if (this.#state !== 'aborted') {
        await this.#resume.save().catch(() => {});
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
    const signal = this.#aborted.signal;
    const found = await this.#resume.resume(signal, (session) => {
      this.#session = session;
    });
    if (found && 'status' in found) return found;
    if (!found) return this.#create();
    for (const part of this.#resume.parts.values()) this.#progress.confirmed(part.partNumber, part.size);
    this.#events.emit('progress', this.#progress.snapshot());
    if (found.mode !== 'presign')
      this.#useCredentials((await this.#broker.credentials(found.id, signal)).credentials);
    return undefined;
  }

  async #create(): Promise<undefined> {
    const o = this.#o;
    const file = await hashFirst(o);
    this.#file = file;
    const request: CreateUploadRequest = {
      filename: o.filename,
      size: o.source.size,
      contentType: o.contentType,
      checksumAlgorithm: o.checksumAlgorithm,
      ...(o.metadata ? { metadata: o.metadata } : {}),
      ...(o.partSize ? { partSize: o.partSize } : {}),
      ...(file.checksum ? { checksum: file.checksum } : {}),
      ...(file.md5 ? { contentMd5: file.md5 } : {}),
    };
    const signal = this.#aborted.signal;
    // A form only for files hashed first (those small enough for one request at the default size).
    const form = o.singleRequest === 'post' && file.checksum !== undefined;
    let response: CreateUploadResponse;
    try {
      const asked: CreateUploadRequest = form ? { ...request, singleRequest: 'post' } : request;
      response = await this.#broker.create(asked, signal, crypto.randomUUID());
    } catch (error) {
      // A broker with a smaller single-request size refuses the form: then ask as for any file.
      if (!form || !isUploadError(error) || error.code !== 'too-large') throw error;
      response = await this.#broker.create(request, signal, crypto.randomUUID());
    }
    this.#session = sessionOf(
      {
        ...response,
        checksumType: response.checksumType ?? 'COMPOSITE',
        createdAt: new Date(o.now()).toISOString(),
      },
      o.source.size,
    );
    rememberIntegrity(o, response.integrity ?? 'checksum');
    // Kept only for the single request that sends them.
    if (response.uploadId !== null) file.bytes = undefined;
    if (response.credentials) this.#useCredentials(response.credentials);
    if (response.uploadId !== null) await this.#resume.save();
    return undefined;
  }

  #useCredentials(initial: Parameters<S3Sender['useCredentials']>[0]): void {
    const id = (this.#session as Session).id;
    this.#sender.useCredentials(
      initial,
      async () => (await this.#broker.credentials(id, this.#aborted.signal)).credentials,
    );
  }

  async #sendSingle(session: Session): Promise<UploadView> {
    const o = this.#o;
    await this.#whileResumable(() =>
      sendSingleRequest(o, this.#sender, session, this.#file, this.#run.signal),
    );
    const checksum = this.#file.checksum;
    this.#file = {};
    this.#progress.confirmed(1, o.source.size);
    this.#setState('completing');
    const view = await this.#broker.complete(session.id, { parts: [] }, this.#aborted.signal);
    checkObjectChecksum(view, checksum, o.checksumAlgorithm);
    return view;
  }

  async #sendParts(session: Session): Promise<UploadView> {
    await this.#parts.sendAll(session);
    this.#setState('completing');
    await this.#resume.save();
    const view = await completeParts(
      this.#o,
      this.#broker,
      session,
      this.#resume.sorted(),
      this.#aborted.signal,
    );
    await this.#resume.forget();
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

  #setState(state: UploadState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#events.emit('state', { state, previous });
  }

  #throwIfAborted(): void {
    if (this.#aborted.signal.aborted) throw this.#aborted.signal.reason;
  }
}
