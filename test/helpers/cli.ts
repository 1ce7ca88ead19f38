/**
 * The `hoist` CLI (packages/cli/src/main.ts) as a user runs it: child processes of the same Node, with
 * none of the HOIST_* variables of the shell running the tests. `runCli` for a command that
 * ends (`hoist upload`), `startDev` for `hoist dev --json`, ready once its first line is out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const CLI_MAIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

/** The environment of a child: the tests' own, without HOIST_* variables, plus `extra`. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('HOIST_')) delete env[name];
  return { ...env, ...extra };
}

export interface CliChild {
  exited: Promise<number | null>;
  /** The exit status once the child is gone (-1 when a signal ended it), else undefined. */
  status(): number | null | undefined;
  kill(signal: NodeJS.Signals): void;
  stdout(): string;
  stderr(): string;
  /** stdout's complete lines, parsed as JSON (each must be). */
  events(): Record<string, unknown>[];
}

/** Runs `hoist ARGS…`; `env` adds to the cleaned environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliChild {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  let status: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code, signal) => {
      status = code ?? (signal ? -1 : null);
      resolve(code);
    }),
  );
  return {
    exited,
    status: () => status,
    kill: (signal) => child.kill(signal),
    stdout: () => out,
    stderr: () => err,
    events: () =>
      out
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Polls `check` until it holds; fails if `child` ends first or `ms` pass. */
export async function waitForCli(
  child: CliChild,
  check: () => boolean,
  what: string,
  ms = 60_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    const gone = child.status() !== undefined;
    if (gone || Date.now() > end)
      throw new Error(
        `${gone ? `the CLI exited (${child.status()})` : 'timed out'} waiting for ${what}; stdout: ${child.stdout().slice(-2000)} stderr: ${child.stderr()}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What `hoist dev --json` prints first (the fields these tests read). */
export interface DevInfo {
  web: string;
  broker: string;
  mode: string;
  s3: Record<string, unknown> & { endpoint: string; region: string; bucket: string };
  users: { id: string; token: string }[];
}

export interface DevStack {
  child: ChildProcess;
  info: DevInfo;
  stdout(): string;
  stderr(): string;
  /** SIGINT, then resolves once the process is gone. */
  stop(): Promise<void>;
}

/** Starts `hoist dev --json ARGS…` and resolves with its first line, or rejects with its output. */
export function startDev(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<DevStack> {
  const child = spawn(process.execPath, [CLI_MAIN, 'dev', '--json', ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hoist dev not ready in ${timeoutMs / 1000} s; stderr: ${err}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`hoist dev exited with ${code}; stdout: ${out} stderr: ${err}`));
    };
    let ready = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ready) return;
      const newline = out.indexOf('\n');
      if (newline === -1) return;
      ready = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({
        child,
        info: JSON.parse(out.slice(0, newline)) as DevInfo,
        stdout: () => out,
        stderr: () => err,
        stop,
      });
    });
    child.once('exit', onExit);
  });
}
