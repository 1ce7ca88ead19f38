/**
 * A minimal S3-shaped sink for the upload benchmark: just enough of S3's wire format
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
 * PutObject, HeadObject, DeleteObject) for real clients to run, with no auth and no disk.
 * Bodies are counted and dropped, so what it shows is each client's own ceiling and CPU.
 *
 * It also records, per object, which integrity measures the client sent (per-part checksum
 * headers, trailers, Content-MD5, a signed payload hash), and how many bytes arrived, so the
 * benchmark can check every upload delivered the whole file.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export const SINK_BUCKET = 'sink';
const MAX_XML_BYTES = 4 * 1024 * 1024;

export interface SinkPart {
  size: number;
  etag: string;
  checksum?: string;
}

/** A finished object (or a multipart upload in progress, in `SinkUpload`). */
export interface SinkObject {
  key: string;
  bytes: number;
  parts: number;
  /** What the client sent to protect the bytes, e.g. `CRC32C header`, `SHA-256 payload`. */
  integrity: string[];
}

interface SinkUpload {
  key: string;
  parts: Map<number, SinkPart>;
  integrity: Set<string>;
}

export interface UploadSink {
  url: string;
  /** Starts a multipart upload as CreateMultipartUpload would (the stub broker calls this). */
  createUpload(key: string): string;
  /** Parts received so far, by part number; undefined for an unknown upload id. */
  uploadParts(uploadId: string): ReadonlyMap<number, SinkPart> | undefined;
  /** Completes as CompleteMultipartUpload would; the object's size is the sum of its parts. */
  completeUpload(uploadId: string): SinkObject | undefined;
  abortUpload(uploadId: string): void;
  /** The finished object at `key` (decoded, without the bucket). */
  object(key: string): SinkObject | undefined;
  /** Forgets every object and upload (between runs). */
  clear(): void;
  close(): Promise<void>;
}

const xmlEscape = (text: string): string => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

const newEtag = (): string => `"${randomBytes(16).toString('hex')}"`;

/** The integrity measures a request carries, by header. */
function integrityOf(req: IncomingMessage): string[] {
  const found: string[] = [];
  for (const name of Object.keys(req.headers)) {
    if (
      name.startsWith('x-amz-checksum-') &&
      name !== 'x-amz-checksum-algorithm' &&
      name !== 'x-amz-checksum-type'
    )
      found.push(`${name.slice('x-amz-checksum-'.length).toUpperCase()} header`);
  }
  const trailer = req.headers['x-amz-trailer'];
  if (typeof trailer === 'string')
    found.push(`${trailer.replace('x-amz-checksum-', '').toUpperCase()} trailer`);
  if (req.headers['content-md5']) found.push('Content-MD5');
  const payload = req.headers['x-amz-content-sha256'];
  if (typeof payload === 'string' && /^[0-9a-f]{64}$/.test(payload)) found.push('SHA-256 payload');
  else if (typeof payload === 'string' && payload.startsWith('STREAMING-')) found.push(payload.toLowerCase());
  return found;
}

/** x-amz-checksum-<algorithm> headers of the request, to echo as S3 does. */
function checksumHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-checksum-') && typeof value === 'string') out[name] = value;
  }
  return out;
}

function reply(res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    ...(body ? { 'content-type': 'application/xml' } : {}),
  });
  res.end(body);
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  reply(
    res,
    status,
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`,
  );
}

type Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PutObject'
  | 'HeadObject'
  | 'DeleteObject';

/** The S3 operation a request names (method + query markers), if the sink has it. */
function operationOf(req: IncomingMessage, q: URLSearchParams): Operation | undefined {
  const upload = q.has('uploadId');
  switch (req.method) {
    case 'POST':
      return q.has('uploads') ? 'CreateMultipartUpload' : upload ? 'CompleteMultipartUpload' : undefined;
    case 'PUT':
      if (upload) return 'UploadPart';
      return req.headers['x-amz-copy-source'] === undefined ? 'PutObject' : undefined;
    case 'DELETE':
      return upload ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'HEAD':
      return 'HeadObject';
    default:
      return undefined;
  }
}

/**
 * Counts the body's bytes and drops them; for aws-chunked bodies the payload size is the
 * declared decoded length (the framing is not counted).
 */
function drain(req: IncomingMessage, done: (bytes: number) => void): void {
  let bytes = 0;
  const decoded = req.headers['x-amz-decoded-content-length'];
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.on('end', () => done(typeof decoded === 'string' ? Number(decoded) : bytes));
}

function readSmall(req: IncomingMessage, done: (text: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes <= MAX_XML_BYTES) chunks.push(chunk);
  });
  req.on('end', () => done(bytes <= MAX_XML_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined));
}

export async function startUploadSink(): Promise<UploadSink> {
  const uploads = new Map<string, SinkUpload>();
  const objects = new Map<string, SinkObject>();

  const createUpload = (key: string): string => {
    const id = randomBytes(12).toString('base64url');
    uploads.set(id, { key, parts: new Map(), integrity: new Set() });
    return id;
  };
  const completeUpload = (uploadId: string): SinkObject | undefined => {
    const upload = uploads.get(uploadId);
    if (!upload) return undefined;
    uploads.delete(uploadId);
    let bytes = 0;
    for (const part of upload.parts.values()) bytes += part.size;
    const object = { key: upload.key, bytes, parts: upload.parts.size, integrity: [...upload.integrity] };
    objects.set(upload.key, object);
    return object;
  };

  const xml = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

  /** One handler per S3 operation; `key` is decoded, `uploadId` from the query. */
  const handlers: Record<
    Operation,
    (req: IncomingMessage, res: ServerResponse, key: string, q: URLSearchParams) => void
  > = {
    CreateMultipartUpload(req, res, key) {
      req.resume();
      const id = createUpload(key);
      reply(
        res,
        200,
        `${xml}<InitiateMultipartUploadResult ${ns}><Bucket>${SINK_BUCKET}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      );
    },
    UploadPart(req, res, _key, q) {
      const upload = uploads.get(q.get('uploadId') ?? '');
      const partNumber = Number(q.get('partNumber'));
      if (!upload || !(partNumber >= 1 && partNumber <= 10_000)) {
        req.resume();
        s3Error(res, 404, 'NoSuchUpload', 'no such upload or part number');
        return;
      }
      for (const measure of integrityOf(req)) upload.integrity.add(measure);
      const echoed = checksumHeaders(req);
      drain(req, (size) => {
        const etag = newEtag();
        const checksum = Object.values(echoed)[0];
        upload.parts.set(partNumber, { size, etag, ...(checksum === undefined ? {} : { checksum }) });
        reply(res, 200, '', { etag, ...echoed });
      });
    },
    CompleteMultipartUpload(req, res, key, q) {
      const uploadId = q.get('uploadId') ?? '';
      readSmall(req, (body) => {
        const upload = uploads.get(uploadId);
        if (!upload || body === undefined) {
          s3Error(res, 404, 'NoSuchUpload', 'no such upload');
          return;
        }
        const listed = body.match(/<PartNumber>/g)?.length ?? 0;
        if (listed !== upload.parts.size) {
          s3Error(res, 400, 'InvalidPart', `${listed} parts listed, ${upload.parts.size} uploaded`);
          return;
        }
        const object = completeUpload(uploadId)!;
        reply(
          res,
          200,
          `${xml}<CompleteMultipartUploadResult ${ns}><Location>http://sink/${SINK_BUCKET}/${xmlEscape(key)}</Location><Bucket>${SINK_BUCKET}</Bucket><Key>${xmlEscape(key)}</Key><ETag>"${randomBytes(16).toString('hex')}-${object.parts}"</ETag></CompleteMultipartUploadResult>`,
          checksumHeaders(req),
        );
      });
    },
    AbortMultipartUpload(req, res, _key, q) {
      req.resume();
      uploads.delete(q.get('uploadId') ?? '');
      reply(res, 204);
    },
    PutObject(req, res, key) {
      const integrity = integrityOf(req);
      const echoed = checksumHeaders(req);
      drain(req, (bytes) => {
        objects.set(key, { key, bytes, parts: 0, integrity });
        reply(res, 200, '', { etag: newEtag(), ...echoed });
      });
    },
    HeadObject(req, res, key) {
      req.resume();
      const object = objects.get(key);
      if (!object) reply(res, 404);
      else {
        res.writeHead(200, { 'content-length': String(object.bytes), etag: newEtag() });
        res.end();
      }
    },
    DeleteObject(req, res, key) {
      req.resume();
      objects.delete(key);
      reply(res, 204);
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const operation = operationOf(req, url.searchParams);
    if (bucket !== SINK_BUCKET || key === '' || operation === undefined) {
      req.resume();
      s3Error(
        res,
        501,
        'NotImplemented',
        `the sink has /${SINK_BUCKET}/<key> and no ${req.method} ${url.search}`,
      );
      return;
    }
    handlers[operation](req, res, key, url.searchParams);
  };

  const server: Server = createServer({ requestTimeout: 0, keepAliveTimeout: 60_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('upload sink: no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    createUpload,
    uploadParts: (uploadId) => uploads.get(uploadId)?.parts,
    completeUpload,
    abortUpload: (uploadId) => void uploads.delete(uploadId),
    object: (key) => objects.get(key),
    clear: () => {
      uploads.clear();
      objects.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
