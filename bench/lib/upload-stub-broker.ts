/**
 * A stub of the broker API for the sink benchmark: the routes the engine calls, answered
 * from memory in front of the S3-shaped sink (`upload-sink.ts`), with dummy credentials and
 * no auth. It keeps the broker's contract (shapes from `protocol/api.ts`, 16 MiB parts,
 * FULL_OBJECT CRC uploads) and checks at completion that the sink received every part and
 * every byte, so a fast but wrong upload does not count.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  CompleteUploadRequest,
  CreateUploadRequest,
  CreateUploadResponse,
  CredentialsResponse,
  TemporaryCredentials,
  UploadView,
} from '@hoist/protocol/internal/api';
import { supportsFullObject } from '@hoist/protocol/internal/checksum';
import { choosePartSize, partCount } from '@hoist/protocol/internal/part-size';
import { SINK_BUCKET, type UploadSink } from './upload-sink.ts';

/** Files up to this size go as one PutObject, as the broker's default. */
const SINGLE_REQUEST_MAX = 8 * 1024 * 1024;
const MAX_JSON_BYTES = 8 * 1024 * 1024;

interface StubUpload {
  view: UploadView;
  partCount: number;
}

export interface StubBroker {
  url: string;
  /** The token the stub expects (any bearer token is accepted; this one is documented). */
  token: string;
  close(): Promise<void>;
}

const dummyCredentials = (): TemporaryCredentials => ({
  accessKeyId: 'ASIASTUBBROKERBENCH01',
  secretAccessKey: 'stub-broker-bench-secret-0123456789abcdef',
  sessionToken: `stub-session-${randomBytes(24).toString('base64url')}`,
  expiration: new Date(Date.now() + 3_600_000).toISOString(),
});

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

const problem = (res: ServerResponse, status: number, type: string, detail: string): void =>
  json(res, status, { type, title: type, status, detail });

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= MAX_JSON_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (bytes > MAX_JSON_BYTES) return reject(new Error('body too large'));
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

/** `partSize` is the broker's configured part size (the engine follows the broker's choice). */
export async function startStubBroker(sink: UploadSink, partSize: number): Promise<StubBroker> {
  const uploads = new Map<string, StubUpload>();

  const create = (input: CreateUploadRequest): CreateUploadResponse => {
    const id = randomBytes(16).toString('hex');
    const algorithm = input.checksumAlgorithm ?? 'CRC32C';
    const single = input.size <= SINGLE_REQUEST_MAX;
    const size = choosePartSize(input.size, partSize);
    const count = single ? 1 : partCount(input.size, size);
    const key = `files/bench/${id}/${input.filename.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    const uploadId = single ? null : sink.createUpload(key);
    const now = new Date();
    uploads.set(id, {
      partCount: count,
      view: {
        id,
        status: 'uploading',
        filename: input.filename,
        key,
        size: input.size,
        contentType: input.contentType,
        mode: 'sts',
        uploadId,
        partSize: size,
        checksumAlgorithm: algorithm,
        createdAt: now.toISOString(),
      },
    });
    return {
      id,
      bucket: SINK_BUCKET,
      key,
      region: 'us-east-1',
      endpoint: sink.url,
      forcePathStyle: true,
      mode: 'sts',
      uploadId,
      partSize: size,
      partCount: count,
      checksumAlgorithm: algorithm,
      checksumType: single || supportsFullObject(algorithm) ? 'FULL_OBJECT' : 'COMPOSITE',
      credentials: dummyCredentials(),
      ...(single ? { putHeaders: { 'content-type': input.contentType } } : {}),
      expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    };
  };

  /** Completes in the sink and checks it got every part and byte; an error message if not. */
  const complete = (upload: StubUpload, body: CompleteUploadRequest): string | undefined => {
    const { view } = upload;
    if (view.uploadId === null) {
      const object = sink.object(view.key);
      if (object?.bytes !== view.size)
        return `the sink has ${object?.bytes ?? 'no'} bytes, expected ${view.size}`;
      return undefined;
    }
    if (body.parts.length !== upload.partCount)
      return `${body.parts.length} parts listed, the file has ${upload.partCount}`;
    const received = sink.uploadParts(view.uploadId);
    for (const part of body.parts) {
      const got = received?.get(part.partNumber);
      if (got === undefined || got.etag !== part.etag)
        return `part ${part.partNumber}: unknown or wrong ETag`;
    }
    const object = sink.completeUpload(view.uploadId);
    if (object?.bytes !== view.size)
      return `the sink received ${object?.bytes ?? 0} bytes, expected ${view.size}`;
    return undefined;
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://stub').pathname;
    const method = req.method ?? '';
    if (method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (method === 'POST' && path === '/uploads') {
      const input = (await readJson(req)) as CreateUploadRequest;
      if (typeof input.size !== 'number' || typeof input.filename !== 'string')
        return problem(res, 400, 'invalid-request', 'filename and size are required');
      return json(res, 201, create(input));
    }
    const match = /^\/uploads\/([0-9a-f]+)(\/credentials|\/complete)?$/.exec(path);
    const upload = match ? uploads.get(match[1]!) : undefined;
    if (!match || !upload) {
      req.resume();
      return problem(res, 404, 'not-found', `${method} ${path}`);
    }
    const action = match[2];
    if (method === 'POST' && action === '/credentials')
      return json(res, 200, { credentials: dummyCredentials() } satisfies CredentialsResponse);
    if (method === 'POST' && action === '/complete') {
      const body = (await readJson(req)) as CompleteUploadRequest;
      const failure = complete(upload, body);
      if (failure) {
        upload.view.status = 'rejected';
        upload.view.reason = failure;
        return problem(res, 422, 'upload-rejected', failure);
      }
      upload.view.status = 'completed';
      upload.view.completedAt = new Date().toISOString();
      if (body.checksum !== undefined) upload.view.checksum = body.checksum;
      return json(res, 200, upload.view);
    }
    if (method === 'GET' && action === undefined) {
      const parts = upload.view.uploadId === null ? undefined : sink.uploadParts(upload.view.uploadId);
      return json(res, 200, {
        ...upload.view,
        parts: [...(parts ?? new Map()).entries()]
          .sort(([a], [b]) => a - b)
          .map(([partNumber, part]) => ({ partNumber, ...part })),
      } satisfies UploadView);
    }
    if (method === 'DELETE' && action === undefined) {
      if (upload.view.uploadId !== null) sink.abortUpload(upload.view.uploadId);
      upload.view.status = 'aborted';
      return json(res, 200, upload.view);
    }
    req.resume();
    problem(res, 405, 'method-not-allowed', `${method} ${path}`);
  };

  const server: Server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) problem(res, 400, 'invalid-request', String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('stub broker: no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    token: 'stub-broker-bench-token',
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
