/**
 * The upload lifecycle: create (key, multipart upload, registry record, credentials or URLs),
 * refresh, part URLs, complete-and-verify, abort, read. Routes validate input and call
 * this; it owns every S3/STS call and every status transition. Hooks plug in limits, rate
 * limits, audit, metrics and webhooks so each is tested on its own.
 *
 * The steps live in lifecycle/: create.ts (create and replay), issue.ts (credentials and URLs),
 * complete.ts and verify.ts (complete, verify, reject). This class is their one entry point.
 */
import type {
  CompleteUploadRequest,
  CreateUploadResponse,
  PartUrlsRequest,
  PartUrlsResponse,
  PresignedRequest,
  TemporaryCredentials,
  UploadListResponse,
  UploadMode,
  UploadView,
} from '@hoist/protocol';
import { BrokerProblem } from './errors.ts';
import { etagToMd5 } from './etag-chain.ts';
import { contentDisposition } from './keys.ts';
import { completeRecord, listParts } from './lifecycle/complete.ts';
import {
  type CreateUploadInput,
  integrityOf,
  Lifecycle,
  type LifecycleDeps,
  OPEN,
} from './lifecycle/context.ts';
import { type Created, createUpload } from './lifecycle/create.ts';
import { partUrls, refreshCredentials } from './lifecycle/issue.ts';
import { settleForm } from './lifecycle/settle.ts';
import { discard, hasEtag, headOf } from './lifecycle/verify.ts';
import { presignGetObject } from './presign.ts';
import { type FormSettlement, reconcileForms } from './reconcile.ts';
import type { BrokerUser, UploadRecord } from './types.ts';
import { partView, toView } from './views.ts';

export type {
  CreateUploadInput,
  CredentialIssuedEvent,
  LifecycleDeps,
  LifecycleHooks,
  LifecycleSettings,
  Logger,
} from './lifecycle/context.ts';
export { RESERVED_METADATA_PREFIX } from './lifecycle/context.ts';

export class UploadService {
  /** The shared state of the lifecycle's steps (the Uppy routes run the same steps on it). */
  readonly lifecycle: Lifecycle;

  constructor(deps: LifecycleDeps) {
    this.lifecycle = new Lifecycle(deps);
  }

  get mode(): UploadMode {
    return this.lifecycle.settings.mode;
  }

  async create(user: BrokerUser, input: CreateUploadInput): Promise<CreateUploadResponse> {
    return (await this.createOnce(user, input)).upload;
  }

  /**
   * Create with an optional Idempotency-Key: when the user already has an upload made with
   * that key, it is answered again (with fresh credentials) instead of a second one.
   */
  createOnce(user: BrokerUser, input: CreateUploadInput, idempotencyKey?: string): Promise<Created> {
    return createUpload(this.lifecycle, user, input, idempotencyKey);
  }

  refreshCredentials(user: BrokerUser, id: string): Promise<{ credentials: TemporaryCredentials }> {
    return refreshCredentials(this.lifecycle, user, id);
  }

  partUrls(user: BrokerUser, id: string, request: PartUrlsRequest): Promise<PartUrlsResponse> {
    return partUrls(this.lifecycle, user, id, request);
  }

  complete(user: BrokerUser, id: string, request: CompleteUploadRequest): Promise<UploadView> {
    const lc = this.lifecycle;
    return lc.serial(id, async () => completeRecord(lc, user, await lc.owned(user, id), request));
  }

  abort(user: BrokerUser, id: string): Promise<UploadView> {
    const lc = this.lifecycle;
    return lc.serial(id, async () => {
      const record = await lc.owned(user, id);
      if (record.status === 'aborted') return toView(record);
      // Expired but not yet swept is still abortable: the user cleans up sooner than the sweeper.
      if (!OPEN.includes(record.status))
        throw new BrokerProblem('conflict', `The upload is ${record.status}`);
      // Its own reason: one left by a failed create must not outlive it (a retry would reopen it).
      const aborted = await discard(lc, record, 'aborted', 'aborted by its owner');
      if (!aborted) {
        const now = await lc.registry.get(id);
        throw new BrokerProblem('conflict', `The upload is ${now?.status ?? 'gone'}`);
      }
      lc.log.info({ uploadId: id, userId: user.id, key: record.key }, 'upload aborted');
      lc.hooks.uploadEnded?.(aborted);
      return toView(aborted);
    });
  }

  /** Verifies a POST-form upload nobody completed (reconcile.ts, lifecycle/settle.ts). */
  settleForm(id: string): Promise<FormSettlement> {
    return settleForm(this.lifecycle, id);
  }

  async get(user: BrokerUser, id: string): Promise<UploadView> {
    const lc = this.lifecycle;
    let record = await lc.owned(user, id);
    // A form upload reports no completion: its owner's read settles it (reconcile.ts).
    if (await reconcileForms(this, [record], { onError: this.#reconcileFailed }))
      record = await lc.owned(user, id);
    if (!record.uploadId || !OPEN.includes(record.status)) return toView(record);
    const parts = ((await listParts(lc, record, record.uploadId)) ?? []).map(partView);
    // No checksums in the store: each part's MD5 is its ETag, listed as its checksum for resuming.
    if (integrityOf(record) === 'content-md5')
      for (const part of parts) {
        const md5 = etagToMd5(part.etag);
        if (md5) part.checksum = md5;
        else delete part.checksum;
      }
    return toView(record, parts);
  }

  async list(user: BrokerUser, options: { limit: number; cursor?: string }): Promise<UploadListResponse> {
    const { registry } = this.lifecycle;
    let page = await registry.listByUser(user.id, options);
    if (await reconcileForms(this, page.uploads, { onError: this.#reconcileFailed }))
      page = await registry.listByUser(user.id, options);
    return { uploads: page.uploads.map((r) => toView(r)), nextCursor: page.nextCursor };
  }

  readonly #reconcileFailed = (error: unknown, record: UploadRecord) =>
    this.lifecycle.log.warn(
      { err: error, uploadId: record.id },
      'could not settle a form upload; next read retries',
    );

  async download(user: BrokerUser, id: string): Promise<PresignedRequest> {
    const lc = this.lifecycle;
    const record = await lc.owned(user, id);
    if (record.status !== 'completed') throw new BrokerProblem('conflict', `The upload is ${record.status}`);
    // Credentials issued for the upload may outlive it: never hand out an object written since.
    const head = await headOf(lc, record);
    if (!head || (record.etag !== undefined && !hasEtag(head, record.etag)))
      throw new BrokerProblem('conflict', 'The object changed or disappeared after it was completed');
    return lc.upstream('presign GetObject', () =>
      presignGetObject(lc.aws.presigner, {
        bucket: record.bucket,
        key: record.key,
        responseContentDisposition: contentDisposition(record.filename),
        expiresIn: Math.max(1, lc.settings.presign.expiresSeconds),
        now: lc.clock(),
      }),
    );
  }
}
