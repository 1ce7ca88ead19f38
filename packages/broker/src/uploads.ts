/**
 * The upload lifecycle: create (key, multipart upload, registry record, credentials or URLs),
 * refresh, part URLs, complete-and-verify, abort, read. Routes validate input and call
 * this; it owns every S3/STS call and every status transition. Hooks plug in limits, rate
 * limits, audit, metrics and webhooks so each is tested on its own.
 */
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import type {
  ChecksumAlgorithm,
  CompletedPart,
  CompleteUploadRequest,
  CreateUploadRequest,
  CreateUploadResponse,
  PartUrlsRequest,
  PartUrlsResponse,
  PostForm,
  PresignedRequest,
  TemporaryCredentials,
  UploadIntegrity,
  UploadListResponse,
  UploadMode,
  UploadStatus,
  UploadView,
} from '@hoist/protocol';
import { choosePartSize, partCount, partRange } from '@hoist/protocol';
import {
  type AwsClients,
  abortQuietly,
  CHECKSUM_FIELD,
  deleteObject,
  errorName,
  headObject,
  httpStatus,
  type ListedPart,
  listAllParts,
  mintCredentials,
  publicEndpoint,
  type S3Settings,
  type StsSettings,
} from './aws.ts';
import { FULL_CAPABILITIES, integrityFor, type StoreCapabilities } from './capabilities.ts';
import { BrokerProblem } from './errors.ts';
import {
  normalizeEtag as comparableEtag,
  EMPTY_MD5,
  etagIsMd5,
  etagToMd5,
  isMd5,
  md5Hex,
  multipartEtagOf,
} from './etag-chain.ts';
import { failedCreateProblem, failedCreateReason } from './failed-create.ts';
import { buildObjectKey, contentDisposition } from './keys.ts';
import {
  FORM_METADATA,
  formMetadata,
  isFormUpload,
  SIZE_BOUND_METADATA,
  signPostForm,
  sizeIsBound,
} from './post-form.ts';
import { presignGetObject, presignPutObject, presignUploadPart, putObjectHeaders } from './presign.ts';
import { reconcileForms } from './reconcile.ts';
import type { IdempotencyLookup, KeyedUploadRecord } from './registry/record.ts';
import { buildSessionPolicy } from './session-policy.ts';
import { storeProblem } from './store-errors.ts';
import type { BrokerUser, Registry, UploadRecord } from './types.ts';
import {
  isChecksum,
  multipartEtag,
  normalizeEtag,
  partView,
  randomId,
  sameType,
  toView,
  uploadChecksumType,
} from './views.ts';

/** The parts of the broker config the lifecycle reads (BrokerConfig satisfies it). */
export interface LifecycleSettings {
  mode: UploadMode;
  s3: S3Settings;
  sts: StsSettings;
  federation: { durationSeconds: number };
  presign: { expiresSeconds: number };
  keyPrefix: string;
  partSize: number;
  singleRequestMaxSize: number;
  uploadTtlSeconds: number;
  limits: { maxObjectSize: number };
}

/** What the audit log records per credential issued: never the secret or the token. */
export interface CredentialIssuedEvent {
  userId: string;
  uploadId: string;
  key: string;
  mode: UploadMode;
  /** ISO 8601 */
  expiration: string;
  /** Session policy JSON (sts/federation) — the logger digests it. */
  policy?: string;
  /** What was issued: session credentials, part URLs or a PUT URL. */
  kind: 'credentials' | 'part-urls' | 'put-url' | 'post-form';
  accessKeyId?: string;
}

export interface LifecycleHooks {
  /** Limits (size, type, quotas); throws a BrokerProblem to refuse. */
  checkCreate?(user: BrokerUser, request: CreateUploadRequest): Promise<void> | void;
  /** Rate limit per credential mint; throws BrokerProblem('rate-limited') to refuse. */
  beforeMint?(user: BrokerUser): Promise<void> | void;
  credentialIssued?(event: CredentialIssuedEvent): void;
  /** An upload was created (metrics). Must not throw. */
  uploadCreated?(record: UploadRecord): void;
  /** An upload reached a final state through the API (metrics, webhook). Must not throw. */
  uploadEnded?(record: UploadRecord): void;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LifecycleDeps {
  settings: LifecycleSettings;
  /** Without getByIdempotencyKey (a custom registry), Idempotency-Keys are not honoured. */
  registry: Registry & Partial<IdempotencyLookup>;
  aws: AwsClients;
  /** ms since epoch. @default Date.now */
  clock?: () => number;
  logger?: Logger;
  hooks?: LifecycleHooks;
  /** URL-safe random ids. @default 128-bit base36 */
  newId?: () => string;
  /**
   * The store's capabilities (store-gate.ts): how uploads are verified and whether completion
   * must check the key is free first. @default everything AWS S3 does
   */
  capabilities?: () => Promise<StoreCapabilities>;
}

/** Extra input the broker accepts with `POST /uploads`: the whole file's checksum (single-request uploads). */
export interface CreateUploadInput extends CreateUploadRequest {
  checksum?: string;
  /** `size` is only the largest allowed (a POST form for a file of unknown size: Uppy's companion path). */
  sizeIsBound?: boolean;
}

const OPEN: readonly UploadStatus[] = ['created', 'uploading'];
/** Object metadata the broker sets; application metadata may not use the prefix. */
export const RESERVED_METADATA_PREFIX = 'hoist-';
const DECLARED_CHECKSUM = `${RESERVED_METADATA_PREFIX}checksum`;
/** Registry-only entries (never sent to S3): how the upload is verified, and its declared MD5. */
const INTEGRITY = `${RESERVED_METADATA_PREFIX}integrity`;
const DECLARED_MD5 = `${RESERVED_METADATA_PREFIX}content-md5`;
const NO_CHECKSUMS = 'this store keeps no checksums';
const NOTHING_YET = 'Nothing has been uploaded yet';

function invalid(path: string, message: string): BrokerProblem {
  return new BrokerProblem('invalid-request', 'The request body is not valid', {
    errors: [{ path, message }],
  });
}

const noopLogger: Logger = { info() {}, warn() {}, error() {} };

export class UploadService {
  readonly #s: LifecycleSettings;
  readonly #registry: Registry & Partial<IdempotencyLookup>;
  readonly #aws: AwsClients;
  readonly #clock: () => number;
  readonly #log: Logger;
  readonly #hooks: LifecycleHooks;
  readonly #newId: () => string;
  readonly #capabilities: () => Promise<StoreCapabilities>;
  /** Complete and abort of one upload run one at a time in this process. */
  readonly #busy = new Map<string, Promise<unknown>>();
  /** Records this process just moved to `completed` (not ones found completed): one event each. */
  readonly #justCompleted = new WeakSet<UploadRecord>();

  constructor(deps: LifecycleDeps) {
    this.#s = deps.settings;
    this.#registry = deps.registry;
    this.#aws = deps.aws;
    this.#clock = deps.clock ?? Date.now;
    this.#log = deps.logger ?? noopLogger;
    this.#hooks = deps.hooks ?? {};
    this.#newId = deps.newId ?? randomId;
    this.#capabilities = deps.capabilities ?? (() => Promise.resolve(FULL_CAPABILITIES));
    if (this.#s.mode === 'sts' && !this.#s.sts.roleArn)
      throw new TypeError('sts.roleArn is required in sts mode');
  }

  get mode(): UploadMode {
    return this.#s.mode;
  }

  // ---- create -----------------------------------------------------------------------------

  async create(user: BrokerUser, input: CreateUploadInput): Promise<CreateUploadResponse> {
    return (await this.createOnce(user, input)).upload;
  }

  /**
   * Create with an optional Idempotency-Key: when the user already has an upload made with
   * that key, it is answered again (with fresh credentials) instead of a second one.
   */
  async createOnce(
    user: BrokerUser,
    input: CreateUploadInput,
    idempotencyKey?: string,
  ): Promise<{ upload: CreateUploadResponse; replayed: boolean }> {
    const lookup = idempotencyKey === undefined ? undefined : this.#registry.getByIdempotencyKey;
    const byKey = lookup && (() => lookup.call(this.#registry, user.id, idempotencyKey!));
    const existing = await byKey?.();
    if (existing) return { upload: await this.#replay(user, existing, input), replayed: true };

    const s = this.#s;
    // Quotas count genuinely new uploads only: a replay never gets this far.
    await this.#hooks.checkCreate?.(user, input);
    // Enforced here too, so the service is safe without the limits hook.
    if (input.size > s.limits.maxObjectSize)
      throw new BrokerProblem(
        'too-large',
        `The file is ${input.size} bytes; the limit is ${s.limits.maxObjectSize}`,
      );
    const integrity = integrityFor(await this.#caps());
    await this.#hooks.beforeMint?.(user);

    const id = this.#newId();
    const key = buildObjectKey(s.keyPrefix, user.id, id, input.filename);
    // Built (and self-checked) before anything exists, so a key bug creates nothing.
    if (s.mode !== 'presign') buildSessionPolicy({ bucket: s.s3.bucket, key });
    const algorithm: ChecksumAlgorithm = input.checksumAlgorithm ?? 'CRC32C';
    // Without checksums a single PUT is verified by its declared MD5 (an empty file's is known);
    // a file whose MD5 the client did not declare goes multipart, its parts each carrying theirs.
    const md5 = integrity === 'content-md5';
    const declaredMd5 = input.contentMd5 ?? (input.size === 0 ? EMPTY_MD5 : undefined);
    const form = input.singleRequest === 'post';
    if (form && input.size > s.singleRequestMaxSize)
      throw new BrokerProblem(
        'too-large',
        `A single-request upload is at most ${s.singleRequestMaxSize} bytes; this file is ${input.size}`,
      );
    // A form goes as one request whatever the store: without an MD5 it is verified by size and type.
    const single = form || (input.size <= s.singleRequestMaxSize && (!md5 || declaredMd5 !== undefined));
    const partSize = choosePartSize(input.size, input.partSize ?? s.partSize);
    const now = this.#clock();
    const metadata = { ...(input.metadata ?? {}) };
    if (input.checksum) metadata[DECLARED_CHECKSUM] = input.checksum;
    if (md5) metadata[INTEGRITY] = integrity;
    if (md5 && single && declaredMd5) metadata[DECLARED_MD5] = declaredMd5;
    if (form) Object.assign(metadata, formMetadata(input.sizeIsBound === true));

    let uploadId: string | null = null;
    if (!single) {
      const out = await this.#upstream('CreateMultipartUpload', () =>
        this.#aws.s3.send(
          new CreateMultipartUploadCommand({
            Bucket: s.s3.bucket,
            Key: key,
            ContentType: input.contentType,
            ContentDisposition: contentDisposition(input.filename),
            Metadata: objectMetadata(user, id, input),
            // A store without flexible checksums gets none to misread: Content-MD5 does the work.
            ...(md5
              ? {}
              : { ChecksumAlgorithm: algorithm, ChecksumType: uploadChecksumType(algorithm, true) }),
          }),
        ),
      );
      if (!out.UploadId) throw new BrokerProblem('upstream-error', 'S3 returned no upload id');
      uploadId = out.UploadId;
    }
    const record: KeyedUploadRecord = {
      id,
      userId: user.id,
      status: 'created',
      mode: s.mode,
      bucket: s.s3.bucket,
      key,
      filename: input.filename,
      contentType: input.contentType,
      size: input.size,
      partSize,
      checksumAlgorithm: algorithm,
      uploadId,
      metadata,
      createdAt: now,
      updatedAt: now,
      // A form lives as long as its policy: after that nothing more can arrive, so it is settled.
      expiresAt: now + (form ? s.presign.expiresSeconds : s.uploadTtlSeconds) * 1000,
      ...(byKey ? { idempotencyKey: idempotencyKey! } : {}),
    };
    try {
      await this.#registry.insert(record);
    } catch (error) {
      if (uploadId) await abortQuietly(this.#aws.s3, { bucket: s.s3.bucket, key, uploadId }).catch(() => {});
      // Another create with this key won the race: answer with its upload (already rate-counted).
      const winner = await byKey?.().catch(() => undefined);
      if (winner) return { upload: await this.#replay(user, winner, input, false), replayed: true };
      throw error;
    }

    let response: CreateUploadResponse;
    try {
      response = await this.#respond(user, record);
    } catch (error) {
      // Nothing may stay open that the client cannot use. The reason keeps the failure, so a
      // retry with the same Idempotency-Key answers it again rather than "the upload is aborted".
      await this.#discard(record, 'aborted', failedCreateReason(error)).catch(() => {});
      throw error;
    }
    this.#log.info(
      { uploadId: id, userId: user.id, key, size: input.size, mode: s.mode, multipart: !single },
      'upload created',
    );
    this.#hooks.uploadCreated?.(record);
    return { upload: response, replayed: false };
  }

  /** The create answer again for an upload made with the same key: same upload, fresh credentials. */
  async #replay(
    user: BrokerUser,
    record: UploadRecord,
    input: CreateUploadInput,
    mint = true,
  ): Promise<CreateUploadResponse> {
    if (
      record.filename !== input.filename ||
      record.size !== input.size ||
      record.contentType !== input.contentType ||
      record.checksumAlgorithm !== (input.checksumAlgorithm ?? 'CRC32C')
    )
      throw new BrokerProblem('conflict', 'This Idempotency-Key was used for a different upload');
    const failure = record.status === 'aborted' ? failedCreateProblem(record.reason) : undefined;
    if (failure) throw failure;
    this.#requireOpen(record);
    // Replays mint credentials, so the mint rate limit counts them.
    if (mint) await this.#hooks.beforeMint?.(user);
    this.#log.info({ uploadId: record.id, userId: user.id }, 'upload create replayed');
    return this.#respond(user, record);
  }

  /** What create answers for a record: where it goes, and credentials, headers or a PUT URL. */
  async #respond(user: BrokerUser, record: UploadRecord): Promise<CreateUploadResponse> {
    const s = this.#s;
    const single = record.uploadId === null;
    const input = inputOf(record);
    const response: CreateUploadResponse = {
      id: record.id,
      bucket: record.bucket,
      key: record.key,
      region: s.s3.region,
      endpoint: publicEndpoint(s.s3),
      forcePathStyle: s.s3.forcePathStyle ?? false,
      mode: record.mode,
      uploadId: record.uploadId,
      partSize: record.partSize,
      partCount: single ? 1 : partCount(record.size, record.partSize),
      checksumAlgorithm: record.checksumAlgorithm,
      checksumType: uploadChecksumType(record.checksumAlgorithm, !single),
      expiresAt: new Date(record.expiresAt).toISOString(),
    };
    if (integrityOf(record) === 'content-md5') response.integrity = 'content-md5';
    if (record.mode !== 'presign' && !isFormUpload(record)) {
      response.credentials = await this.#mint(
        record,
        buildSessionPolicy({ bucket: record.bucket, key: record.key }),
      );
      if (single)
        response.putHeaders = putObjectHeaders({
          contentType: record.contentType,
          contentDisposition: contentDisposition(record.filename),
          metadata: objectMetadata(user, record.id, input),
        });
    } else if (single && !isFormUpload(record))
      response.putRequest = await this.#presignPut(record, user, input);
    if (isFormUpload(record)) response.postForm = await this.#postForm(record, user, input);
    return response;
  }

  // ---- credentials and URLs ---------------------------------------------------------------

  async refreshCredentials(user: BrokerUser, id: string): Promise<{ credentials: TemporaryCredentials }> {
    const record = await this.#open(user, id);
    if (record.mode === 'presign')
      throw new BrokerProblem('conflict', 'This upload uses presigned URLs; ask for part URLs instead');
    await this.#hooks.beforeMint?.(user);
    const policy = buildSessionPolicy({ bucket: record.bucket, key: record.key });
    const credentials = await this.#mint(record, policy);
    await this.#markUploading(record);
    return { credentials };
  }

  async partUrls(user: BrokerUser, id: string, request: PartUrlsRequest): Promise<PartUrlsResponse> {
    const record = await this.#open(user, id);
    if (record.mode !== 'presign')
      throw new BrokerProblem(
        'conflict',
        'This upload uses temporary credentials; part URLs are for presign mode',
      );
    if (!record.uploadId)
      throw new BrokerProblem('conflict', 'This upload is a single request; use its putRequest');
    const count = partCount(record.size, record.partSize);
    for (const n of request.partNumbers) {
      if (n > count) throw invalid('partNumbers', `part ${n} is past the last part (${count})`);
    }
    const md5 = integrityOf(record) === 'content-md5';
    for (const [part, value] of Object.entries(request.checksums ?? {})) {
      if (!request.partNumbers.includes(Number(part)))
        throw invalid(`checksums.${part}`, 'names a part not in partNumbers');
      if (md5 ? !isMd5(value) : !isChecksum(record.checksumAlgorithm, value))
        throw invalid(
          `checksums.${part}`,
          md5
            ? `is not a base64 MD5 digest (${NO_CHECKSUMS}: parts carry Content-MD5)`
            : `is not a base64 ${record.checksumAlgorithm} digest`,
        );
    }
    await this.#hooks.beforeMint?.(user);
    const expiresIn = this.#expiresIn(record);
    const now = this.#clock();
    const parts = await Promise.all(
      request.partNumbers.map(async (partNumber) => {
        const { start, end } = partRange(record.size, record.partSize, partNumber);
        const signed = await this.#upstream('presign UploadPart', () =>
          presignUploadPart(this.#aws.presigner, {
            bucket: record.bucket,
            key: record.key,
            uploadId: record.uploadId!,
            partNumber,
            contentLength: end - start,
            algorithm: record.checksumAlgorithm,
            ...(md5
              ? { contentMd5: request.checksums?.[String(partNumber)] }
              : { checksum: request.checksums?.[String(partNumber)] }),
            expiresIn,
            now,
          }),
        );
        return { partNumber, ...signed };
      }),
    );
    const expiresAt = new Date(now + expiresIn * 1000).toISOString();
    this.#hooks.credentialIssued?.({
      userId: user.id,
      uploadId: record.id,
      key: record.key,
      mode: record.mode,
      expiration: expiresAt,
      kind: 'part-urls',
    });
    await this.#markUploading(record);
    return { parts };
  }

  async #presignPut(
    record: UploadRecord,
    user: BrokerUser,
    input: CreateUploadInput,
  ): Promise<PresignedRequest> {
    const put = await this.#upstream('presign PutObject', () =>
      presignPutObject(this.#aws.presigner, {
        bucket: record.bucket,
        key: record.key,
        contentType: record.contentType,
        contentLength: record.size,
        contentDisposition: contentDisposition(record.filename),
        metadata: objectMetadata(user, record.id, input),
        algorithm: record.checksumAlgorithm,
        ...(integrityOf(record) === 'content-md5'
          ? { contentMd5: record.metadata[DECLARED_MD5] }
          : { checksum: input.checksum }),
        expiresIn: this.#expiresIn(record),
        now: this.#clock(),
      }),
    );
    this.#hooks.credentialIssued?.({
      userId: user.id,
      uploadId: record.id,
      key: record.key,
      mode: record.mode,
      expiration: put.expiresAt,
      kind: 'put-url',
    });
    return put;
  }

  async #postForm(record: UploadRecord, user: BrokerUser, input: CreateUploadInput): Promise<PostForm> {
    const checksum = input.checksum;
    const form = await this.#upstream('sign POST form', () =>
      signPostForm(this.#aws.presigner, {
        s3: this.#s.s3,
        key: record.key,
        contentType: record.contentType,
        contentDisposition: contentDisposition(record.filename),
        metadata: objectMetadata(user, record.id, input),
        size: sizeIsBound(record) ? [1, record.size] : record.size,
        // Stores without flexible checksums would ignore it: the ETag is checked instead.
        checksum:
          checksum !== undefined && integrityOf(record) === 'checksum'
            ? { algorithm: record.checksumAlgorithm, value: checksum }
            : undefined,
        expiresIn: this.#expiresIn(record),
        now: this.#clock(),
      }),
    );
    this.#hooks.credentialIssued?.({
      userId: user.id,
      uploadId: record.id,
      key: record.key,
      mode: record.mode,
      expiration: form.expiresAt,
      kind: 'post-form',
    });
    return form;
  }

  async #mint(record: UploadRecord, policy: string): Promise<TemporaryCredentials> {
    const s = this.#s;
    const mode = record.mode === 'federation' ? 'federation' : 'sts';
    const credentials = await this.#upstream(mode === 'sts' ? 'AssumeRole' : 'GetFederationToken', () =>
      mintCredentials(this.#aws.sts, {
        mode,
        policy,
        userId: record.userId,
        id: record.id,
        durationSeconds: mode === 'sts' ? s.sts.durationSeconds : s.federation.durationSeconds,
        roleArn: s.sts.roleArn,
        externalId: s.sts.externalId,
      }),
    );
    this.#hooks.credentialIssued?.({
      userId: record.userId,
      uploadId: record.id,
      key: record.key,
      mode: record.mode,
      expiration: credentials.expiration,
      policy,
      kind: 'credentials',
      accessKeyId: credentials.accessKeyId,
    });
    return credentials;
  }

  /** Presigned URLs never outlive the upload itself (and always live at least a second). */
  #expiresIn(record: UploadRecord): number {
    const left = Math.floor((record.expiresAt - this.#clock()) / 1000);
    return Math.max(1, Math.min(this.#s.presign.expiresSeconds, left));
  }

  // ---- complete ---------------------------------------------------------------------------

  complete(user: BrokerUser, id: string, request: CompleteUploadRequest): Promise<UploadView> {
    return this.#serial(id, async () => {
      const record = await this.#owned(user, id);
      const { parts, checksum } = request;
      if (checksum !== undefined) {
        if (integrityOf(record) === 'content-md5')
          throw invalid('checksum', `is not taken: ${NO_CHECKSUMS}; the parts' MD5s are checked instead`);
        if (!record.uploadId || uploadChecksumType(record.checksumAlgorithm, true) !== 'FULL_OBJECT')
          throw invalid(
            'checksum',
            'is only for multipart uploads with a FULL_OBJECT checksum (CRC32, CRC32C, CRC64NVME)',
          );
        if (!isChecksum(record.checksumAlgorithm, checksum))
          throw invalid('checksum', `is not a base64 ${record.checksumAlgorithm} digest`);
      }
      if (record.status === 'completed') return toView(record);
      // A form cannot be sent after it expires, so what is at the key then came in time.
      if (isFormUpload(record)) this.#requireStatusOpen(record);
      else this.#requireOpen(record);
      const done = record.uploadId
        ? await this.#completeMultipart(record, record.uploadId, parts, checksum)
        : await this.#completeSingle(record, parts);
      this.#announceCompleted(done);
      return toView(done);
    });
  }

  /** Logs and reports (metrics, webhook) a completion this process made, once. */
  #announceCompleted(done: UploadRecord): void {
    if (!this.#justCompleted.has(done)) return;
    this.#justCompleted.delete(done);
    this.#log.info(
      { uploadId: done.id, userId: done.userId, key: done.key, size: done.size },
      'upload completed',
    );
    this.#hooks.uploadEnded?.(done);
  }

  /**
   * Verifies a form upload nobody completed (reconcile.ts), as a completion would: `completed`
   * (webhook, metrics and registry as for any completion), `rejected` (deleted), or `absent`
   * when nothing is at the key (yet). Another process's transition wins as usual.
   */
  settleForm(id: string): Promise<'completed' | 'rejected' | 'absent' | 'closed'> {
    return this.#serial(id, async () => {
      const record = await this.#registry.get(id);
      if (!record || !isFormUpload(record) || !OPEN.includes(record.status))
        return record?.status === 'completed' ? 'completed' : 'closed';
      try {
        this.#announceCompleted(await this.#completeSingle(record, []));
        return 'completed';
      } catch (error) {
        if (!(error instanceof BrokerProblem)) throw error;
        if (error.type === 'upload-rejected') return 'rejected';
        if (error.message === NOTHING_YET) return 'absent';
        if (error.type === 'conflict') return 'closed';
        throw error;
      }
    });
  }

  async #completeMultipart(
    record: UploadRecord,
    uploadId: string,
    claimed: CompletedPart[],
    /** The whole file's FULL_OBJECT checksum, which S3 checks when it completes. */
    fullChecksum: string | undefined,
  ): Promise<UploadRecord> {
    const target = { bucket: record.bucket, key: record.key, uploadId, algorithm: record.checksumAlgorithm };
    const md5 = integrityOf(record) === 'content-md5';
    if (claimed.length === 0) throw invalid('parts', 'must list the uploaded parts');
    claimed.forEach((part, i) => {
      if (md5 && (part.checksum === undefined || !isMd5(part.checksum)))
        throw invalid(
          `parts.${i}.checksum`,
          `must be the part's base64 MD5: ${NO_CHECKSUMS}, so each part's ETag is checked against it`,
        );
      if (!md5 && part.checksum !== undefined && !isChecksum(record.checksumAlgorithm, part.checksum))
        throw invalid(`parts.${i}.checksum`, `is not a base64 ${record.checksumAlgorithm} digest`);
    });
    const listed = await this.#upstream('ListParts', () => listAllParts(this.#aws.s3, target));
    if (!listed) return this.#lostUpload(record, claimed, fullChecksum);
    const byNumber = new Map(listed.map((p) => [p.partNumber, p]));
    const chosen: ListedPart[] = [];
    const last = partCount(record.size, record.partSize);
    for (const [index, part] of claimed.entries()) {
      const found = byNumber.get(part.partNumber);
      const path = `parts[${index}]`;
      if (!found || normalizeEtag(found.etag) !== normalizeEtag(part.etag))
        throw new BrokerProblem('invalid-request', `Part ${part.partNumber} is not in S3 with that ETag`, {
          errors: [{ path: `${path}.etag`, message: 'does not match the part S3 has' }],
        });
      if (md5) {
        // The store verified Content-MD5 (or not): its ETag is the MD5 of what it holds either way.
        if (!etagIsMd5(found.etag, part.checksum!))
          return this.#reject(
            record,
            `part ${part.partNumber}: its ETag is not the MD5 of the client's bytes (${NO_CHECKSUMS}; the ETag is what is checked)`,
          );
        const expected =
          part.partNumber <= last ? partRange(record.size, record.partSize, part.partNumber) : undefined;
        if (!expected || found.size !== expected.end - expected.start)
          return this.#reject(record, `part ${part.partNumber} is ${found.size} bytes, not the part's size`);
      } else if (part.checksum !== undefined && part.checksum !== found.checksum)
        return this.#reject(
          record,
          found.checksum === undefined
            ? `part ${part.partNumber}: S3 lists no ${record.checksumAlgorithm} checksum for it (${NO_CHECKSUMS})`
            : `part ${part.partNumber}: checksum does not match what S3 received`,
        );
      chosen.push(found);
    }
    const total = chosen.reduce((sum, p) => sum + p.size, 0);
    if (total !== record.size)
      return this.#reject(record, `the parts add up to ${total} bytes, not the declared ${record.size}`);
    if (total > this.#s.limits.maxObjectSize)
      return this.#reject(record, `the parts add up to ${total} bytes, over the limit`);
    const expectedEtag = md5 ? multipartEtagOf(claimed.map((p) => p.checksum!)) : undefined;

    // A store that ignores If-None-Match on completion would complete over anything at the key:
    // look first. (Only the broker completes in presign mode, so nothing races this but itself.)
    if (!(await this.#caps()).ifNoneMatchOnComplete) {
      const head = await this.#upstream('HeadObject', () => headObject(this.#aws.s3, target));
      if (head) {
        if (normalizeEtag(head.etag ?? '') !== multipartEtag(chosen))
          return this.#reject(record, 'an object the broker did not complete is at the key');
        return this.#verify(record, { checksum: fullChecksum, etag: expectedEtag });
      }
    }

    const field = CHECKSUM_FIELD[record.checksumAlgorithm];
    let completedChecksum: string | undefined;
    try {
      const out = await this.#aws.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: record.bucket,
          Key: record.key,
          UploadId: uploadId,
          IfNoneMatch: '*',
          ...(fullChecksum === undefined ? {} : { ChecksumType: 'FULL_OBJECT', [field]: fullChecksum }),
          MultipartUpload: {
            Parts: chosen.map((p) => ({
              PartNumber: p.partNumber,
              ETag: p.etag,
              ...(p.checksum && !md5 ? { [field]: p.checksum } : {}),
            })),
          },
        }),
      );
      completedChecksum = md5 ? undefined : out[field];
    } catch (error) {
      const name = errorName(error);
      if (name === 'PreconditionFailed' || httpStatus(error) === 412) {
        // Something is at the key already: our own completion (a retried request) when its ETag is
        // the one these parts make, otherwise an object the client wrote around the broker.
        const head = await this.#upstream('HeadObject', () => headObject(this.#aws.s3, target));
        if (!head || normalizeEtag(head.etag ?? '') !== multipartEtag(chosen))
          return this.#reject(record, 'an object the broker did not complete is at the key');
      } else if (name === 'NoSuchUpload') {
        return this.#lostUpload(record, claimed, fullChecksum);
      } else if (name === 'BadDigest' && fullChecksum !== undefined) {
        // S3 computed the whole object's checksum from the parts and it is not the client's.
        return this.#reject(
          record,
          `the ${record.checksumAlgorithm} checksum of the whole file does not match what S3 received`,
        );
      } else if (
        ['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'InvalidRequest'].includes(name ?? '')
      ) {
        throw new BrokerProblem('invalid-request', `S3 refused the parts (${name})`, { cause: error });
      } else throw this.#upstreamProblem('CompleteMultipartUpload', error);
    }
    // HeadObject compares the object's checksum with the client's too (S3s that ignore it exist).
    return this.#verify(record, { checksum: fullChecksum ?? completedChecksum, etag: expectedEtag });
  }

  async #completeSingle(record: UploadRecord, claimed: CompletedPart[]): Promise<UploadRecord> {
    if (claimed.length > 0)
      throw new BrokerProblem('invalid-request', 'A single-request upload has no parts', {
        errors: [{ path: 'parts', message: 'must be empty for a single-request upload' }],
      });
    const declaredMd5 = record.metadata[DECLARED_MD5];
    if (integrityOf(record) === 'content-md5')
      return this.#verify(record, { etag: declaredMd5 === undefined ? undefined : md5Hex(declaredMd5) });
    return this.#verify(record, { checksum: record.metadata[DECLARED_CHECKSUM] });
  }

  /** HeadObject: the object must be what was declared, or it is deleted and the upload rejected. */
  async #verify(
    record: UploadRecord,
    expected: { checksum?: string | undefined; etag?: string | undefined },
  ): Promise<UploadRecord> {
    const head = await this.#upstream('HeadObject', () =>
      headObject(this.#aws.s3, {
        bucket: record.bucket,
        key: record.key,
        algorithm: record.checksumAlgorithm,
      }),
    );
    if (!head) {
      if (record.uploadId) return this.#reject(record, 'the completed object is missing');
      throw new BrokerProblem('conflict', NOTHING_YET);
    }
    const bound = sizeIsBound(record);
    if (bound ? head.size < 1 || head.size > record.size : head.size !== record.size)
      return this.#reject(
        record,
        bound
          ? `the object is ${head.size} bytes, not 1 to ${record.size}`
          : `the object is ${head.size} bytes, not the declared ${record.size}`,
      );
    if (!sameType(head.contentType, record.contentType))
      return this.#reject(
        record,
        `the object's type is ${head.contentType ?? 'missing'}, not ${record.contentType}`,
      );
    const md5 = integrityOf(record) === 'content-md5';
    // Never accept bytes nobody verified: without checksums, the ETag chain is the only proof.
    // (A form from a client that declared no MD5 has only its size and type to check: docs/uppy.md.)
    if (md5 && expected.etag === undefined && !isFormUpload(record))
      return this.#reject(
        record,
        `${NO_CHECKSUMS}, and the client declared no MD5 to check the object against`,
      );
    if (expected.etag !== undefined && comparableEtag(head.etag ?? '') !== expected.etag)
      return this.#reject(
        record,
        `the object's ETag is not the MD5 ${record.uploadId ? 'chain of the parts' : 'of the file'} (${NO_CHECKSUMS}; the ETag is what is checked)`,
      );
    if (!md5 && expected.checksum !== undefined && head.checksum !== expected.checksum)
      return this.#reject(
        record,
        head.checksum === undefined
          ? `S3 returned no ${record.checksumAlgorithm} checksum for the object (${NO_CHECKSUMS})`
          : `the object's ${record.checksumAlgorithm} checksum does not match`,
      );
    const changes: Parameters<Registry['transition']>[2] = {
      status: 'completed',
      completedAt: this.#clock(),
    };
    if (head.etag) changes.etag = normalizeEtag(head.etag);
    if (head.checksum && !md5) changes.checksum = head.checksum;
    if (bound) changes.size = head.size;
    const done = await this.#registry.transition(record.id, OPEN, changes, this.#clock());
    if (!done) {
      const now = await this.#registry.get(record.id);
      if (now?.status === 'completed') return now;
      // Expired or aborted while we completed (the sweeper won the race): the object must not stay.
      await deleteObject(this.#aws.s3, { bucket: record.bucket, key: record.key }).catch((error: unknown) =>
        this.#log.error({ err: error, key: record.key }, 'could not delete an object completed too late'),
      );
      throw new BrokerProblem('conflict', `The upload is ${now?.status ?? 'gone'}`);
    }
    this.#justCompleted.add(done);
    return done;
  }

  /**
   * The multipart upload is gone. When the object at the key is exactly the claimed parts (its
   * ETag is theirs: a completion whose answer was lost, or one the client made) it is verified
   * like any other; otherwise it was aborted or swept behind our back and the upload is over.
   */
  async #lostUpload(
    record: UploadRecord,
    claimed: readonly CompletedPart[],
    fullChecksum: string | undefined,
  ): Promise<UploadRecord> {
    const now = await this.#registry.get(record.id);
    if (now?.status === 'completed') return now;
    const head = await this.#upstream('HeadObject', () =>
      headObject(this.#aws.s3, {
        bucket: record.bucket,
        key: record.key,
        algorithm: record.checksumAlgorithm,
      }),
    );
    if (head && normalizeEtag(head.etag ?? '') === multipartEtag(claimed)) {
      if (integrityOf(record) !== 'content-md5') return this.#verify(record, { checksum: fullChecksum });
      // Without checksums the claimed parts must be the client's MD5s for the chain to prove anything.
      const md5s = claimed.map((p) => p.checksum ?? '');
      if (!claimed.every((p, i) => isMd5(md5s[i]!) && etagIsMd5(p.etag, md5s[i]!)))
        return this.#reject(record, `the parts' ETags are not the client's MD5s (${NO_CHECKSUMS})`);
      return this.#verify(record, { etag: multipartEtagOf(md5s) });
    }
    return this.#reject(record, 'the multipart upload no longer exists in S3');
  }

  async #reject(record: UploadRecord, reason: string): Promise<never> {
    const rejected = await this.#discard(record, 'rejected', reason);
    this.#log.warn(
      { uploadId: record.id, userId: record.userId, key: record.key, reason },
      'upload rejected',
    );
    if (rejected) this.#hooks.uploadEnded?.(rejected);
    throw new BrokerProblem('upload-rejected', `The upload was rejected: ${reason}`);
  }

  /** Aborts the multipart upload, deletes whatever is at the key, records the final status. */
  async #discard(record: UploadRecord, status: 'rejected' | 'aborted', reason?: string) {
    const s3 = this.#aws.s3;
    await this.#upstream('AbortMultipartUpload', async () => {
      if (record.uploadId)
        await abortQuietly(s3, { bucket: record.bucket, key: record.key, uploadId: record.uploadId });
      // Never completed, so nothing at the key is a verified file: it goes too.
      await deleteObject(s3, { bucket: record.bucket, key: record.key });
    });
    return this.#registry.transition(
      record.id,
      OPEN,
      reason === undefined ? { status } : { status, reason },
      this.#clock(),
    );
  }

  // ---- abort, read --------------------------------------------------------------------------

  abort(user: BrokerUser, id: string): Promise<UploadView> {
    return this.#serial(id, async () => {
      const record = await this.#owned(user, id);
      if (record.status === 'aborted') return toView(record);
      // Expired but not yet swept is still abortable: the user cleans up sooner than the sweeper.
      if (!OPEN.includes(record.status))
        throw new BrokerProblem('conflict', `The upload is ${record.status}`);
      const aborted = await this.#discard(record, 'aborted');
      if (!aborted) {
        const now = await this.#registry.get(id);
        throw new BrokerProblem('conflict', `The upload is ${now?.status ?? 'gone'}`);
      }
      this.#log.info({ uploadId: id, userId: user.id, key: record.key }, 'upload aborted');
      this.#hooks.uploadEnded?.(aborted);
      return toView(aborted);
    });
  }

  async get(user: BrokerUser, id: string): Promise<UploadView> {
    let record = await this.#owned(user, id);
    // A form upload reports no completion: its owner's read settles it (reconcile.ts).
    if (await reconcileForms(this, [record], { onError: this.#reconcileFailed }))
      record = await this.#owned(user, id);
    if (!record.uploadId || !OPEN.includes(record.status)) return toView(record);
    const listed = await this.#upstream('ListParts', () =>
      listAllParts(this.#aws.s3, {
        bucket: record.bucket,
        key: record.key,
        uploadId: record.uploadId!,
        algorithm: record.checksumAlgorithm,
      }),
    );
    const parts = (listed ?? []).map(partView);
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
    let page = await this.#registry.listByUser(user.id, options);
    if (await reconcileForms(this, page.uploads, { onError: this.#reconcileFailed }))
      page = await this.#registry.listByUser(user.id, options);
    return { uploads: page.uploads.map((r) => toView(r)), nextCursor: page.nextCursor };
  }

  async download(user: BrokerUser, id: string): Promise<PresignedRequest> {
    const record = await this.#owned(user, id);
    if (record.status !== 'completed') throw new BrokerProblem('conflict', `The upload is ${record.status}`);
    // Credentials issued for the upload may outlive it: never hand out an object written since.
    const head = await this.#upstream('HeadObject', () =>
      headObject(this.#aws.s3, {
        bucket: record.bucket,
        key: record.key,
        algorithm: record.checksumAlgorithm,
      }),
    );
    if (!head || (record.etag !== undefined && normalizeEtag(head.etag ?? '') !== record.etag))
      throw new BrokerProblem('conflict', 'The object changed or disappeared after it was completed');
    return this.#upstream('presign GetObject', () =>
      presignGetObject(this.#aws.presigner, {
        bucket: record.bucket,
        key: record.key,
        responseContentDisposition: contentDisposition(record.filename),
        expiresIn: Math.max(1, this.#s.presign.expiresSeconds),
        now: this.#clock(),
      }),
    );
  }

  // ---- helpers ------------------------------------------------------------------------------

  readonly #reconcileFailed = (error: unknown, record: UploadRecord) =>
    this.#log.warn({ err: error, uploadId: record.id }, 'could not settle a form upload; next read retries');

  /** The user's upload, or 404 — also for other users' uploads, which must look nonexistent. */
  async #owned(user: BrokerUser, id: string): Promise<UploadRecord> {
    const record = await this.#registry.get(id);
    if (!record || record.userId !== user.id) throw new BrokerProblem('not-found', 'No such upload');
    return record;
  }

  async #open(user: BrokerUser, id: string): Promise<UploadRecord> {
    const record = await this.#owned(user, id);
    this.#requireOpen(record);
    return record;
  }

  #requireOpen(record: UploadRecord): void {
    this.#requireStatusOpen(record);
    if (record.expiresAt <= this.#clock()) throw new BrokerProblem('conflict', 'The upload has expired');
  }

  #requireStatusOpen(record: UploadRecord): void {
    if (!OPEN.includes(record.status)) throw new BrokerProblem('conflict', `The upload is ${record.status}`);
  }

  async #markUploading(record: UploadRecord): Promise<void> {
    if (record.status === 'created')
      await this.#registry.transition(record.id, ['created'], { status: 'uploading' }, this.#clock());
  }

  async #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#busy.get(id) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => {});
    this.#busy.set(id, settled);
    try {
      return await run;
    } finally {
      if (this.#busy.get(id) === settled) this.#busy.delete(id);
    }
  }

  /** The store's capabilities; a store that cannot be probed is an upstream failure (retryable). */
  async #caps(): Promise<StoreCapabilities> {
    try {
      return await this.#capabilities();
    } catch (error) {
      if ((error as { name?: string }).name === 'StoreProbeError') {
        this.#log.error({ err: error }, 'store capability probe failed');
        throw new BrokerProblem('upstream-error', 'The storage could not be probed', { cause: error });
      }
      if ((error as { name?: string }).name === 'StoreCapabilityError') {
        // Only apps on createBroker get here (startBroker refuses to start): the log says why.
        this.#log.error({ err: error }, 'the store cannot run this mode');
        throw new BrokerProblem('internal', 'The broker cannot run on its storage; see its log', {
          cause: error,
        });
      }
      throw error;
    }
  }

  async #upstream<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.#upstreamProblem(operation, error);
    }
  }

  #upstreamProblem(operation: string, error: unknown): Error {
    if (error instanceof BrokerProblem || error instanceof TypeError) return error;
    // S3 answers racing conditional writes (two Completes of one upload) with 409: a conflict, not an outage.
    if ((error as { name?: string }).name === 'ConditionalRequestConflict') {
      return new BrokerProblem('conflict', `${operation} raced another request for this upload; retry`, {
        cause: error,
      });
    }
    // The store's status, code and message reach the client (scrubbed); the full error goes to the log.
    this.#log.error({ err: error, operation }, 'storage call failed');
    return storeProblem(operation, error);
  }
}

/** How an upload's bytes are verified: recorded at create (absent in records from before). */
function integrityOf(record: UploadRecord): UploadIntegrity {
  return record.metadata[INTEGRITY] === 'content-md5' ? 'content-md5' : 'checksum';
}

/** The create input a record was made from (what signing its object needs). */
function inputOf(record: UploadRecord): CreateUploadInput {
  const {
    [DECLARED_CHECKSUM]: checksum,
    [INTEGRITY]: _integrity,
    [DECLARED_MD5]: _md5,
    [FORM_METADATA]: _form,
    [SIZE_BOUND_METADATA]: _bound,
    ...metadata
  } = record.metadata;
  const input: CreateUploadInput = {
    filename: record.filename,
    size: record.size,
    contentType: record.contentType,
    checksumAlgorithm: record.checksumAlgorithm,
    metadata,
  };
  if (checksum !== undefined) input.checksum = checksum;
  return input;
}

function objectMetadata(user: BrokerUser, id: string, input: CreateUploadRequest): Record<string, string> {
  return {
    ...(input.metadata ?? {}),
    // Header values must be ASCII: the Unicode name travels percent-encoded.
    [`${RESERVED_METADATA_PREFIX}filename`]: encodeURIComponent(input.filename),
    [`${RESERVED_METADATA_PREFIX}user`]: encodeURIComponent(user.id),
    [`${RESERVED_METADATA_PREFIX}upload`]: id,
  };
}
