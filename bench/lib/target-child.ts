/**
 * One benchmark target in its own process, so its CPU time and peak RSS are its own:
 *
 *   node bench/lib/target-child.ts <hoist|ceiling|naive|s3rver> <dataDir>
 *
 * Prints one `BENCH-READY {json}` line once listening, and exits when its stdin
 * closes (the parent ended or died) or on SIGTERM/SIGINT — via process.exit, so a
 * `--cpu-prof` profile gets written.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startSink } from './sink.ts';

export interface TargetInfo {
  url: string;
  bucket: string;
  /** Absent for the plain sinks, which ignore auth. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export const BENCH_BUCKET = 'bench';
export const HOIST_CREDENTIALS = {
  accessKeyId: 'AKIAHOISTBENCHROOT01',
  secretAccessKey: 'hoist-bench-secret-access-key-0123456789',
};
export const READY_PREFIX = 'BENCH-READY ';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

async function start(kind: string, dataDir: string): Promise<TargetInfo> {
  mkdirSync(dataDir, { recursive: true });
  switch (kind) {
    case 'hoist': {
      const { startServer } = await import('@hoist/server');
      const server = await startServer({
        dataDir,
        port: 0,
        host: '127.0.0.1',
        rootCredentials: HOIST_CREDENTIALS,
        buckets: [BENCH_BUCKET],
      });
      return { url: server.url, bucket: BENCH_BUCKET, credentials: HOIST_CREDENTIALS };
    }
    case 'ceiling':
    case 'naive': {
      const sink = await startSink(kind, dataDir);
      return { url: sink.url, bucket: BENCH_BUCKET };
    }
    case 's3rver': {
      // CommonJS without type declarations.
      const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
      const server = new S3rver({
        port: 0,
        address: '127.0.0.1',
        silent: true,
        directory: dataDir,
        configureBuckets: [{ name: BENCH_BUCKET, configs: [] }],
      });
      const { port } = await server.run();
      return {
        url: `http://127.0.0.1:${port}`,
        bucket: BENCH_BUCKET,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      };
    }
    default:
      throw new Error(`unknown target ${JSON.stringify(kind)}`);
  }
}

if (import.meta.main) {
  const [kind = '', dataDir = ''] = process.argv.slice(2);
  if (!dataDir) {
    process.stderr.write('usage: target-child.ts <hoist|ceiling|naive|s3rver> <dataDir>\n');
    process.exit(2);
  }
  const exit = (): never => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
  const info = await start(kind, dataDir);
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(info)}\n`);
}
