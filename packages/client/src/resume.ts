/**
 * Resume and persistence: finding the stored upload of this file and picking it up (parts S3
 * lists are trusted only when their size and checksum are the file's), and keeping the record
 * up to date as parts finish, so a rerun, a reload or a crash loses little.
 */
import type { UploadView } from '@hoist/protocol';
import { partRange } from '@hoist/protocol';
import type { BrokerClient } from './broker-client.ts';
import type { Clock } from './clock.ts';
import { isUploadError, UploadError } from './errors.ts';
import { fingerprint } from './fingerprint.ts';
import type { ResolvedOptions } from './options.ts';
import { digestRange } from './range-digest.ts';
import { digestAlgorithm, type Session, sessionOf } from './session.ts';
import type { ResumePart, ResumeRecord, UploadState } from './types.ts';

/** Resume state is written at most this often while parts finish (always on pause, failure, exit). */
const PERSIST_EVERY_MS = 1000;

/** The resume state of one upload. */
export interface ResumeKeeper {
  /** Parts S3 has: sent in this run, or adopted when resuming. */
  readonly parts: Map<number, ResumePart>;
  /**
   * The stored upload of this file, picked up: the completed upload when it already is, the
   * session to continue (its parts in `parts`), or undefined when a new upload is needed.
   * `found` learns the session before its parts are checked (an abort meanwhile aborts it).
   */
  resume(signal: AbortSignal, found: (session: Session) => void): Promise<UploadView | Session | undefined>;
  /** Writes the record at most every PERSIST_EVERY_MS while uploading. */
  schedule(): void;
  /** Stops a scheduled write (the caller writes now, or the upload ended). */
  cancel(): void;
  /** Writes the record of a multipart upload that has not ended. */
  save(): Promise<void>;
  /** The parts in order. */
  sorted(): ResumePart[];
  /** Deletes the record (this upload's, or the stale one under `key`). */
  forget(key?: string): Promise<void>;
}

/** `from`: the record to resume (the `resumeFrom` option), else the store's record of this file. */
export function createResumeKeeper(
  o: ResolvedOptions,
  clock: Clock,
  broker: BrokerClient,
  from: ResumeRecord | undefined,
  state: () => UploadState,
  current: () => Session | undefined,
): ResumeKeeper {
  const { store, source } = o;
  const parts = new Map<number, ResumePart>();
  let print: string | undefined;
  let cancelTimer: (() => void) | undefined;

  /** Trusts a part S3 has when its size is right and its checksum is the file's. */
  const adopt = async (
    session: Session,
    stored: ResumeRecord,
    listed: NonNullable<UploadView['parts']>,
  ): Promise<void> => {
    const known = new Map(stored.parts.map((p) => [p.partNumber, p]));
    for (const part of listed) {
      if (part.partNumber < 1 || part.partNumber > session.partCount) continue;
      const { start, end } = partRange(source.size, session.partSize, part.partNumber);
      // Where the store keeps no checksums the broker lists each part's MD5 (its ETag) instead.
      if (part.size !== end - start || !part.checksum) continue;
      let checksum = known.get(part.partNumber)?.checksum;
      // Sent before a crash but never written down: hash the file's bytes to be sure they match.
      checksum ??= (
        await digestRange(source, o.hasher, digestAlgorithm(session, o.checksumAlgorithm), start, end)
      ).checksum;
      if (checksum !== part.checksum) continue;
      parts.set(part.partNumber, { partNumber: part.partNumber, size: part.size, etag: part.etag, checksum });
    }
  };

  /** Picks up a stored upload; undefined when it cannot continue (a new one is created instead). */
  const reattach = async (
    stored: ResumeRecord,
    signal: AbortSignal,
    found: (session: Session) => void,
  ): Promise<UploadView | Session | undefined> => {
    let view: UploadView;
    try {
      view = await broker.get(stored.id, signal);
    } catch (error) {
      if (isUploadError(error) && error.code === 'upload-gone') {
        await store?.delete(stored.key);
        return undefined;
      }
      throw error;
    }
    if (view.status === 'completed') {
      await keeper.forget(stored.key);
      return view;
    }
    // Only multipart uploads are stored; anything else cannot be continued.
    if ((view.status !== 'created' && view.status !== 'uploading') || stored.uploadId === null) {
      await store?.delete(stored.key);
      return undefined;
    }
    const session = sessionOf({ ...stored, key: stored.objectKey }, source.size);
    found(session);
    await adopt(session, stored, view.parts ?? []);
    return session;
  };

  const keeper: ResumeKeeper = {
    parts,
    async resume(signal, found) {
      print = await fingerprint(source);
      const stored = from ?? (await store?.get(o.resumeKey));
      if (!stored) return undefined;
      if (stored.fingerprint === print) return reattach(stored, signal, found);
      if (from)
        throw new UploadError(
          'resume-mismatch',
          `This is not the file that was being uploaded (${stored.fileName}, ${stored.fileSize} bytes): pick the same file to resume`,
        );
      // The file at this path changed: the old upload can never finish.
      await broker.abort(stored.id).catch(() => {});
      await store?.delete(stored.key);
      return undefined;
    },
    schedule() {
      if (!store || cancelTimer || state() !== 'uploading') return;
      cancelTimer = clock.after(PERSIST_EVERY_MS, () => {
        cancelTimer = undefined;
        void keeper.save().catch(() => {});
      });
    },
    cancel() {
      cancelTimer?.();
      cancelTimer = undefined;
    },
    async save() {
      const session = current();
      if (!store || !session || session.uploadId === null || print === undefined) return;
      if (state() === 'aborted' || state() === 'completed') return;
      await store.set({
        version: 1,
        key: o.resumeKey,
        fingerprint: print,
        fileName: source.name,
        fileSize: source.size,
        brokerUrl: o.brokerUrl,
        id: session.id,
        objectKey: session.key,
        bucket: session.bucket,
        region: session.region,
        endpoint: session.endpoint,
        forcePathStyle: session.forcePathStyle,
        mode: session.mode,
        uploadId: session.uploadId,
        partSize: session.partSize,
        checksumAlgorithm: o.checksumAlgorithm,
        checksumType: session.checksumType,
        integrity: session.integrity,
        parts: keeper.sorted(),
        createdAt: session.createdAt,
        expiresAt: session.expiresAt,
      });
    },
    sorted: () => [...parts.values()].sort((a, b) => a.partNumber - b.partNumber),
    async forget(key = o.resumeKey) {
      keeper.cancel();
      await store?.delete(key).catch(() => {});
    },
  };
  return keeper;
}
