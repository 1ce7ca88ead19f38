/**
 * `npm start` and `npm run hoist -- server|broker…` stop when their own PID (npm's) gets SIGTERM
 * or SIGINT: the script execs node, so npm's signal forwarding reaches the server instead of
 * stopping at a shell in between, and the ports are free once npm has exited.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { tmpDir } from '../helpers/server.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const portOf = (url: string): number => Number(new URL(url).port);

/** Runs `npm <args>`, waits for its JSON ready line, signals npm's PID; resolves the ports it had. */
async function runAndSignal(
  args: string[],
  signal: NodeJS.Signals,
): Promise<{ ports: number[]; code: number | null }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (name.startsWith('HOIST_') || name.startsWith('npm_')) delete env[name];
  delete env.NODE_TEST_CONTEXT;
  const child = spawn('npm', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 60 s; stderr: ${stderr}`)), 60_000);
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const line = stdout
        .split('\n')
        .find((candidate) => candidate.startsWith('{') && candidate.endsWith('}'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    void exited.then((code) => reject(new Error(`npm exited (${code}) before ready: ${stderr}`)));
  });
  const urls = [ready.web, ready.url, (ready.s3 as { endpoint?: unknown } | undefined)?.endpoint].filter(
    (value): value is string => typeof value === 'string',
  );
  const ports = urls.map(portOf);
  assert.ok(ports.length > 0, `ports in ${JSON.stringify(ready)}`);
  for (const port of ports) assert.equal(await listening(port), true, `port ${port} open before the signal`);
  process.kill(child.pid!, signal);
  const code = await exited;
  // npm exits once its child has; give the kernel a moment to release the sockets.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { ports, code };
}

test('npm start stops on SIGTERM to npm and frees its ports', async (t) => {
  const dir = await tmpDir(t);
  const { ports } = await runAndSignal(
    ['start', '--', '--json', '--port', '0', '--s3-port', '0', '--data-dir', dir],
    'SIGTERM',
  );
  for (const port of ports) assert.equal(await listening(port), false, `port ${port} released`);
});

test('npm run hoist -- server stops on SIGINT to npm and frees its port', async (t) => {
  const dir = await tmpDir(t);
  const { ports } = await runAndSignal(
    ['run', 'hoist', '--', 'server', '--json', '--port', '0', '--data-dir', dir],
    'SIGINT',
  );
  for (const port of ports) assert.equal(await listening(port), false, `port ${port} released`);
});
