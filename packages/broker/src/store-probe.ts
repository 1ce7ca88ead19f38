/**
 * Finds out, once at start, what the S3 store can do (see capabilities.ts), by trying it with
 * the broker's own clients on a reserved probe key, which is removed afterwards. Every request
 * is bounded in time, so a store that does not answer fails the probe instead of hanging it.
 *
 * The probe key is `{keyPrefix}/.hoist-probe/{random}`: two segments under the prefix, where every
 * upload key has three (`{user}/{id}/{name}`), so it can never be an upload's key.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { TemporaryCredentials, UploadMode } from '@hoist/protocol';
import {
  type AwsClients,
  abortQuietly,
  errorName,
  httpStatus,
  type S3Settings,
  sessionS3Client,
} from './aws.ts';
import type { CapabilityName, StoreCapabilities } from './capabilities.ts';
import { buildSessionPolicy } from './session-policy.ts';
import { describeStoreError, isUnsupportedOperation, remedyFor, storeAnswer } from './store-errors.ts';
import { randomId } from './views.ts';

/** The probe failed for a reason other than a missing capability (store down, no rights, …). */
export class StoreProbeError extends Error {
  readonly code = 'store-probe-failed';
  /** The request that failed, e.g. "PutObject". */
  readonly step: string;
  constructor(step: string, cause: unknown) {
    // What the store answered and, for the failures a misconfiguration causes, what to fix.
    const answer = describeStoreError(cause);
    const remedy = remedyFor(step, answer);
    super(
      `Probing the store's capabilities failed at ${step}: ${storeAnswer(answer)}${remedy ? `; ${remedy}` : ''}`,
      { cause },
    );
    this.name = 'StoreProbeError';
    this.step = step;
  }
}

export interface ProbeOptions {
  aws: Pick<AwsClients, 's3' | 'calls'>;
  mode: UploadMode;
  s3: S3Settings;
  sts: { roleArn?: string | undefined; externalId?: string | undefined };
  keyPrefix: string;
  /** Which capabilities to find out; the others are not tried. */
  probe: readonly CapabilityName[];
  /** Bound on each request, ms. */
  timeoutMs: number;
}

/** The probe the broker runs with its own clients and config (what `hoist aws doctor` runs too). */
export function storeProbe(
  config: Pick<ProbeOptions, 'mode' | 's3' | 'sts' | 'keyPrefix'> & {
    store: { probeTimeoutSeconds: number };
  },
  aws: ProbeOptions['aws'],
): (names: readonly CapabilityName[]) => Promise<Partial<StoreCapabilities>> {
  return (names) =>
    probeStore({
      aws,
      mode: config.mode,
      s3: config.s3,
      sts: config.sts,
      keyPrefix: config.keyPrefix,
      probe: names,
      timeoutMs: config.store.probeTimeoutSeconds * 1000,
    });
}

// "123456789" is the CRC catalogue's check input; its CRC32C is 0xE3069283.
const BODY = new TextEncoder().encode('123456789');
const BODY_CRC32C = '4waSgw==';
const WRONG_CRC32C = 'AAAAAA==';

/** What was found: the probed capabilities only. */
export async function probeStore(options: ProbeOptions): Promise<Partial<StoreCapabilities>> {
  const { aws, s3: settings } = options;
  const bucket = settings.bucket;
  const key = `${options.keyPrefix}/.hoist-probe/${randomId()}`;
  const want = new Set(options.probe);
  const found: Partial<StoreCapabilities> = {};
  const send: Send = (step, client, command) =>
    bounded(step, options.timeoutMs, (abortSignal) => client.send(command as never, { abortSignal }));
  if (want.size === 0) return found;

  try {
    await send('PutObject', aws.s3, new PutObjectCommand({ Bucket: bucket, Key: key, Body: BODY }));

    if (want.has('flexibleChecksums'))
      found.flexibleChecksums = await probeChecksums(send, aws.s3, bucket, key);

    if (want.has('ifNoneMatchOnPut')) {
      const outcome = await refusedWith412('PutObject If-None-Match', () =>
        send(
          'PutObject If-None-Match',
          aws.s3,
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: BODY, IfNoneMatch: '*' }),
        ),
      );
      found.ifNoneMatchOnPut = outcome;
    }

    if (want.has('ifNoneMatchOnComplete'))
      found.ifNoneMatchOnComplete = await probeComplete(send, aws, bucket, key);

    if (want.has('conditionalWriteKeys') || want.has('federationToken')) {
      const mintMode = options.mode === 'federation' ? 'federation' : 'sts';
      let credentials: TemporaryCredentials | undefined;
      try {
        credentials = await bounded('mint', options.timeoutMs, () =>
          aws.calls.mint({
            mode: mintMode,
            policy: buildSessionPolicy({ bucket, key }),
            userId: 'hoist-probe',
            id: randomId(),
            durationSeconds: 900,
            roleArn: options.sts.roleArn,
            externalId: options.sts.externalId,
          }),
        );
        if (mintMode === 'federation' && want.has('federationToken')) found.federationToken = true;
      } catch (error) {
        const cause = error instanceof StoreProbeError ? error.cause : error;
        // RGW answers 405; others NotImplemented or InvalidAction: the call does not exist there.
        if (mintMode === 'federation' && isUnsupportedOperation(describeStoreError(cause))) {
          if (want.has('federationToken')) found.federationToken = false;
        } else throw new StoreProbeError(mintMode === 'sts' ? 'AssumeRole' : 'GetFederationToken', cause);
      }
      if (credentials && want.has('conditionalWriteKeys')) {
        const client = sessionS3Client(settings, credentials);
        try {
          // The session policy allows creating the object only with If-None-Match: a plain PutObject
          // over the existing probe object must be denied, or the policy keys mean nothing here.
          const step = 'PutObject without If-None-Match (session credentials)';
          let denied: boolean;
          try {
            await send(step, client, new PutObjectCommand({ Bucket: bucket, Key: key, Body: BODY }));
            denied = false;
          } catch (error) {
            const cause = error instanceof StoreProbeError ? error.cause : error;
            if (errorName(cause) === 'AccessDenied' || httpStatus(cause) === 403) denied = true;
            else throw error;
          }
          found.conditionalWriteKeys = denied;
        } finally {
          client.destroy();
        }
      }
    }
  } finally {
    // Best effort: a failed cleanup leaves one tiny object under the prefix, never an upload's.
    await send('DeleteObject', aws.s3, new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
  }
  return found;
}

/** A client that sends SDK commands: the broker's S3 client or one with session credentials. */
interface Sender {
  send(command: never, options: { abortSignal: AbortSignal }): Promise<unknown>;
}
type Send = (step: string, client: Sender, command: unknown) => Promise<unknown>;

/** A wrong CRC32C must be refused and a right one kept (HeadObject returns it). */
async function probeChecksums(send: Send, client: Sender, bucket: string, key: string): Promise<boolean> {
  let acceptedWrong = false;
  try {
    await send(
      'PutObject wrong checksum',
      client,
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: BODY, ChecksumCRC32C: WRONG_CRC32C }),
    );
    acceptedWrong = true;
  } catch (error) {
    const cause = error instanceof StoreProbeError ? error.cause : error;
    const status = httpStatus(cause);
    if (status === undefined || status >= 500) throw error;
  }
  await send(
    'PutObject checksum',
    client,
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: BODY, ChecksumCRC32C: BODY_CRC32C }),
  );
  const head = (await send(
    'HeadObject checksum',
    client,
    new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
  )) as { ChecksumCRC32C?: string };
  return !acceptedWrong && head.ChecksumCRC32C === BODY_CRC32C;
}

/** A multipart upload completed with If-None-Match over the existing probe object must get 412. */
async function probeComplete(
  send: Send,
  aws: Pick<AwsClients, 's3'>,
  bucket: string,
  key: string,
): Promise<boolean> {
  const created = (await send(
    'CreateMultipartUpload',
    aws.s3,
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  )) as { UploadId?: string };
  const uploadId = created.UploadId;
  if (!uploadId) throw new StoreProbeError('CreateMultipartUpload', new Error('no upload id'));
  try {
    const part = (await send(
      'UploadPart',
      aws.s3,
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: BODY }),
    )) as { ETag?: string };
    return await refusedWith412('CompleteMultipartUpload If-None-Match', () =>
      send(
        'CompleteMultipartUpload If-None-Match',
        aws.s3,
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag ?? '' }] },
        }),
      ),
    );
  } finally {
    await abortQuietly(aws.s3, { bucket, key, uploadId }).catch(() => {});
  }
}

/** true when the write was refused with 412, false when it went through; other errors throw. */
async function refusedWith412(step: string, write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return false;
  } catch (error) {
    const cause = error instanceof StoreProbeError ? error.cause : error;
    if (errorName(cause) === 'PreconditionFailed' || httpStatus(cause) === 412) return true;
    throw error instanceof StoreProbeError ? error : new StoreProbeError(step, error);
  }
}

/** Runs one request with its own deadline: aborted, then failed, never hanging. */
async function bounded<T>(
  step: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new StoreProbeError(
          step,
          Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' }),
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([run(controller.signal), deadline]);
  } catch (error) {
    throw error instanceof StoreProbeError ? error : new StoreProbeError(step, error);
  } finally {
    clearTimeout(timer);
  }
}
