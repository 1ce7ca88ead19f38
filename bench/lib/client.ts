/**
 * The one benchmark client for every target, kept cheap so it steals little CPU
 * from the server: node:http with a keep-alive agent, bodies written as slices of
 * one pre-generated random 16 MiB pattern (with backpressure), S3 requests signed
 * with SigV4 and `UNSIGNED-PAYLOAD`, GET bodies counted and dropped.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, type IncomingMessage, request } from 'node:http';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { signRequest } from '@hoist/aws/sigv4';
import type { TargetInfo } from './target-child.ts';

export const MiB = 1024 * 1024;
export const PART_BYTES = 16 * MiB;
export const PARTS_IN_FLIGHT = 4;
const PATTERN_BYTES = 16 * MiB;
const SLICE_BYTES = 4 * MiB;
const REQUEST_TIMEOUT_MS = 180_000;

const pattern = randomBytes(PATTERN_BYTES);
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

interface Sent {
  status: number;
  headers: IncomingMessage['headers'];
  /** Small bodies (XML) as text; big bodies only counted. */
  text: string;
  bytes: number;
}

interface RequestSpec {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  /** Body of `bodyBytes` from the pattern, or a small string body. */
  bodyBytes?: number;
  body?: string;
  /** Keep the response body as text (always done for error statuses). */
  keepText?: boolean;
}

async function writeBody(req: ReturnType<typeof request>, size: number): Promise<void> {
  let sent = 0;
  while (sent < size) {
    const offset = sent % PATTERN_BYTES;
    const n = Math.min(SLICE_BYTES, size - sent, PATTERN_BYTES - offset);
    sent += n;
    // `once` rejects if the request errors while we wait.
    if (!req.write(pattern.subarray(offset, offset + n))) await once(req, 'drain');
  }
  req.end();
}

export async function send(target: TargetInfo, spec: RequestSpec): Promise<Sent> {
  const headers: Record<string, string> = {};
  const length = spec.bodyBytes ?? (spec.body === undefined ? 0 : Buffer.byteLength(spec.body));
  if (spec.method === 'PUT' || spec.method === 'POST') headers['content-length'] = String(length);
  if (target.credentials) {
    Object.assign(
      headers,
      await signRequest({
        method: spec.method,
        url: `${target.url}${spec.path}`,
        service: 's3',
        region: 'us-east-1',
        credentials: target.credentials,
        payloadHash: 'UNSIGNED-PAYLOAD',
        crypto: nodeSigV4Crypto,
      }),
    );
  }
  const { hostname, port } = new URL(target.url);
  return new Promise<Sent>((resolve, reject) => {
    const req = request(
      { host: hostname, port, method: spec.method, path: spec.path, headers, agent },
      (res) => {
        let bytes = 0;
        const pieces: Buffer[] = [];
        const keep = spec.keepText === true || (res.statusCode ?? 0) >= 300;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (keep) pieces.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(pieces).toString('utf8'),
            bytes,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`${spec.method} ${spec.path}: timed out`)),
    );
    req.on('error', reject);
    if (spec.bodyBytes !== undefined) writeBody(req, spec.bodyBytes).catch(reject);
    else req.end(spec.body);
  });
}

function check(sent: Sent, what: string, expected: number[] = [200]): Sent {
  if (!expected.includes(sent.status)) {
    throw new Error(`${what}: HTTP ${sent.status} ${sent.text.slice(0, 300)}`);
  }
  return sent;
}

function objectPath(target: TargetInfo, key: string): string {
  return `/${target.bucket}/${encodeURIComponent(key)}`;
}

export async function putObject(target: TargetInfo, key: string, size: number): Promise<void> {
  check(
    await send(target, { method: 'PUT', path: objectPath(target, key), bodyBytes: size, keepText: true }),
    'PutObject',
  );
}

/**
 * 16 MiB parts, PARTS_IN_FLIGHT at a time. S3 targets: Create, UploadPart × N, Complete.
 * The plain sinks get the same part PUTs (`?partNumber=N`) and nothing else.
 */
export async function putMultipart(target: TargetInfo, key: string, size: number): Promise<void> {
  const path = objectPath(target, key);
  const s3 = target.credentials !== undefined;
  let uploadQuery = '';
  if (s3) {
    const created = check(
      await send(target, { method: 'POST', path: `${path}?uploads=`, keepText: true }),
      'CreateMultipartUpload',
    );
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1];
    if (!uploadId) throw new Error(`CreateMultipartUpload: no UploadId in ${created.text.slice(0, 300)}`);
    uploadQuery = `&uploadId=${encodeURIComponent(uploadId)}`;
  }
  const count = Math.ceil(size / PART_BYTES);
  const etags: string[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) {
      const bytes = Math.min(PART_BYTES, size - index * PART_BYTES);
      const sent = check(
        await send(target, {
          method: 'PUT',
          path: `${path}?partNumber=${index + 1}${uploadQuery}`,
          bodyBytes: bytes,
          keepText: true,
        }),
        `UploadPart ${index + 1}`,
      );
      etags[index] = String(sent.headers.etag ?? '');
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARTS_IN_FLIGHT, count) }, worker));
  if (!s3) return;
  const parts = etags
    .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
    .join('');
  const completed = check(
    await send(target, {
      method: 'POST',
      path: `${path}?${uploadQuery.slice(1)}`,
      body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`,
      keepText: true,
    }),
    'CompleteMultipartUpload',
  );
  // S3 may answer 200 with an error document.
  if (!completed.text.includes('CompleteMultipartUploadResult')) {
    throw new Error(`CompleteMultipartUpload: ${completed.text.slice(0, 300)}`);
  }
}

/** Streams the whole object and discards it, checking the byte count. */
export async function getObject(target: TargetInfo, key: string, size: number): Promise<void> {
  const sent = check(await send(target, { method: 'GET', path: objectPath(target, key) }), 'GetObject');
  if (sent.bytes !== size) throw new Error(`GetObject: got ${sent.bytes} bytes, expected ${size}`);
}

export async function deleteObject(target: TargetInfo, key: string): Promise<void> {
  check(
    await send(target, { method: 'DELETE', path: objectPath(target, key), keepText: true }),
    'DeleteObject',
    [200, 204],
  );
}

export function closeClient(): void {
  agent.destroy();
}
