/**
 * The real broker (sts mode) for the upload benchmark, in its own process:
 *
 *   node bench/lib/upload-broker-child.ts <s3Url> <dataDir> <partSizeBytes>
 *
 * The broker benchmark's configuration (bench/lib/broker-fixture.ts) with the part size the
 * upload benchmark compares clients at (the engine follows the broker's part size). Logs go to
 * /dev/null at info level, as in production. Prints one `BENCH-READY {"url"}` line once
 * listening; exits when its stdin closes or on SIGTERM/SIGINT.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@hoist/broker/internal/log';
import { startBroker } from '@hoist/broker/internal/node';
import { pino } from 'pino';
import { benchBrokerConfig } from './broker-fixture.ts';
import { READY_PREFIX } from './target-child.ts';

async function start(s3Url: string, dataDir: string, partSize: number): Promise<{ url: string }> {
  mkdirSync(dataDir, { recursive: true });
  const config = { ...benchBrokerConfig('sts', s3Url, join(dataDir, 'registry.sqlite')), partSize };
  const logger = createLogger({
    level: 'info',
    destination: pino.destination({ dest: '/dev/null', sync: true }),
  });
  const broker = await startBroker(config, { logger, sweeper: false });
  return { url: broker.url };
}

if (import.meta.main) {
  const [s3Url, dataDir, partSize] = process.argv.slice(2);
  if (!s3Url || !dataDir || !(Number(partSize) > 0)) {
    process.stderr.write('usage: upload-broker-child.ts <s3Url> <dataDir> <partSizeBytes>\n');
    process.exit(2);
  }
  const exit = (): never => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
  const info = await start(s3Url, dataDir, Number(partSize));
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(info)}\n`);
}
