/**
 * Helpers of the consumer tests: the packed workspaces installed into projects outside the
 * repository, run on Node 24 (this process's) and Node 22 (from the npm registry, cached in
 * the OS temp directory between runs).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** Kept between runs (outside the repository): Node 22 from the npm registry; npm keeps its own cache. */
export const CACHE = join(tmpdir(), 'hoist-consumer-cache');
export const WORKSPACES = ['protocol', 'aws', 'client', 'uploader', 'broker', 'server', 'cli'];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * The environment of a consumer process: no repository-only settings (the `@hoist/source`
 * condition in NODE_OPTIONS would point at sources that are not published), no HOIST_* or
 * npm_* variables, `node` resolving to `nodeBin` first on PATH.
 */
export function consumerEnv(nodeBin: string = process.execPath): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(HOIST_|npm_)/i.test(name) || name === 'INIT_CWD') continue;
    if (name === 'NODE_OPTIONS' || name === 'NODE_TEST_CONTEXT') continue;
    env[name] = value;
  }
  env.PATH = [dirname(nodeBin), ...(process.env.PATH ?? '').split(delimiter)].join(delimiter);
  env.npm_config_update_notifier = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_audit = 'false';
  return env;
}

/** Runs a command to its end; never rejects for a non-zero exit (callers assert on `code`). */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? consumerEnv(),
        timeout: options.timeoutMs ?? 180_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
          return;
        }
        resolvePromise({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Like `run`, but rejects unless the command exits 0. */
export async function runOk(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Builds the workspaces when their dist/ is missing (npm test builds before it tests). */
export async function ensureBuilt(): Promise<void> {
  const built = ['packages/cli/dist/main.js', 'packages/uploader/dist/browser/hoist-uploader.js'];
  if (built.every((path) => existsSync(join(ROOT, path)))) return;
  await runOk('npm', ['run', 'build'], { cwd: ROOT, env: { ...process.env }, timeoutMs: 300_000 });
}

/** `npm pack`s every workspace into `dir`; returns the tarballs by workspace name. */
export async function packWorkspaces(dir: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  await runOk('npm', ['pack', '--workspaces', '--pack-destination', dir], {
    cwd: ROOT,
    env: consumerEnv(),
  });
  const files = await readdir(dir);
  const tarballs: Record<string, string> = {};
  for (const name of WORKSPACES) {
    const file = files.find((candidate) => candidate === `hoist-${name}-0.1.0.tgz`);
    if (!file) throw new Error(`npm pack wrote no tarball for @hoist/${name} (${files.join(', ')})`);
    tarballs[name] = join(dir, file);
  }
  return tarballs;
}

/**
 * The workspaces built and packed once per test run. Under `npm test` the first consumer test
 * file to ask packs them into the run's HOIST_CONSUMER_PACKS directory (made by
 * test/global-setup.ts) while the others wait for it; a file run on its own packs into `dir`.
 */
export async function packedWorkspaces(dir: string): Promise<Record<string, string>> {
  const shared = process.env.HOIST_CONSUMER_PACKS;
  if (!shared) {
    await ensureBuilt();
    return await packWorkspaces(dir);
  }
  try {
    await mkdir(join(shared, 'lock'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return await packedElsewhere(shared);
  }
  try {
    await ensureBuilt();
    const tarballs = await packWorkspaces(join(shared, 'tarballs'));
    await writeFile(join(shared, 'done.tmp'), JSON.stringify(tarballs));
    await rename(join(shared, 'done.tmp'), join(shared, 'done'));
    return tarballs;
  } catch (error) {
    await writeFile(join(shared, 'failed'), String((error as Error)?.message ?? error));
    throw error;
  }
}

/** The tarballs another test file of the run packs: waits for its `done` (or `failed`) note. */
async function packedElsewhere(shared: string): Promise<Record<string, string>> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const done = await readFile(join(shared, 'done'), 'utf8').catch(() => undefined);
    if (done !== undefined) return JSON.parse(done) as Record<string, string>;
    const failed = await readFile(join(shared, 'failed'), 'utf8').catch(() => undefined);
    if (failed !== undefined) throw new Error(`another test file failed to pack the workspaces: ${failed}`);
    if (Date.now() > deadline) throw new Error(`no packed workspaces in ${shared} after 10 minutes`);
    await sleep(500);
  }
}

/** Node 22's binary, installed from the npm registry (`node@22`) once into the cache. */
export async function node22(): Promise<string> {
  const dir = join(CACHE, 'node22');
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'hoist-node22', private: true }));
  await runOk('npm', ['install', '--no-save', 'node@22'], { cwd: dir, timeoutMs: 300_000 });
  if (!existsSync(bin)) throw new Error(`npm install node@22 left no ${bin}`);
  return bin;
}

/** A consumer project in `dir` with `specs` (tarball paths and registry packages) installed. */
export async function installProject(dir: string, specs: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'hoist-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  await runOk('npm', ['install', '--prefer-offline', '--no-package-lock', ...specs], {
    cwd: dir,
    timeoutMs: 300_000,
  });
}

export interface LongRunning {
  /** Resolves with the first stdout line that is a JSON object. */
  ready: Promise<Record<string, unknown>>;
  stderr(): string;
  /** SIGTERM to the process group; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Starts a long-running command in its own process group (npx runs it through a shell). */
export function start(command: string, args: string[], options: RunOptions): LongRunning {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? consumerEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-20_000);
  });
  const ready = new Promise<Record<string, unknown>>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} ${args.join(' ')}: no ready line; stderr: ${stderr}`)),
      options.timeoutMs ?? 60_000,
    );
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const line = stdout.split('\n').find((candidate) => /^\{.*\}$/.test(candidate.trim()));
      if (line) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line) as Record<string, unknown>);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited before ready; stderr: ${stderr}`));
    });
  });
  ready.catch(() => {});
  return {
    ready,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}
