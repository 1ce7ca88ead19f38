/**
 * Raw S3 requests signed by an independent SigV4 implementation (smithy's, as the
 * AWS SDK uses), for the cases the SDK will not send: wrong keys, skewed clocks,
 * unsigned headers, hand-built chunked bodies, duplicate headers.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RawRequest {
  url: string;
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region?: string;
  signingDate?: Date;
  /** Payload hash to sign; defaults to the SHA-256 of the body. */
  payloadHash?: string;
  /** Headers added after signing (so they are not signed). */
  unsignedHeaders?: Record<string, string>;
  presign?: { expiresIn: number };
}

export function signer(credentials: RawRequest['credentials'], region = 'us-east-1'): SignatureV4 {
  return new SignatureV4({
    credentials,
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

export async function signRaw(input: RawRequest): Promise<{ path: string; headers: Record<string, string> }> {
  const target = new URL(input.url);
  const body = input.body ?? '';
  const headers: Record<string, string> = { host: target.host, ...(input.headers ?? {}) };
  const { createHash } = await import('node:crypto');
  // Presigned S3 URLs sign UNSIGNED-PAYLOAD; the header only feeds the signer and is not sent.
  headers['x-amz-content-sha256'] = input.presign
    ? 'UNSIGNED-PAYLOAD'
    : (input.payloadHash ?? createHash('sha256').update(body).digest('hex'));
  const httpRequest = {
    method: input.method ?? 'GET',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: input.path,
    query: input.query ?? {},
    headers,
    body,
  };
  const sig = signer(input.credentials, input.region);
  const signed = input.presign
    ? await sig.presign(httpRequest, {
        expiresIn: input.presign.expiresIn,
        ...(input.signingDate ? { signingDate: input.signingDate } : {}),
      })
    : await sig.sign(httpRequest, input.signingDate ? { signingDate: input.signingDate } : {});
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(signed.query ?? {})) {
    if (typeof value === 'string') query.append(name, value);
  }
  const qs = query.toString().replace(/\+/g, '%20');
  return {
    path: `${encodePath(input.path)}${qs ? `?${qs}` : ''}`,
    headers: { ...(signed.headers as Record<string, string>), ...(input.unsignedHeaders ?? {}) },
  };
}

function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

export async function sendRaw(input: RawRequest): Promise<RawResponse> {
  const { path, headers } = await signRaw(input);
  const target = new URL(input.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: input.method ?? 'GET',
        path,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(input.body ?? undefined);
  });
}

/** Sends bytes as they are (for duplicate headers and other things an HTTP client will not send). */
export function sendBytes(url: string, head: string, body: Buffer = Buffer.alloc(0)): Promise<string> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    // No half-close: an HTTP server ends a socket whose client sent FIN before it could answer.
    const socket = connect(Number(target.port), target.hostname, () => {
      socket.write(head);
      socket.write(body);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(error),
    );
  });
}

export function codeOf(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
