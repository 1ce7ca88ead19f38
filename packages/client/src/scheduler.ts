/**
 * Part scheduling: the parts S3 does not have yet, sent as many at a time as the concurrency
 * allows (it changes while they run), each hashed, signed or presigned, sent and retried on
 * its own; with a Blob to send (browsers) the next parts are hashed while others upload.
 */
import { partRange } from '@hoist/protocol';
import type { BrokerClient } from './broker-client.ts';
import type { ConcurrencyController } from './concurrency.ts';
import type { Emitter } from './emitter.ts';
import { UploadError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import type { ProgressTracker } from './progress.ts';
import { digestRange } from './range-digest.ts';
import type { ResumeKeeper } from './resume.ts';
import { objectUrl, requireEtag } from './s3.ts';
import type { S3Sender } from './s3-sender.ts';
import { digestAlgorithm, digestHeader, type Session } from './session.ts';
import type { HttpRequest, ResumePart, UploadEvents, UploadState } from './types.ts';

/** The reason pause() aborts the requests in flight with: they are resent on resume. */
export const PAUSED = Symbol('paused');

/** What the scheduler needs of the upload's state machine. */
export interface PartRun {
  state(): UploadState;
  /** Aborted by pause (with PAUSED), abort, or a part that failed for good. */
  controller(): AbortController;
  /** Resolves once a paused upload resumes (at once when not paused). */
  untilResumed(): Promise<void>;
  /** Throws the abort error once the upload was aborted. */
  check(): void;
}

/** Sends the parts of one upload. */
export interface PartScheduler {
  /** The concurrency changed: start more parts now. */
  wake(): void;
  /** Sends every part S3 does not have yet; rejects with the first part that fails for good. */
  sendAll(session: Session): Promise<void>;
}

export function createPartScheduler(
  o: ResolvedOptions,
  broker: BrokerClient,
  sender: S3Sender,
  resume: ResumeKeeper,
  progress: ProgressTracker,
  concurrency: ConcurrencyController,
  events: Emitter<UploadEvents>,
  run: PartRun,
): PartScheduler {
  const { source, hasher } = o;
  /** Checksums of parts hashed ahead of sending (Blob sources only). */
  const ahead = new Map<number, Promise<string>>();
  let wake: (() => void) | undefined;

  /**
   * With a Blob to send (browsers), a part's bytes are only read to be hashed, so the parts
   * about to go can be hashed while others upload, at the cost of a checksum each.
   */
  const hashAhead = (session: Session, queue: readonly number[]): void => {
    if (!source.blob) return;
    for (const partNumber of queue.slice(0, concurrency.current)) {
      if (ahead.has(partNumber)) continue;
      const { start, end } = partRange(source.size, session.partSize, partNumber);
      const checksum = digestRange(
        source,
        hasher,
        digestAlgorithm(session, o.checksumAlgorithm),
        start,
        end,
      ).then((digest) => digest.checksum);
      checksum.catch(() => {}); // awaited (and reported) by the part's own task
      ahead.set(partNumber, checksum);
    }
  };

  const send = async (session: Session, partNumber: number): Promise<void> => {
    const algorithm = digestAlgorithm(session, o.checksumAlgorithm);
    const { start, end } = partRange(source.size, session.partSize, partNumber);
    // With a Blob to send (browsers), the bytes are only read to be hashed, then let go.
    const body = (): Uint8Array | Blob => source.blob?.(start, end) ?? (bytes as Uint8Array);
    let bytes: Uint8Array | undefined;
    const early = ahead.get(partNumber);
    ahead.delete(partNumber);
    // Hashing ahead is only a head start: if it failed, the part is read here as usual.
    let checksum = await early?.catch(() => undefined);
    const hash = async (): Promise<string> => {
      const digest = await digestRange(source, hasher, algorithm, start, end);
      bytes = digest.bytes;
      return digest.checksum;
    };
    checksum ??= await hash();
    const query = `partNumber=${partNumber}&uploadId=${encodeURIComponent(session.uploadId ?? '')}`;
    let attempts = 0;
    const signal = run.controller().signal;
    const etag = await sender.attempts(
      'UploadPart',
      partNumber,
      signal,
      async (credentials, attempt, lastError) => {
        attempts = attempt;
        // The bytes changed between read and send, or on the way: read and hash them again.
        if (
          lastError?.upstreamCode === 'BadDigest' ||
          lastError?.upstreamCode === 'XAmzContentChecksumMismatch'
        )
          checksum = await hash();
        let request: Omit<HttpRequest, 'signal'>;
        if (session.mode === 'presign') {
          const { parts } = await broker.partUrls(
            session.id,
            { partNumbers: [partNumber], checksums: { [partNumber]: checksum as string } },
            signal,
            // One try here: the part's own retry loop (with its backoff) is the only one.
            { maxAttempts: 1 },
          );
          const url = parts[0];
          if (!url)
            throw new UploadError('broker-error', `The broker returned no URL for part ${partNumber}`);
          request = { method: 'PUT', url: url.url, headers: { ...url.headers }, body: body() };
        } else {
          const url = objectUrl(session, query);
          const headers = await sender.sign(
            url,
            digestHeader(algorithm, checksum as string),
            credentials,
            session.region,
          );
          request = { method: 'PUT', url, headers, body: body() };
        }
        return requireEtag(
          await sender.send({ ...request, signal }, partNumber, end - start),
          `UploadPart ${partNumber}`,
        );
      },
    );
    const part: ResumePart = { partNumber, size: end - start, etag, checksum };
    resume.parts.set(partNumber, part);
    progress.confirmed(partNumber, part.size);
    concurrency.partDone(part.size);
    events.emit('part', { ...part, attempts });
    events.emit('progress', progress.snapshot());
    resume.schedule();
  };

  return {
    wake: () => wake?.(),
    async sendAll(session) {
      const queue: number[] = [];
      for (let n = 1; n <= session.partCount; n++) if (!resume.parts.has(n)) queue.push(n);
      const running = new Set<Promise<void>>();
      let failure: unknown;
      while ((queue.length > 0 || running.size > 0) && failure === undefined) {
        run.check();
        if (run.state() === 'paused') {
          await Promise.allSettled(running);
          // Parts that finished while the pause cancelled the others are written down now.
          await resume.save().catch(() => {});
          await run.untilResumed();
          continue;
        }
        hashAhead(session, queue);
        while (queue.length > 0 && running.size < concurrency.current && run.state() === 'uploading') {
          const partNumber = queue.shift() as number;
          const task: Promise<void> = send(session, partNumber)
            .catch((error: unknown) => {
              if (error === PAUSED || run.controller().signal.reason === PAUSED) queue.unshift(partNumber);
              else failure ??= error;
            })
            .finally(() => running.delete(task));
          running.add(task);
        }
        await Promise.race([
          ...running,
          new Promise<void>((resolve) => {
            wake = resolve;
          }),
        ]);
      }
      if (failure !== undefined) {
        run.controller().abort(failure);
        await Promise.allSettled(running);
        throw failure;
      }
      run.check();
    },
  };
}
