/**
 * Hoist's local server with the STS benchmark's IAM config, in its own process so its CPU
 * time is its own:
 *
 *   node bench/lib/sts-child.ts <dataDir>
 *
 * Prints one `BENCH-READY {json}` line once listening, and exits when its stdin closes
 * (the parent ended or died) or on SIGTERM/SIGINT — via process.exit, so a `--cpu-prof`
 * profile gets written.
 */
import { mkdirSync } from 'node:fs';
import { startServer } from '@hoist/server';
import { BUCKET, IAM_CONFIG, ROOT_CREDENTIALS } from './sts-fixture.ts';
import { READY_PREFIX } from './target-child.ts';

if (import.meta.main) {
  const [dataDir = ''] = process.argv.slice(2);
  if (!dataDir) {
    process.stderr.write('usage: sts-child.ts <dataDir>\n');
    process.exit(2);
  }
  const exit = (): never => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
  mkdirSync(dataDir, { recursive: true });
  const server = await startServer({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    rootCredentials: ROOT_CREDENTIALS,
    buckets: [BUCKET],
    iam: IAM_CONFIG,
  });
  process.stdout.write(`${READY_PREFIX}${JSON.stringify({ url: server.url, bucket: BUCKET })}\n`);
}
