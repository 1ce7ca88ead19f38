/**
 * One process of the broker benchmark, so its CPU time is its own:
 *
 *   node bench/lib/broker-child.ts s3 <dataDir>
 *   node bench/lib/broker-child.ts broker <sts|federation|presign> <s3Url> <dataDir> [logLevel] [direct|sdk]
 *
 * `s3`: Hoist's local S3 + STS server with the benchmark's IAM config and bucket.
 * `broker`: the broker (`startBroker`, as `hoist broker` runs it) in front of it, its registry
 * `sqlite:<dataDir>/registry.sqlite`, logging JSON lines at `logLevel` (default info, as in
 * production) into /dev/null — the lines are built, redacted and written, the writes cost
 * nothing. `sdk` hands the broker SDK clients of its own (as an app injecting `deps.s3` does), so
 * every store call goes through the AWS SDK. Prints one `BENCH-READY {json}` line once listening, and exits when its stdin
 * closes (the parent ended or died) or on SIGTERM/SIGINT — via process.exit, so a
 * `--cpu-prof` profile gets written.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createAwsClients } from '@hoist/broker/internal/aws';
import { createLogger } from '@hoist/broker/internal/log';
import { startBroker } from '@hoist/broker/internal/node';
import { startServer } from '@hoist/server';
import { pino } from 'pino';
import { BUCKET, benchBrokerConfig, IAM_CONFIG, MODES, ROOT_CREDENTIALS } from './broker-fixture.ts';
import { READY_PREFIX } from './target-child.ts';

export interface ChildInfo {
  url: string;
}

const usage =
  'usage: broker-child.ts s3 <dataDir>\n' +
  '       broker-child.ts broker <sts|federation|presign> <s3Url> <dataDir> [logLevel] [direct|sdk]\n';

async function start(args: string[]): Promise<ChildInfo> {
  const [kind, ...rest] = args;
  if (kind === 's3' && rest[0]) {
    const dataDir = rest[0];
    mkdirSync(dataDir, { recursive: true });
    const server = await startServer({
      dataDir,
      port: 0,
      host: '127.0.0.1',
      rootCredentials: ROOT_CREDENTIALS,
      buckets: [BUCKET],
      iam: IAM_CONFIG,
    });
    return { url: server.url };
  }
  const [mode, s3Url, dataDir, level = 'info', upstream = 'direct'] = rest;
  if (kind === 'broker' && MODES.includes(mode as (typeof MODES)[number]) && s3Url && dataDir) {
    mkdirSync(dataDir, { recursive: true });
    const config = benchBrokerConfig(mode as (typeof MODES)[number], s3Url, join(dataDir, 'registry.sqlite'));
    const logger = createLogger({ level, destination: pino.destination({ dest: '/dev/null', sync: true }) });
    const sdk = upstream === 'sdk' ? createAwsClients(config) : undefined;
    const broker = await startBroker(config, {
      logger,
      sweeper: false,
      ...(sdk ? { s3: sdk.s3, sts: sdk.sts } : {}),
    });
    return { url: broker.url };
  }
  process.stderr.write(usage);
  process.exit(2);
}

if (import.meta.main) {
  const exit = (): never => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
  const info = await start(process.argv.slice(2));
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(info)}\n`);
}
