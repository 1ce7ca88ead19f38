/**
 * The real AWS CLIs for the end-to-end suites: the AWS CLI from HOIST_AWS_CLI or PATH (always)
 * and, when HOIST_AWS_CLI_V1 names one, an AWS CLI v1. Each runs with a clean environment (empty
 * config files, its own HOME, no CA bundle, no instance metadata, one attempt, no pager),
 * a timeout and its stdin closed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AWS_CLI, findTool, missingToolMessage } from './tools.ts';

export interface Cli {
  name: string;
  bin: string;
  /** Why this CLI's suite is skipped, or false to run it. */
  skip: string | false;
  /** Set when the CLI was not found: running it fails with this message. */
  missing?: string;
}

// An optional second client, named by HOIST_AWS_CLI_V1 (a pyenv install of AWS CLI v1, say).
const V1_BIN = process.env.HOIST_AWS_CLI_V1;
const v1Missing = (): string | false =>
  V1_BIN && existsSync(V1_BIN)
    ? false
    : 'optional second client: set HOIST_AWS_CLI_V1 to an AWS CLI v1 binary';

/** The AWS CLI from HOIST_AWS_CLI or PATH; a missing one fails its tests with how to install it. */
function mainCli(): Cli {
  const bin = findTool(AWS_CLI);
  // CI installs Debian's awscli; this suite must always run, so a missing CLI is a failure.
  return bin
    ? { name: 'v2', bin, skip: false }
    : { name: 'v2', bin: 'aws', skip: false, missing: missingToolMessage(AWS_CLI) };
}

export const CLIS: Cli[] = [mainCli(), { name: 'v1', bin: V1_BIN ?? 'aws-v1', skip: v1Missing() }];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLIs' environment, built from nothing: no AWS_* variable (AWS_CA_BUNDLE, AWS_PROFILE …)
 * leaks in from the caller. Writes the empty config and credentials files into `work`, which
 * is also HOME.
 */
export async function cleanCliEnv(work: string): Promise<Record<string, string>> {
  const config = join(work, 'config');
  const credentials = join(work, 'credentials');
  await writeFile(config, '');
  await writeFile(credentials, '');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_PAGER: '',
    // A failure must show on the first attempt, not be retried away.
    AWS_MAX_ATTEMPTS: '1',
  };
}

export interface CliRunOptions {
  /** The whole environment of the CLI (nothing is inherited). */
  env: Record<string, string>;
  cwd: string;
  /** Passed as `--endpoint-url`. */
  endpoint: string;
  /** Upper bound of the invocation; the CLI is SIGKILLed after it. */
  timeoutMs: number;
  /** Most bytes of stdout or stderr. */
  maxBuffer: number;
}

/**
 * Runs `cli` with `args` against `options.endpoint`; never rejects for a non-zero exit (the
 * caller asserts), only for a timeout or a CLI that could not run.
 */
export function runCli(cli: Cli, args: string[], options: CliRunOptions): Promise<CliResult> {
  if (cli.missing) return Promise.reject(new Error(cli.missing));
  return new Promise((resolve, reject) => {
    const child = execFile(
      cli.bin,
      [...args, '--endpoint-url', options.endpoint],
      {
        env: options.env,
        cwd: options.cwd,
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: options.maxBuffer,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          const why = error.killed ? `timed out after ${options.timeoutMs} ms` : error.message;
          reject(new Error(`aws ${args.join(' ')}: ${why}\nstderr: ${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
    // No stdin: execFile always pipes it, so close it at once.
    child.stdin?.end();
  });
}

/** Asserts the CLI run of `args` succeeded; returns its stdout. */
export function assertCliOk(args: string[], result: CliResult): string {
  assert.equal(result.code, 0, `aws ${args.join(' ')} exited ${result.code}\nstderr: ${result.stderr}`);
  return result.stdout;
}

/** Asserts the CLI run of `args` failed; returns its stderr. */
export function assertCliFailed(args: string[], result: CliResult): string {
  assert.notEqual(result.code, 0, `aws ${args.join(' ')} should have failed\nstdout: ${result.stdout}`);
  return result.stderr;
}
