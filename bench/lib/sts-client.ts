/**
 * A small client for the STS benchmark: requests are signed first (SigV4 with the project's
 * `signRequest` on node:crypto) and sent afterwards, so the measured time is the round trip
 * alone; node:http with a keep-alive agent; response bodies kept as text (they are small).
 */
import { Agent, request } from 'node:http';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { type SigV4Credentials, signRequest } from '@hoist/aws/sigv4';

const REGION = 'us-east-1';
const TIMEOUT_MS = 30_000;
const FORM = 'application/x-www-form-urlencoded; charset=utf-8';

export interface SignedRequest {
  method: string;
  /** Path and query, encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface Response {
  status: number;
  text: string;
}

export interface BenchHttp {
  send(req: SignedRequest): Promise<Response>;
  close(): void;
}

export function createHttp(endpoint: string, maxSockets: number): BenchHttp {
  const { hostname, port } = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    send(spec) {
      return new Promise<Response>((resolve, reject) => {
        const req = request(
          { host: hostname, port, method: spec.method, path: spec.path, headers: spec.headers, agent },
          (res) => {
            const pieces: Buffer[] = [];
            res.on('data', (chunk: Buffer) => pieces.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(pieces).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`${spec.method} ${spec.path}: timed out`)));
        req.on('error', reject);
        req.end(spec.body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** A signed STS Query request: `POST /` with a form body, signed for service `sts`. */
export async function signSts(
  endpoint: string,
  credentials: SigV4Credentials,
  params: URLSearchParams,
): Promise<SignedRequest> {
  const body = Buffer.from(params.toString());
  const headers: Record<string, string> = { 'content-type': FORM, 'content-length': String(body.length) };
  Object.assign(
    headers,
    await signRequest({
      method: 'POST',
      url: `${endpoint}/`,
      headers: { 'content-type': FORM },
      service: 'sts',
      region: REGION,
      credentials,
      body,
      crypto: nodeSigV4Crypto,
    }),
  );
  return { method: 'POST', path: '/', headers, body };
}

/** A signed S3 request (`UNSIGNED-PAYLOAD`, as the upload engine signs parts). */
export async function signS3(
  endpoint: string,
  credentials: SigV4Credentials,
  method: string,
  path: string,
  body?: Buffer,
): Promise<SignedRequest> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-length'] = String(body.length);
  Object.assign(
    headers,
    await signRequest({
      method,
      url: `${endpoint}${path}`,
      service: 's3',
      region: REGION,
      credentials,
      payloadHash: 'UNSIGNED-PAYLOAD',
      crypto: nodeSigV4Crypto,
    }),
  );
  return body === undefined ? { method, path, headers } : { method, path, headers, body };
}

export function expectStatus(response: Response, what: string, status = 200): Response {
  if (response.status !== status)
    throw new Error(`${what}: HTTP ${response.status} ${response.text.slice(0, 400)}`);
  return response;
}

/** The temporary credentials in an AssumeRole (or GetFederationToken/GetSessionToken) response. */
export function parseCredentials(xml: string): {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
} {
  const field = (name: string): string => {
    const value = new RegExp(`<${name}>([^<]+)</${name}>`).exec(xml)?.[1];
    if (value === undefined) throw new Error(`no ${name} in ${xml.slice(0, 300)}`);
    return value;
  };
  return {
    accessKeyId: field('AccessKeyId'),
    secretAccessKey: field('SecretAccessKey'),
    sessionToken: field('SessionToken'),
  };
}
