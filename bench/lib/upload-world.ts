/**
 * What the upload benchmark's clients upload to, and how they run:
 * - the server world: Hoist's local S3 + STS server and a real broker (sts mode, the
 *   benchmark's part size), each in its own process;
 * - the sink world: the S3-shaped sink and the stub broker, in this process (the driver is
 *   idle while a client runs, so its CPU time is the sink's);
 * - `runNodeClient`: one Node client in its own process (upload-client-child.ts).
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { type SigV4Credentials, signRequest } from '@hoist/aws/sigv4';
import { BUCKET, ROOT_CREDENTIALS, USERS } from './broker-fixture.ts';
import type { BenchResources } from './resources.ts';
import { READY_PREFIX } from './target-child.ts';
import { type ClientJob, type ClientResult, JOB_ENV, RESULT_PREFIX } from './upload-client-child.ts';
import { describeStuck, reportArgv } from './upload-diagnose.ts';
import { startUploadSink, type UploadSink } from './upload-sink.ts';
import { type StubBroker, startStubBroker } from './upload-stub-broker.ts';

const READY_TIMEOUT_MS = 60_000;

export interface ReadyChild {
  url: string;
  pid: number;
}

/** Spawns a Node script that prints `BENCH-READY {"url"}` once listening. */
export async function startReadyChild(
  resources: BenchResources,
  name: string,
  args: string[],
): Promise<ReadyChild> {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  resources.track(child);
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: not ready after ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited (${signal ?? code}) before it was ready`));
    });
    lines.on('line', (line) => {
      if (line.startsWith(READY_PREFIX)) {
        clearTimeout(timer);
        resolve((JSON.parse(line.slice(READY_PREFIX.length)) as { url: string }).url);
      } else process.stderr.write(`[${name}] ${line}\n`);
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: no pid`);
  return { url, pid: child.pid };
}

export interface ServerWorld {
  s3: ReadyChild;
  broker: ReadyChild;
  bucket: string;
  credentials: SigV4Credentials;
  token: string;
}

export async function startServerWorld(
  resources: BenchResources,
  dir: string,
  partSize: number,
): Promise<ServerWorld> {
  const lib = import.meta.dirname;
  const s3 = await startReadyChild(resources, 's3', [join(lib, 'broker-child.ts'), 's3', join(dir, 's3')]);
  const broker = await startReadyChild(resources, 'broker', [
    join(lib, 'upload-broker-child.ts'),
    s3.url,
    join(dir, 'broker'),
    String(partSize),
  ]);
  return { s3, broker, bucket: BUCKET, credentials: ROOT_CREDENTIALS, token: USERS[0]!.token };
}

export interface SinkWorld {
  sink: UploadSink;
  broker: StubBroker;
  close(): Promise<void>;
}

export async function startSinkWorld(partSize: number): Promise<SinkWorld> {
  const sink = await startUploadSink();
  const broker = await startStubBroker(sink, partSize);
  return {
    sink,
    broker,
    close: async () => {
      await broker.close();
      await sink.close();
    },
  };
}

export const SINK_CREDENTIALS: SigV4Credentials = {
  accessKeyId: 'AKIASINKBENCHDUMMY01',
  secretAccessKey: 'sink-bench-dummy-secret-0123456789abcdef',
};

/**
 * Runs one Node client in its own process; rejects on a child without a result, or on a
 * timeout with what the child was doing (its diagnostic report, written into the work dir).
 */
export function runNodeClient(
  resources: BenchResources,
  job: ClientJob,
  timeoutMs: number,
  execArgv: string[] = [],
): Promise<ClientResult> {
  const reportDir = resources.workDir ?? tmpdir();
  const script = join(import.meta.dirname, 'upload-client-child.ts');
  const child = spawn(process.execPath, [...reportArgv(reportDir), ...execArgv, script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, [JOB_ENV]: JSON.stringify(job) },
  });
  resources.track(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise<ClientResult>((resolve, reject) => {
    let result: ClientResult | undefined;
    const timer = setTimeout(async () => {
      const doing = child.pid === undefined ? '' : await describeStuck(child.pid, reportDir);
      child.kill('SIGKILL');
      reject(new Error(`${job.client}: no result after ${(timeoutMs / 1000).toFixed(0)} s (${doing})`));
    }, timeoutMs);
    lines.on('line', (line) => {
      if (line.startsWith(RESULT_PREFIX))
        result = JSON.parse(line.slice(RESULT_PREFIX.length)) as ClientResult;
      else process.stderr.write(`[${job.client}] ${line}\n`);
    });
    // 'close' comes after stdout ended, so every line has been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`${job.client}: exited (${signal ?? code}) without a result`));
    });
  });
}

/** A signed request to the local S3 server with the root credentials (HEAD/DELETE of results). */
async function s3Call(world: ServerWorld, method: 'HEAD' | 'DELETE', key: string): Promise<Response> {
  const url = `${world.s3.url}/${world.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const headers = await signRequest({
    method,
    url,
    service: 's3',
    region: 'us-east-1',
    credentials: world.credentials,
    payloadHash: 'UNSIGNED-PAYLOAD',
    crypto: nodeSigV4Crypto,
  });
  const res = await fetch(url, { method, headers });
  await res.arrayBuffer();
  return res;
}

/** The stored object's size, or throws. */
export async function storedSize(world: ServerWorld, key: string): Promise<number> {
  const res = await s3Call(world, 'HEAD', key);
  if (res.status !== 200) throw new Error(`HeadObject ${key}: HTTP ${res.status}`);
  return Number(res.headers.get('content-length'));
}

export async function deleteStored(world: ServerWorld, key: string): Promise<void> {
  const res = await s3Call(world, 'DELETE', key);
  if (res.status !== 204 && res.status !== 200) throw new Error(`DeleteObject ${key}: HTTP ${res.status}`);
}
