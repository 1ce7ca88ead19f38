/**
 * Test helper: `hoist server` as a real child process (so a test can SIGKILL it
 * mid-request and start another one on the same data directory).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type Hook, TEST_CREDENTIALS } from './server.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(REPO_ROOT, 'packages', 'cli', 'src', 'main.ts');
/** Kept from the child's stderr for error messages. */
const MAX_STDERR = 16 * 1024;

export interface ServerProcess {
  /** The S3 endpoint, e.g. `http://127.0.0.1:41234`. */
  url: string;
  region: string;
  child: ChildProcess;
  /** Settles once the process has exited (with its code or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGKILL) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** What the process wrote to stderr so far (bounded). */
  stderr(): string;
}

export interface SpawnServerOptions {
  dataDir: string;
  /** How long to wait for the ready line. @default 20000 */
  timeoutMs?: number;
}

/**
 * Starts `node packages/cli/src/main.ts server --port 0 --data-dir DIR --json` with the
 * test root credentials, waits for its JSON ready line and kills it (SIGKILL)
 * in `t.after` if it is still running. Rejects with the exit status and stderr
 * when the process exits or stays silent before it is ready.
 */
export async function spawnServer(t: Hook, options: SpawnServerOptions): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOIST_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    HOIST_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  };
  // The test runner marks its own subprocesses; the server is not one of them.
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(
    process.execPath,
    [MAIN, 'server', '--port', '0', '--data-dir', options.dataDir, '--json'],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    if (stderr.length < MAX_STDERR) stderr = (stderr + text).slice(0, MAX_STDERR);
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  t.after(() => kill('SIGKILL'));

  const timeoutMs = options.timeoutMs ?? 20_000;
  const ready = await new Promise<{ endpoint: string; region: string }>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`hoist server ${why}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => {
      fail(`printed no ready line within ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => fail(`could not be started: ${error.message}`));
    // 'close' (not 'exit') so that everything the process wrote has been read.
    child.once('close', (code, signal) =>
      fail(`exited before it was ready (code ${code}, signal ${signal})`),
    );
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      stdout += text;
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      try {
        const { s3 } = JSON.parse(stdout.slice(0, newline)) as { s3: { endpoint: string; region: string } };
        if (typeof s3?.endpoint !== 'string') throw new Error('no s3.endpoint');
        clearTimeout(timer);
        resolve({ endpoint: s3.endpoint, region: s3.region });
      } catch (error) {
        fail(`printed an unexpected first line (${(error as Error).message})`);
      }
    });
  });
  return { url: ready.endpoint, region: ready.region, child, exited, kill, stderr: () => stderr };
}
