/**
 * The real AWS CLIs for the end-to-end suites: AWS CLI v2 from HOIST_AWS_CLI or PATH (always)
 * and, when one is found (HOIST_AWS_CLI_V1 or PATH), an AWS CLI v1. Each runs with a clean environment (empty
 * config files, its own HOME, no CA bundle, no instance metadata, one attempt, no pager),
 * a timeout and its stdin closed.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AWS_CLI, findTool, missingToolMessage, onPath } from './tools.ts';

export interface Cli {
  name: string;
  bin: string;
  /** Why this CLI's suite is skipped, or false to run it. */
  skip: string | false;
  /** Set when the CLI was not found: running it fails with this message. */
  missing?: string;
}

/** `aws --version`'s line (v1 prints it on stderr), or '' when it does not run. */
function versionOf(bin: string): string {
  const result = spawnSync(bin, ['--version'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, AWS_PAGER: '' },
  });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
}

/** The first `aws` on PATH whose major version is `major`. */
function onPathWithVersion(major: 1 | 2): string | undefined {
  return onPath(AWS_CLI).find((bin) => versionOf(bin).startsWith(`aws-cli/${major}.`));
}

/**
 * The AWS CLI v2: HOIST_AWS_CLI, else the first v2 on PATH (a pyenv v1 shim may come first); a
 * missing one fails its tests with how to install it (CI installs Debian's awscli).
 */
function mainCli(): Cli {
  const bin = process.env[AWS_CLI.env] ? findTool(AWS_CLI) : onPathWithVersion(2);
  return bin
    ? { name: 'v2', bin, skip: false }
    : { name: 'v2', bin: 'aws', skip: false, missing: missingToolMessage(AWS_CLI) };
}

/** An optional second client: HOIST_AWS_CLI_V1, else an AWS CLI v1 on PATH (pyenv's, say). */
function v1Cli(): Cli {
  const named = process.env.HOIST_AWS_CLI_V1;
  const bin = named ? (existsSync(named) ? named : undefined) : onPathWithVersion(1);
  return bin
    ? { name: 'v1', bin, skip: false }
    : {
        name: 'v1',
        bin: 'aws',
        skip: 'optional second client: no AWS CLI v1 on PATH or in HOIST_AWS_CLI_V1',
      };
}

export const CLIS: Cli[] = [mainCli(), v1Cli()];

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
