/**
 * Issuing access to an upload's object: session credentials (sts/federation), presigned part
 * URLs and the single request's PUT URL (presign). Each issue is rate-limited by the
 * `beforeMint` hook where the caller is a new request, and recorded by `credentialIssued`.
 */
import type {
  PartUrlsRequest,
  PartUrlsResponse,
  PostForm,
  PresignedRequest,
  TemporaryCredentials,
} from '@hoist/protocol';
import { isChecksum, isMd5, partCount, partRange } from '@hoist/protocol';
import { BrokerProblem } from '../errors.ts';
import { contentDisposition } from '../keys.ts';
import { signPostForm, sizeIsBound } from '../post-form.ts';
import { presignPutObject, presignUploadPart } from '../presign.ts';
import { buildSessionPolicy } from '../session-policy.ts';
import type { BrokerUser, UploadRecord } from '../types.ts';
import {
  type CreateUploadInput,
  type CredentialIssuedEvent,
  DECLARED_MD5,
  integrityOf,
  invalid,
  type Lifecycle,
  NO_CHECKSUMS,
  objectMetadata,
} from './context.ts';

/** Tells the audit hook what was issued for `record` (never the secret or the token). */
export function reportIssued(
  lc: Lifecycle,
  record: UploadRecord,
  issued: Pick<CredentialIssuedEvent, 'kind' | 'expiration' | 'policy' | 'accessKeyId'>,
): void {
  lc.hooks.credentialIssued?.({
    userId: record.userId,
    uploadId: record.id,
    key: record.key,
    mode: record.mode,
    ...issued,
  });
}

/** The upload whose credentials are asked for: known before its record exists. */
export type MintSubject = Pick<UploadRecord, 'mode' | 'userId' | 'id'>;

/**
 * Asks STS for the upload's credentials, narrowed by `policy` (buildSessionPolicy), and reports
 * nothing: `mint` (or a create that started this early) reports them once they are handed out.
 */
export function askForCredentials(
  lc: Lifecycle,
  upload: MintSubject,
  policy: string,
): Promise<TemporaryCredentials> {
  const s = lc.settings;
  const mode = upload.mode === 'federation' ? 'federation' : 'sts';
  return lc.upstream(mode === 'sts' ? 'AssumeRole' : 'GetFederationToken', () =>
    lc.aws.calls.mint({
      mode,
      policy,
      userId: upload.userId,
      id: upload.id,
      durationSeconds: mode === 'sts' ? s.sts.durationSeconds : s.federation.durationSeconds,
      roleArn: s.sts.roleArn,
      externalId: s.sts.externalId,
    }),
  );
}

/**
 * Session credentials for the upload's one object, narrowed by `policy`: asked for now, or
 * awaited from `asked` (a create asks STS while S3 creates the multipart upload).
 */
export async function mint(
  lc: Lifecycle,
  record: UploadRecord,
  policy: string,
  asked?: Promise<TemporaryCredentials>,
): Promise<TemporaryCredentials> {
  const credentials = await (asked ?? askForCredentials(lc, record, policy));
  reportIssued(lc, record, {
    kind: 'credentials',
    expiration: credentials.expiration,
    policy,
    accessKeyId: credentials.accessKeyId,
  });
  return credentials;
}

export async function refreshCredentials(
  lc: Lifecycle,
  user: BrokerUser,
  id: string,
): Promise<{ credentials: TemporaryCredentials }> {
  const record = await lc.open(user, id);
  if (record.mode === 'presign')
    throw new BrokerProblem('conflict', 'This upload uses presigned URLs; ask for part URLs instead');
  await lc.hooks.beforeMint?.(user);
  const credentials = await mint(lc, record, buildSessionPolicy({ bucket: record.bucket, key: record.key }));
  await lc.markUploading(record);
  return { credentials };
}

export async function partUrls(
  lc: Lifecycle,
  user: BrokerUser,
  id: string,
  request: PartUrlsRequest,
): Promise<PartUrlsResponse> {
  const record = await lc.open(user, id);
  if (record.mode !== 'presign')
    throw new BrokerProblem(
      'conflict',
      'This upload uses temporary credentials; part URLs are for presign mode',
    );
  if (!record.uploadId)
    throw new BrokerProblem('conflict', 'This upload is a single request; use its putRequest');
  const uploadId = record.uploadId;
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
  await lc.hooks.beforeMint?.(user);
  const expiresIn = lc.expiresIn(record);
  const now = lc.clock();
  const parts = await Promise.all(
    request.partNumbers.map(async (partNumber) => {
      const { start, end } = partRange(record.size, record.partSize, partNumber);
      const digest = request.checksums?.[String(partNumber)];
      const signed = await lc.upstream('presign UploadPart', () =>
        presignUploadPart(lc.aws.presigner, {
          bucket: record.bucket,
          key: record.key,
          uploadId,
          partNumber,
          contentLength: end - start,
          algorithm: record.checksumAlgorithm,
          ...(md5 ? { contentMd5: digest } : { checksum: digest }),
          expiresIn,
          now,
        }),
      );
      return { partNumber, ...signed };
    }),
  );
  reportIssued(lc, record, { kind: 'part-urls', expiration: new Date(now + expiresIn * 1000).toISOString() });
  await lc.markUploading(record);
  return { parts };
}

/**
 * The single request's presigned POST form (post-form.ts): key, type, disposition, metadata and
 * size (or its bound) pinned in the policy, and the checksum on stores that keep them.
 */
export async function postFormFor(
  lc: Lifecycle,
  record: UploadRecord,
  user: BrokerUser,
  input: CreateUploadInput,
): Promise<PostForm> {
  const { checksum } = input;
  const form = await lc.upstream('sign POST form', () =>
    signPostForm(lc.aws.presigner, {
      s3: lc.settings.s3,
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
      expiresIn: lc.expiresIn(record),
      now: lc.clock(),
    }),
  );
  reportIssued(lc, record, { kind: 'post-form', expiration: form.expiresAt });
  return form;
}

/** The single request's presigned PUT: the declared size, type and checksum (or MD5) signed in. */
export async function presignPut(
  lc: Lifecycle,
  record: UploadRecord,
  user: BrokerUser,
  input: CreateUploadInput,
): Promise<PresignedRequest> {
  const put = await lc.upstream('presign PutObject', () =>
    presignPutObject(lc.aws.presigner, {
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
      expiresIn: lc.expiresIn(record),
      now: lc.clock(),
    }),
  );
  reportIssued(lc, record, { kind: 'put-url', expiration: put.expiresAt });
  return put;
}
