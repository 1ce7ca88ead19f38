/**
 * One Node upload client in its own process, so its CPU time and peak RSS are its own:
 *
 *   HOIST_BENCH_UPLOAD_JOB='<ClientJob as JSON>' node bench/lib/upload-client-child.ts
 *
 * `engine`: Hoist's engine through a broker; `lib-storage`: `@aws-sdk/lib-storage` Upload; both
 * with their own default checksums unless the job names one for the engine; `plain`: the ceiling (upload-plain.ts). Each imports only what it
 * uses. Time and CPU count from just before the upload starts (module loading excluded); peak
 * RSS is the whole process's (VmHWM). Prints one `BENCH-RESULT {json}` line (a ClientResult) and exits
 * 0, or 1 when the upload failed; exits when its stdin closes (the parent died).
 */
import { createReadStream, readFileSync } from 'node:fs';
import type { SigV4Credentials } from '@hoist/aws/sigv4';
import type { ChecksumAlgorithm } from '@hoist/protocol';

export const RESULT_PREFIX = 'BENCH-RESULT ';
/** The job travels in the environment: argv is world-readable in `ps`. */
export const JOB_ENV = 'HOIST_BENCH_UPLOAD_JOB';
/** `idle` uploads nothing: the peak RSS of the process itself (Node + the TypeScript loader). */
export const NODE_CLIENTS = ['engine', 'lib-storage', 'plain', 'idle'] as const;
export type NodeClient = (typeof NODE_CLIENTS)[number];

export interface ClientJob {
  client: NodeClient;
  file: string;
  size: number;
  partSize: number;
  concurrency: number;
  /** engine: a checksum algorithm instead of the engine's default (the Node build's: CRC32). */
  checksumAlgorithm?: ChecksumAlgorithm;
  /** engine: the broker and a user's token. */
  brokerUrl?: string;
  token?: string;
  /** lib-storage and plain: straight to S3 with these credentials. */
  endpoint?: string;
  bucket?: string;
  key?: string;
  credentials?: SigV4Credentials;
}

export interface ClientResult {
  /** Wall seconds of the upload alone. */
  seconds?: number;
  /** CPU seconds (user + system, all threads) during the upload. */
  cpuSeconds?: number;
  /** Peak RSS of the process, MiB. */
  peakRssMiB?: number;
  /** The object's key (the broker picks the engine's). */
  key?: string;
  /** Set when the upload failed. */
  error?: string;
  /** Set when the client cannot run here (e.g. the engine is not built yet). */
  unavailable?: string;
}

const need = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`job.${what} is required`);
  return value;
};

/** Loads the client's code, then returns the upload to time (resolving with the object key). */
async function prepare(job: ClientJob): Promise<() => Promise<string>> {
  if (job.client === 'idle') return async () => 'idle';
  if (job.client === 'engine') {
    const { createNodeUpload } = await import('@hoist/client/node');
    return async () => {
      // The broker has the last word on the part size (it is configured to the same): checked below.
      const upload = await createNodeUpload(job.file, {
        brokerUrl: need(job.brokerUrl, 'brokerUrl'),
        token: need(job.token, 'token'),
        concurrency: job.concurrency,
        partSize: job.partSize,
        ...(job.checksumAlgorithm ? { checksumAlgorithm: job.checksumAlgorithm } : {}),
      });
      let confirmed = 0;
      upload.on('progress', (progress) => {
        confirmed = progress.confirmedBytes;
      });
      const view = await upload.start();
      if (view.status !== 'completed') throw new Error(`upload ended ${view.status}`);
      if (confirmed !== job.size) throw new Error(`progress ended at ${confirmed} of ${job.size} bytes`);
      if (view.uploadId !== null && view.partSize !== job.partSize)
        throw new Error(`the upload used ${view.partSize}-byte parts, not ${job.partSize}`);
      return view.key;
    };
  }
  const endpoint = need(job.endpoint, 'endpoint');
  const bucket = need(job.bucket, 'bucket');
  const key = need(job.key, 'key');
  const credentials = need(job.credentials, 'credentials');
  if (job.client === 'plain') {
    const { plainMultipartUpload } = await import('./upload-plain.ts');
    return async () => {
      await plainMultipartUpload({ ...job, endpoint, bucket, key, credentials });
      return key;
    };
  }
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { Upload } = await import('@aws-sdk/lib-storage');
  return async () => {
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    });
    try {
      await new Upload({
        client,
        // Its defaults, as users run it: the SDK picks the checksum (CRC32 since 2025).
        params: { Bucket: bucket, Key: key, Body: createReadStream(job.file) },
        partSize: job.partSize,
        queueSize: job.concurrency,
        leavePartsOnError: false,
      }).done();
    } finally {
      client.destroy();
    }
    return key;
  };
}

/**
 * VmHWM of this process. Not getrusage's maxRSS: Linux carries the parent's RSS at fork over
 * exec into it, so a child of a big parent would report the parent's size.
 */
function peakRssMiB(): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? Number.NaN : Number(kb) / 1024;
}

async function run(job: ClientJob): Promise<ClientResult> {
  let upload: () => Promise<string>;
  try {
    upload = await prepare(job);
  } catch (error) {
    return { unavailable: `cannot load ${job.client}: ${(error as Error).message}` };
  }
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    const key = await upload();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMiB: peakRssMiB(),
      key,
    };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { error: `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}`.slice(0, 600) };
  }
}

if (import.meta.main) {
  const exit = (): never => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
  const job = JSON.parse(process.env[JOB_ENV] ?? '{}') as ClientJob;
  const result = await run(job);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  process.exit(result.error ? 1 : 0);
}
