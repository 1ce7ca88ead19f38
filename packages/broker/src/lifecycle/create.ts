/**
 * Creating an upload: limits, the object key, the multipart upload (or none for a single
 * request), the registry record and the answer — where to send the bytes and the credentials,
 * headers or URL to send them with. An Idempotency-Key makes a retried create answer the same
 * upload again (with fresh credentials) instead of making a second one.
 */
import type { ChecksumAlgorithm, CreateUploadResponse, TemporaryCredentials } from '@hoist/protocol';
import { choosePartSize, partCount } from '@hoist/protocol';
import { abortQuietly, publicEndpoint } from '../aws.ts';
import { integrityFor } from '../capabilities.ts';
import { BrokerProblem } from '../errors.ts';
import { EMPTY_MD5 } from '../etag-chain.ts';
import { failedCreate, failedCreateReason } from '../failed-create.ts';
import { buildObjectKey, contentDisposition } from '../keys.ts';
import { formMetadata, isFormUpload } from '../post-form.ts';
import { putObjectHeaders } from '../presign.ts';
import type { KeyedUploadRecord } from '../registry/record.ts';
import { buildSessionPolicy } from '../session-policy.ts';
import type { BrokerUser, UploadRecord } from '../types.ts';
import { uploadChecksumType } from '../views.ts';
import {
  type CreateUploadInput,
  DECLARED_CHECKSUM,
  DECLARED_MD5,
  INTEGRITY,
  inputOf,
  integrityOf,
  type Lifecycle,
  objectMetadata,
} from './context.ts';
import { askForCredentials, mint, postFormFor, presignPut } from './issue.ts';
import { discard } from './verify.ts';

export interface Created {
  upload: CreateUploadResponse;
  /** The answer is that of an earlier create with the same Idempotency-Key. */
  replayed: boolean;
}

export async function createUpload(
  lc: Lifecycle,
  user: BrokerUser,
  input: CreateUploadInput,
  idempotencyKey?: string,
): Promise<Created> {
  const lookup = idempotencyKey === undefined ? undefined : lc.registry.getByIdempotencyKey;
  const byKey = lookup && (() => lookup.call(lc.registry, user.id, idempotencyKey!));
  const existing = await byKey?.();
  if (existing) return { upload: await replay(lc, user, existing, input), replayed: true };

  const s = lc.settings;
  // Quotas count genuinely new uploads only: a replay never gets this far.
  await lc.hooks.checkCreate?.(user, input);
  // Enforced here too, so the service is safe without the limits hook.
  if (input.size > s.limits.maxObjectSize)
    throw new BrokerProblem(
      'too-large',
      `The file is ${input.size} bytes; the limit is ${s.limits.maxObjectSize}`,
    );
  const caps = await lc.caps();
  const integrity = integrityFor(caps);
  await lc.hooks.beforeMint?.(user);

  const id = lc.newId();
  const key = buildObjectKey(s.keyPrefix, user.id, id, input.filename);
  // Built (and self-checked) before anything exists, so a key bug creates nothing.
  const policy =
    s.mode === 'presign' || input.singleRequest === 'post'
      ? undefined
      : buildSessionPolicy({ bucket: s.s3.bucket, key });
  const algorithm: ChecksumAlgorithm = input.checksumAlgorithm ?? 'CRC32C';
  // Without checksums a single PUT is verified by its declared MD5 (an empty file's is known);
  // a file whose MD5 the client did not declare goes multipart, its parts each carrying theirs.
  const md5 = integrity === 'content-md5';
  const declaredMd5 = input.contentMd5 ?? (input.size === 0 ? EMPTY_MD5 : undefined);
  // A presigned PUT URL stays usable until it expires: only a store that refuses overwrites
  // (If-None-Match) keeps it from replacing the verified object (an empty file stays empty).
  const putUrlSafe = s.mode !== 'presign' || caps.ifNoneMatchOnPut || input.size === 0;
  const form = input.singleRequest === 'post';
  if (form && input.size > s.singleRequestMaxSize)
    throw new BrokerProblem(
      'too-large',
      `A single-request upload is at most ${s.singleRequestMaxSize} bytes; this file is ${input.size}`,
    );
  // A form goes as one request whatever the store (it never has If-None-Match: the key is unique,
  // and docs/broker.md says what a replay can do); without an MD5 it is verified by size and type.
  const single =
    form || (input.size <= s.singleRequestMaxSize && (!md5 || declaredMd5 !== undefined) && putUrlSafe);
  const partSize = choosePartSize(input.size, input.partSize ?? s.partSize);
  const now = lc.clock();
  const metadata = { ...(input.metadata ?? {}) };
  if (input.checksum) metadata[DECLARED_CHECKSUM] = input.checksum;
  if (md5) metadata[INTEGRITY] = integrity;
  if (md5 && single && declaredMd5) metadata[DECLARED_MD5] = declaredMd5;
  if (form) Object.assign(metadata, formMetadata(input.sizeIsBound === true));

  // The credentials do not depend on the multipart upload: STS is asked while S3 creates it
  // (on AWS, two round trips at once instead of one after the other). A create that fails
  // before answering drops them unseen, and nothing reports credentials it never handed out.
  const asked =
    policy && !single ? askForCredentials(lc, { mode: s.mode, userId: user.id, id }, policy) : undefined;
  asked?.catch(() => {});
  const uploadId = single ? null : await startMultipart(lc, user, { id, key, input, algorithm, md5 });
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
    await lc.registry.insert(record);
  } catch (error) {
    if (uploadId) await abortQuietly(lc.aws.s3, { bucket: s.s3.bucket, key, uploadId }).catch(() => {});
    // Another create with this key won the race: answer with its upload (already rate-counted).
    const winner = await byKey?.().catch(() => undefined);
    if (winner) return { upload: await replay(lc, user, winner, input, false), replayed: true };
    throw error;
  }

  let response: CreateUploadResponse;
  try {
    response = await respond(lc, user, record, policy, asked);
  } catch (error) {
    // Nothing may stay open that the client cannot use. The reason keeps the failure, so a
    // retry with the same Idempotency-Key answers it again rather than "the upload is aborted".
    await discard(lc, record, 'aborted', failedCreateReason(error)).catch(() => {});
    throw error;
  }
  lc.log.info(
    { uploadId: id, userId: user.id, key, size: input.size, mode: s.mode, multipart: !single },
    'upload created',
  );
  lc.hooks.uploadCreated?.(record);
  return { upload: response, replayed: false };
}

/** The create answer again for an upload made with the same key: same upload, fresh credentials. */
async function replay(
  lc: Lifecycle,
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
  const failure = record.status === 'aborted' ? failedCreate(record.reason) : undefined;
  if (failure && !failure.transient) throw failure.problem;
  if (!failure) lc.requireOpen(record);
  else if (record.expiresAt <= lc.clock()) throw failure.problem;
  // Replays mint credentials, so the mint rate limit counts them.
  if (mint) await lc.hooks.beforeMint?.(user);
  // The store failed for now when this create first ran: try again, on the same upload.
  if (failure) return createAgain(lc, user, record);
  lc.log.info({ uploadId: record.id, userId: user.id }, 'upload create replayed');
  return respond(lc, user, record);
}

/** Starts the upload's multipart upload in S3 (type, disposition, metadata and checksum set). */
async function startMultipart(
  lc: Lifecycle,
  user: BrokerUser,
  upload: { id: string; key: string; input: CreateUploadInput; algorithm: ChecksumAlgorithm; md5: boolean },
): Promise<string> {
  const { id, key, input, algorithm, md5 } = upload;
  return lc.upstream('CreateMultipartUpload', () =>
    lc.aws.calls.createMultipartUpload({
      key,
      contentType: input.contentType,
      contentDisposition: contentDisposition(input.filename),
      metadata: objectMetadata(user, id, input),
      // A store without flexible checksums gets none to misread: Content-MD5 does the work.
      checksum: md5 ? undefined : { algorithm, type: uploadChecksumType(algorithm, true) },
    }),
  );
}

/**
 * A create whose credentials the store failed to issue for now (the upload was discarded,
 * its reason recording the failure), asked again with its Idempotency-Key: the same upload
 * reopened — a new multipart upload where it had one — and answered, or discarded again.
 */
async function createAgain(
  lc: Lifecycle,
  user: BrokerUser,
  failed: UploadRecord,
): Promise<CreateUploadResponse> {
  const input = inputOf(failed);
  const uploadId =
    failed.uploadId === null
      ? null
      : await startMultipart(lc, user, {
          id: failed.id,
          key: failed.key,
          input,
          algorithm: failed.checksumAlgorithm,
          md5: integrityOf(failed) === 'content-md5',
        });
  const record = await lc.registry.transition(
    failed.id,
    ['aborted'],
    { status: 'created', uploadId },
    lc.clock(),
  );
  if (!record) {
    // Another retry reopened it first: answer with its upload.
    if (uploadId)
      await abortQuietly(lc.aws.s3, { bucket: failed.bucket, key: failed.key, uploadId }).catch(() => {});
    const now = await lc.registry.get(failed.id);
    if (!now || now.status === 'aborted') throw new BrokerProblem('conflict', 'The upload is aborted');
    lc.requireOpen(now);
    return respond(lc, user, now);
  }
  try {
    const response = await respond(lc, user, record);
    lc.log.info({ uploadId: record.id, userId: user.id, key: record.key }, 'upload created on a retry');
    lc.hooks.uploadCreated?.(record);
    return response;
  } catch (error) {
    await discard(lc, record, 'aborted', failedCreateReason(error)).catch(() => {});
    throw error;
  }
}

/**
 * What create answers for a record: where it goes, and credentials, headers or a PUT URL.
 * `policy` is the session policy create already built and checked for this key; `asked`, its
 * credentials already asked for.
 */
async function respond(
  lc: Lifecycle,
  user: BrokerUser,
  record: UploadRecord,
  policy?: string,
  asked?: Promise<TemporaryCredentials>,
): Promise<CreateUploadResponse> {
  const s = lc.settings;
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
  // A form is signed by the broker: its client gets no credentials, whatever the mode.
  if (isFormUpload(record)) response.postForm = await postFormFor(lc, record, user, input);
  else if (record.mode !== 'presign') {
    response.credentials = await mint(
      lc,
      record,
      policy ?? buildSessionPolicy({ bucket: record.bucket, key: record.key }),
      asked,
    );
    if (single)
      response.putHeaders = putObjectHeaders({
        contentType: record.contentType,
        contentDisposition: contentDisposition(record.filename),
        metadata: objectMetadata(user, record.id, input),
      });
  } else if (single) response.putRequest = await presignPut(lc, record, user, input);
  return response;
}
