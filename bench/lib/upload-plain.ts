/**
 * The ceiling client of the upload benchmark: the cheapest honest way to send a file as one
 * S3 multipart upload from Node. node:http with a keep-alive agent, `concurrency` parts at a
 * time, each part a file range streamed with `fs.createReadStream` piped into the request, no
 * checksums, signed with SigV4 and `UNSIGNED-PAYLOAD` (so a real S3 server accepts it; the
 * sink ignores the signature).
 */
import { createReadStream } from 'node:fs';
import { Agent, type IncomingMessage, request } from 'node:http';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { type SigV4Credentials, signRequest } from '@hoist/aws/sigv4';

export interface PlainUploadOptions {
  file: string;
  size: number;
  endpoint: string;
  bucket: string;
  key: string;
  credentials: SigV4Credentials;
  partSize: number;
  concurrency: number;
}

/** Large reads: fewer syscalls and 'data' events per byte than the 64 KiB default. */
const READ_BYTES = 1024 * 1024;
const STALL_MS = 30_000;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

async function send(
  agent: Agent,
  options: PlainUploadOptions,
  method: string,
  pathAndQuery: string,
  body: { text: string } | { start: number; end: number } | undefined,
): Promise<Answer> {
  const length =
    body === undefined ? 0 : 'text' in body ? Buffer.byteLength(body.text) : body.end - body.start;
  const headers: Record<string, string> = {
    ...(await signRequest({
      method,
      url: `${options.endpoint}${pathAndQuery}`,
      service: 's3',
      region: 'us-east-1',
      credentials: options.credentials,
      payloadHash: 'UNSIGNED-PAYLOAD',
      crypto: nodeSigV4Crypto,
    })),
    'content-length': String(length),
  };
  const { hostname, port } = new URL(options.endpoint);
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: hostname, port, method, path: pathAndQuery, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    // A stalled exchange becomes an error that says which request, not a silent hang.
    req.setTimeout(STALL_MS, () =>
      req.destroy(new Error(`${method} ${pathAndQuery}: no progress for ${STALL_MS / 1000} s`)),
    );
    if (body === undefined) req.end();
    else if ('text' in body) req.end(body.text);
    else if (length === 0) req.end();
    else {
      const file = createReadStream(options.file, {
        start: body.start,
        end: body.end - 1,
        highWaterMark: READ_BYTES,
      });
      file.on('error', (error) => req.destroy(error));
      file.pipe(req);
    }
  });
}

function expectOk(answer: Answer, what: string): Answer {
  if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
  return answer;
}

/** Create, UploadPart × N (`concurrency` at a time), Complete; returns the object's ETag. */
export async function plainMultipartUpload(options: PlainUploadOptions): Promise<string> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    const path = `/${options.bucket}/${options.key.split('/').map(encodeURIComponent).join('/')}`;
    const created = expectOk(
      await send(agent, options, 'POST', `${path}?uploads=`, undefined),
      'CreateMultipartUpload',
    );
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1];
    if (!uploadId) throw new Error(`CreateMultipartUpload: no UploadId in ${created.text.slice(0, 300)}`);
    const query = `uploadId=${encodeURIComponent(uploadId)}`;
    const count = Math.max(1, Math.ceil(options.size / options.partSize));
    const etags: string[] = new Array(count);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < count; index = next++) {
        const start = index * options.partSize;
        const end = Math.min(options.size, start + options.partSize);
        const answer = expectOk(
          await send(agent, options, 'PUT', `${path}?partNumber=${index + 1}&${query}`, { start, end }),
          `UploadPart ${index + 1}`,
        );
        etags[index] = String(answer.headers.etag ?? '');
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, count) }, worker));
    const parts = etags.map(
      (etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`,
    );
    const completed = expectOk(
      await send(agent, options, 'POST', `${path}?${query}`, {
        text: `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`,
      }),
      'CompleteMultipartUpload',
    );
    // S3 may answer 200 with an error document.
    const etag = /<ETag>([^<]+)<\/ETag>/.exec(completed.text)?.[1];
    if (!completed.text.includes('CompleteMultipartUploadResult') || etag === undefined)
      throw new Error(`CompleteMultipartUpload: ${completed.text.slice(0, 300)}`);
    return etag;
  } finally {
    agent.destroy();
  }
}
