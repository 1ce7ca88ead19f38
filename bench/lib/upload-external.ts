/**
 * The upload benchmark's non-Node clients (the AWS CLI, curl), run under a tiny Python wrapper
 * that measures them as Node cannot: CPU of all their threads from `RUSAGE_CHILDREN` once they
 * exited (exact), and peak RSS as their VmHWM polled every 10 ms while they run (getrusage's
 * maxrss would include the wrapper's RSS, which Linux carries over fork + exec). The wrapper
 * forwards SIGTERM to the client and dies with its parent (PR_SET_PDEATHSIG), so Ctrl-C leaves
 * nothing behind.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SigV4Credentials } from '@hoist/aws/sigv4';
import { CLIS } from '../../test/helpers/aws-cli.ts';
import { findTool } from '../../test/helpers/tools.ts';
import type { BenchResources } from './resources.ts';

const WRAPPER = `
import ctypes, json, os, resource, signal, subprocess, sys, threading, time
libc = ctypes.CDLL(None)
libc.prctl(1, signal.SIGTERM)
started = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, preexec_fn=lambda: libc.prctl(1, signal.SIGKILL))
def stop(signum, frame):
    p.kill()
    sys.exit(128 + signum)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
err = []
reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
reader.start()
me = open("/proc/self/comm").read().strip()
hwm = 0
while True:
    try:
        with open("/proc/%d/status" % p.pid) as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        if status["Name"].strip() != me and "VmHWM" in status:
            hwm = max(hwm, int(status["VmHWM"].split()[0]))
    except (OSError, KeyError, ValueError):
        pass
    try:
        code = p.wait(timeout=0.01)
        break
    except subprocess.TimeoutExpired:
        pass
wall = time.monotonic() - started
reader.join()
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall": wall, "cpu": u.ru_utime + u.ru_stime, "maxRssKiB": hwm,
                  "stderr": b"".join(err).decode("utf-8", "replace")[-1500:]}))
`;

export interface ExternalTools {
  aws: string | undefined;
  curl: string | undefined;
  /** Needed to measure either of them. */
  python: string | undefined;
}

/** The AWS CLI v2 the tests use (HOIST_AWS_CLI, else the first v2 on PATH). */
const AWS_CLI_V2 = CLIS[0]!;

export function findExternalTools(): ExternalTools {
  return {
    aws: AWS_CLI_V2.missing ? undefined : AWS_CLI_V2.bin,
    curl: findTool({ label: 'curl', env: 'HOIST_CURL', names: ['curl'], install: 'apt-get install -y curl' }),
    python: findTool({
      label: 'Python 3',
      env: 'HOIST_PYTHON',
      names: ['python3'],
      install: 'apt-get install -y python3',
    }),
  };
}

export interface ExternalRun {
  code: number;
  /** Wall seconds from spawn to exit (startup included). */
  wall: number;
  /** CPU seconds, user + system, all threads. */
  cpu: number;
  peakRssMiB: number;
  stderr: string;
}

/** Runs `argv` under the wrapper with exactly `env`; rejects on timeout or a wrapper failure. */
export function runExternal(
  resources: BenchResources,
  python: string,
  argv: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<ExternalRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', WRAPPER, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    resources.track(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${argv[0]}: no result after ${(timeoutMs / 1000).toFixed(0)} s`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(out) as Omit<ExternalRun, 'peakRssMiB'> & { maxRssKiB: number };
        resolve({ ...parsed, peakRssMiB: parsed.maxRssKiB / 1024 });
      } catch {
        reject(new Error(`${argv[0]}: measuring wrapper failed (${code}): ${err.slice(-500)}`));
      }
    });
  });
}

/**
 * The AWS CLI's environment, built from nothing (no AWS_* variable leaks in, AWS_CA_BUNDLE
 * included), with a config file in `dir` that sets the part size and concurrency under test.
 */
export function awsCliEnv(
  dir: string,
  credentials: SigV4Credentials,
  partSize: number,
  concurrency: number,
): Record<string, string> {
  const config = join(dir, 'aws-config');
  const noCredentials = join(dir, 'aws-credentials');
  const mib = partSize / (1024 * 1024);
  // The CLI reads "MB" here as MiB.
  writeFileSync(
    config,
    `[default]\nregion = us-east-1\ns3 =\n  multipart_chunksize = ${mib}MB\n  multipart_threshold = ${mib}MB\n` +
      `  max_concurrent_requests = ${concurrency}\n  addressing_style = path\n`,
  );
  writeFileSync(noCredentials, '');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: noCredentials,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

export const awsCpArgs = (
  aws: string,
  file: string,
  endpoint: string,
  bucket: string,
  key: string,
): string[] => [
  aws,
  's3',
  'cp',
  file,
  `s3://${bucket}/${key}`,
  '--endpoint-url',
  endpoint,
  '--no-progress',
  '--only-show-errors',
];

/** One PutObject of the whole file (curl has no ranged upload from a file). */
export const curlPutArgs = (curl: string, file: string, url: string): string[] => [
  curl,
  '--silent',
  '--show-error',
  '--fail',
  '--output',
  '/dev/null',
  '--upload-file',
  file,
  url,
];
