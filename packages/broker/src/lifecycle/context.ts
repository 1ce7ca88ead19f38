/**
 * What every step of the upload lifecycle shares: its settings and dependencies, the record
 * checks (owned, open), the one-at-a-time guard per upload, the store's capabilities, and how
 * a store failure becomes the client's problem. The steps (create.ts, issue.ts, complete.ts,
 * verify.ts) are functions over one Lifecycle, so the Uppy routes reuse them as they are.
 */
import type { CreateUploadRequest, UploadIntegrity, UploadMode, UploadStatus } from '@hoist/protocol';
import { RESERVED_METADATA_PREFIX } from '@hoist/protocol/schemas';
import type { AwsClients, S3Settings, StsSettings } from '../aws.ts';
import { FULL_CAPABILITIES, type StoreCapabilities } from '../capabilities.ts';
import { BrokerProblem } from '../errors.ts';
import { FORM_METADATA, SIZE_BOUND_METADATA } from '../post-form.ts';
import { type IdempotencyLookup, OPEN_STATUSES } from '../registry/record.ts';
import { storeProblem } from '../store-errors.ts';
import type { BrokerUser, Registry, UploadRecord } from '../types.ts';
import { randomId } from '../views.ts';

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

export const OPEN: readonly UploadStatus[] = OPEN_STATUSES;
/** Object metadata the broker sets; application metadata may not use the prefix (the request schema's rule). */
export { RESERVED_METADATA_PREFIX };
export const DECLARED_CHECKSUM = `${RESERVED_METADATA_PREFIX}checksum`;
/** Registry-only entries (never sent to S3): how the upload is verified, and its declared MD5. */
export const INTEGRITY = `${RESERVED_METADATA_PREFIX}integrity`;
export const DECLARED_MD5 = `${RESERVED_METADATA_PREFIX}content-md5`;
export const NO_CHECKSUMS = 'this store keeps no checksums';
/** A single request's object is not there (yet): the problem's detail, which settling tells apart. */
export const NOTHING_YET = 'Nothing has been uploaded yet';

export function invalid(path: string, message: string): BrokerProblem {
  return new BrokerProblem('invalid-request', 'The request body is not valid', {
    errors: [{ path, message }],
  });
}

/** How an upload's bytes are verified: recorded at create (absent in records from before). */
export function integrityOf(record: UploadRecord): UploadIntegrity {
  return record.metadata[INTEGRITY] === 'content-md5' ? 'content-md5' : 'checksum';
}

/** The create input a record was made from (what signing its object needs). */
export function inputOf(record: UploadRecord): CreateUploadInput {
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

/** The metadata stored on the object: the application's, and who uploaded what. */
export function objectMetadata(
  user: BrokerUser,
  id: string,
  input: CreateUploadRequest,
): Record<string, string> {
  return {
    ...(input.metadata ?? {}),
    // Header values must be ASCII: the Unicode name travels percent-encoded.
    [`${RESERVED_METADATA_PREFIX}filename`]: encodeURIComponent(input.filename),
    [`${RESERVED_METADATA_PREFIX}user`]: encodeURIComponent(user.id),
    [`${RESERVED_METADATA_PREFIX}upload`]: id,
  };
}

const noopLogger: Logger = { info() {}, warn() {}, error() {} };

export class Lifecycle {
  readonly settings: LifecycleSettings;
  readonly registry: Registry & Partial<IdempotencyLookup>;
  readonly aws: AwsClients;
  readonly clock: () => number;
  readonly log: Logger;
  readonly hooks: LifecycleHooks;
  readonly newId: () => string;
  /** Records this process just moved to `completed` (not ones found completed): one event each. */
  readonly justCompleted = new WeakSet<UploadRecord>();
  readonly #capabilities: () => Promise<StoreCapabilities>;
  /** Complete and abort of one upload run one at a time in this process. */
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(deps: LifecycleDeps) {
    this.settings = deps.settings;
    this.registry = deps.registry;
    this.aws = deps.aws;
    this.clock = deps.clock ?? Date.now;
    this.log = deps.logger ?? noopLogger;
    this.hooks = deps.hooks ?? {};
    this.newId = deps.newId ?? randomId;
    this.#capabilities = deps.capabilities ?? (() => Promise.resolve(FULL_CAPABILITIES));
    if (this.settings.mode === 'sts' && !this.settings.sts.roleArn)
      throw new TypeError('sts.roleArn is required in sts mode');
  }

  /** The user's upload, or 404 — also for other users' uploads, which must look nonexistent. */
  async owned(user: BrokerUser, id: string): Promise<UploadRecord> {
    const record = await this.registry.get(id);
    if (!record || record.userId !== user.id) throw new BrokerProblem('not-found', 'No such upload');
    return record;
  }

  async open(user: BrokerUser, id: string): Promise<UploadRecord> {
    const record = await this.owned(user, id);
    this.requireOpen(record);
    return record;
  }

  requireOpen(record: UploadRecord): void {
    this.requireStatusOpen(record);
    if (record.expiresAt <= this.clock()) throw new BrokerProblem('conflict', 'The upload has expired');
  }

  /** Open by status, expired or not (a POST form's object is verified after the form expires). */
  requireStatusOpen(record: UploadRecord): void {
    if (!OPEN.includes(record.status)) throw new BrokerProblem('conflict', `The upload is ${record.status}`);
  }

  async markUploading(record: UploadRecord): Promise<void> {
    if (record.status === 'created')
      await this.registry.transition(record.id, ['created'], { status: 'uploading' }, this.clock());
  }

  /** Presigned URLs never outlive the upload itself (and always live at least a second). */
  expiresIn(record: UploadRecord): number {
    const left = Math.floor((record.expiresAt - this.clock()) / 1000);
    return Math.max(1, Math.min(this.settings.presign.expiresSeconds, left));
  }

  /** Runs `fn` after every earlier serial call for upload `id` has settled. */
  async serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
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
  async caps(): Promise<StoreCapabilities> {
    try {
      return await this.#capabilities();
    } catch (error) {
      if ((error as { name?: string }).name === 'StoreProbeError') {
        this.log.error({ err: error }, 'store capability probe failed');
        throw new BrokerProblem('upstream-error', 'The storage could not be probed', { cause: error });
      }
      if ((error as { name?: string }).name === 'StoreCapabilityError') {
        // Only apps on createBroker get here (startBroker refuses to start): the log says why.
        this.log.error({ err: error }, 'the store cannot run this mode');
        throw new BrokerProblem('internal', 'The broker cannot run on its storage; see its log', {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Runs a store call; its failure becomes the client's problem (and the log's full error). */
  async upstream<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.upstreamProblem(operation, error);
    }
  }

  upstreamProblem(operation: string, error: unknown): Error {
    if (error instanceof BrokerProblem || error instanceof TypeError) return error;
    // S3 answers racing conditional writes (two Completes of one upload) with 409: a conflict, not an outage.
    if ((error as { name?: string }).name === 'ConditionalRequestConflict') {
      return new BrokerProblem('conflict', `${operation} raced another request for this upload; retry`, {
        cause: error,
      });
    }
    // The store's status, code and message reach the client (scrubbed); the full error goes to the log.
    this.log.error({ err: error, operation }, 'storage call failed');
    return storeProblem(operation, error);
  }
}
