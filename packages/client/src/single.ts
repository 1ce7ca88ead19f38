/**
 * Small files in one request: hashed whole before the broker is asked (so it can bind the
 * checksum into a presigned PUT or POST form), then sent as one PutObject or as the broker's
 * form, retried like a part (a form can be sent again until it expires: its policy pins the
 * checksum, so a replay only writes the same bytes).
 */
import { DEFAULT_SINGLE_REQUEST_MAX_SIZE } from '@hoist/protocol';
import type { ResolvedOptions } from './options.ts';
import { objectUrl, requireEtag } from './s3.ts';
import { S3Failure, type S3Sender } from './s3-sender.ts';
import { digestAlgorithm, digestHeader, type Session } from './session.ts';
import type { HttpRequest } from './types.ts';

/**
 * Files up to this size (the broker's default single-request limit) are hashed whole before
 * the broker is asked, so it can bind the checksum into a presigned PUT or POST form.
 */
const HASH_FIRST_MAX = DEFAULT_SINGLE_REQUEST_MAX_SIZE;

/** The whole file, read once for a single request, with its checksum and MD5. */
export interface WholeFile {
  bytes?: Uint8Array | undefined;
  checksum?: string | undefined;
  /** base64; for single requests on stores without checksums. */
  md5?: string | undefined;
}

/**
 * How each broker's store checks integrity, as its last create answered: a broker whose store
 * keeps checksums needs no MD5, so later small files there are hashed once, not twice. The
 * first upload to a broker hashes both. Should a store lose its checksums between two uploads,
 * the next small file there goes without its MD5 once: multipart, or as a form the broker
 * verifies by size and type; the upload after it has its MD5 again.
 */
const integrityByBroker = new Map<string, string>();

export function rememberIntegrity(o: ResolvedOptions, integrity: string): void {
  // A page talks to a broker or two: a bound, not an eviction policy.
  if (integrityByBroker.size > 63) integrityByBroker.clear();
  integrityByBroker.set(o.brokerUrl, integrity);
}

/** A file small enough to go in one request, read and hashed; nothing for bigger files. */
export async function hashFirst(o: ResolvedOptions): Promise<WholeFile> {
  const file: WholeFile = {};
  if (o.source.size > HASH_FIRST_MAX) return file;
  await readWhole(o, file);
  // Also the MD5 where the store may keep no checksums: there a file goes as one PUT only with it.
  if (integrityByBroker.get(o.brokerUrl) !== 'checksum')
    file.md5 = await o.hasher.digest('MD5', file.bytes as Uint8Array);
  return file;
}

/** Reads and hashes the file, unless that was done already. */
async function readWhole(o: ResolvedOptions, file: WholeFile): Promise<Uint8Array> {
  file.bytes ??= await o.source.read(0, o.source.size);
  file.checksum ??= await o.hasher.digest(o.checksumAlgorithm, file.bytes);
  return file.bytes;
}

/** Sends the file as one PutObject (presigned by the broker, or signed here) or as the broker's form. */
export function sendSingleRequest(
  o: ResolvedOptions,
  sender: S3Sender,
  session: Session,
  file: WholeFile,
  signal: AbortSignal,
): Promise<void> {
  const operation = session.postForm ? 'PostObject' : 'PutObject';
  return sender.attempts(operation, undefined, signal, async (credentials, attempt) => {
    // Read (and hashed) once: before the broker was asked for small files, else on the first attempt.
    const bytes = await readWhole(o, file);
    const body = o.source.blob?.(0, o.source.size) ?? bytes;
    let request: Omit<HttpRequest, 'signal'>;
    if (session.postForm) {
      // S3 answers 201 (the form's success_action_status); no ETag needed: completion verifies.
      const { url, fields } = session.postForm;
      const form = { method: 'POST', url, headers: {}, body: { fields, file: body }, signal } as const;
      await sender.send(form, 1, o.source.size);
      return;
    }
    if (session.putRequest) {
      request = {
        method: 'PUT',
        url: session.putRequest.url,
        headers: { ...session.putRequest.headers },
        body,
      };
    } else {
      const url = objectUrl(session);
      // A single request goes on a store without checksums only with the MD5 hashed first.
      const algorithm = digestAlgorithm(session, o.checksumAlgorithm);
      const headers = {
        ...session.putHeaders,
        ...digestHeader(algorithm, (algorithm === 'MD5' ? file.md5 : file.checksum) as string),
      };
      request = {
        method: 'PUT',
        url,
        headers: await sender.sign(url, headers, credentials, session.region),
        body,
      };
    }
    try {
      requireEtag(await sender.send({ ...request, signal }, 1, o.source.size), 'PutObject');
    } catch (error) {
      // If-None-Match on a retry: an earlier attempt's bytes arrived though its answer did not.
      // Completion verifies the object either way.
      if (error instanceof S3Failure && error.response.status === 412 && attempt > 1) return;
      throw error;
    }
  });
}
