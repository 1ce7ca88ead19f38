/**
 * `hoist aws doctor`'s live check in presign mode: one small upload exactly as the broker runs
 * it there. The broker presigns a PutObject (If-None-Match and the CRC32C checksum signed in, or
 * Content-MD5 on a store without flexible checksums), the bytes go to that URL as a browser
 * would send them, and the broker's completion reads the object back with its checksum (or its
 * ETag); an upload the broker cannot verify is rejected. So the check
 * fails when any of these fails on the store, instead of "All checks passed" while every real
 * upload is refused. The test object is deleted.
 */

import { createHash } from 'node:crypto';
import type { AwsClients } from '@hoist/broker';
import {
  etagIsMd5,
  FULL_CAPABILITIES,
  headObject,
  integrityFor,
  md5Hex,
  presignPutObject,
  type StoreCapabilities,
} from '@hoist/broker';
import { crc32c } from '@hoist/server';
import { awsError, type Deployment } from './context.ts';
import { type DoctorFinding, removeTestObject } from './doctor-findings.ts';

const BODY = Buffer.from('hoist doctor presign check\n');

function crc32cBase64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(data) >>> 0);
  return out.toString('base64');
}

export async function checkPresignLive(
  options: {
    deployment: Deployment;
    broker: AwsClients;
    key: string;
    now: number;
    /** The store's capabilities as the broker resolves them (absent: not probed, AWS's assumed). */
    caps: StoreCapabilities | undefined;
  },
  add: (finding: DoctorFinding) => void,
): Promise<void> {
  const { deployment, broker, key } = options;
  const bucket = deployment.bucket;
  // As the broker signs it on this store: a CRC32C where the store keeps checksums, else Content-MD5.
  const byChecksum = integrityFor(options.caps ?? FULL_CAPABILITIES) === 'checksum';
  const checksum = crc32cBase64(BODY);
  const contentMd5 = createHash('md5').update(BODY).digest('base64');
  const fail = (message: string, fix: string) => add({ level: 'error', check: 'live', message, fix });
  try {
    const put = await presignPutObject(broker.presigner, {
      bucket,
      key,
      contentLength: BODY.length,
      algorithm: 'CRC32C',
      ...(byChecksum ? { checksum } : { contentMd5 }),
      contentType: 'application/octet-stream',
      contentDisposition: 'attachment; filename="check.bin"',
      metadata: {},
      expiresIn: 300,
      now: options.now,
    });
    const first = await fetch(put.url, {
      method: put.method,
      headers: put.headers,
      body: new Uint8Array(BODY),
    });
    await first.body?.cancel();
    if (first.status !== 200)
      return fail(
        `a presigned PutObject signed with the broker's credentials was refused (${first.status})`,
        "give the broker s3:PutObject on the prefix (hoist aws policy --broker), and check that the store's clock and s3.publicEndpoint are right",
      );
    const again = await fetch(put.url, {
      method: put.method,
      headers: put.headers,
      body: new Uint8Array(BODY),
    });
    await again.body?.cancel();
    if (again.status !== 412) add(overwriteFinding(again.status, options.caps));
    const head = await headObject(broker.s3, { bucket, key, algorithm: 'CRC32C' });
    if (!head)
      return fail(
        'the object just uploaded is not there',
        'check s3.endpoint and s3.publicEndpoint name the same store',
      );
    if (head.size !== BODY.length)
      return fail(`the test object has ${head.size} bytes, not ${BODY.length}`, 'check the store');
    if (!byChecksum) {
      // The broker's own comparison, so doctor fails exactly what completion would reject.
      if (!etagIsMd5(head.etag, contentMd5))
        return fail(
          `the store reports ETag ${head.etag ?? '(none)'}, not the MD5 ${md5Hex(contentMd5)}: the broker verifies uploads by the ETag chain on this store and would reject every upload`,
          'use a store whose ETags are the MD5 of the bytes (no SSE-KMS or SSE-C on the bucket), or one with flexible checksums',
        );
      add({
        level: 'ok',
        check: 'live',
        message:
          'a presigned PutObject as the broker signs it uploads (Content-MD5 verified), cannot overwrite, and its ETag is its MD5',
      });
      return;
    }
    if (head.checksum === undefined)
      return fail(
        'the store kept no CRC32C checksum for the test object: the broker verifies every upload by its checksum at completion and would reject every upload on this store',
        'set store.flexibleChecksums to auto (or false) so the broker verifies uploads by Content-MD5 and the ETag chain on this store; see docs/compatibility.md',
      );
    if (head.checksum !== checksum)
      return fail(`the store reports CRC32C ${head.checksum}, not ${checksum}`, 'check the store');
    add({
      level: 'ok',
      check: 'live',
      message:
        'a presigned PutObject as the broker signs it uploads, cannot overwrite, and keeps its checksum for verification',
    });
  } catch (error) {
    const { name, status } = awsError(error);
    fail(
      `the presign-mode upload check failed (${name}${status ? ` ${status}` : ''})`,
      "check the broker's credentials and its policy: hoist aws policy --broker",
    );
  } finally {
    await removeTestObject(broker, bucket, key, add);
  }
}

/**
 * A second presigned PutObject with If-None-Match was not refused. Where the broker knows the
 * store ignores it (probed or pinned), it hands out no PUT URLs there (every upload goes
 * multipart and the broker completes it after checking the key is free): a warning, as the
 * capability finding says. Where it believes the store honours it, presigned PUTs could
 * replace verified objects: an error.
 */
export function overwriteFinding(status: number, caps: StoreCapabilities | undefined): DoctorFinding {
  const what = `a second presigned PutObject with If-None-Match: * was answered ${status}, not 412: the store does not refuse overwrites`;
  if (caps?.ifNoneMatchOnPut === false)
    return {
      level: 'warning',
      check: 'live',
      message: `${what}; the broker sends every upload multipart on this store, so no PUT URL can replace a verified object`,
    };
  return {
    level: 'error',
    check: 'live',
    message: what,
    fix: 'set store.ifNoneMatchOnPut to auto (or false) so the broker sends every upload multipart on this store, or use a store that honours If-None-Match on PutObject',
  };
}
