/** `hoist broker` (the credential broker on Node) and `hoist sweep` (one sweep of stale uploads). */
import { parseArgs } from 'node:util';
import {
  type BrokerConfig,
  createAwsClients,
  createLogger,
  destroyAwsClients,
  loadBrokerConfig,
  openRegistry,
  startBroker,
  sweep,
} from '@hoist/broker';
import { configFlags } from '../broker-args.ts';
import { stopOnSignals } from '../output.ts';

const BROKER_HELP = `Usage: hoist broker [--config FILE] [--port P] [--host H]

Starts the credential broker (HTTP API). Configuration comes from the JSON file
(--config, else $HOIST_CONFIG) and HOIST_* environment variables, which win; see the
configuration reference in docs/broker.md. Logs are JSON lines on stdout; HOIST_LOG_LEVEL sets
the level (default info).

  --config FILE   JSON config file
  --port P        port (overrides the config; 0 picks a free one)
  --host H        interface to bind (overrides the config)
`;

const SWEEP_HELP = `Usage: hoist sweep [--config FILE] [--older-than SECONDS]

Runs one sweep: uploads open past their expiry are aborted and marked expired, and
multipart uploads under the key prefix that the registry does not know (or knows as
finished) and that are older than --older-than (default: uploadTtlSeconds) are aborted.
Prints the counts as one JSON line.
`;

function load(file: string | undefined): BrokerConfig {
  return loadBrokerConfig(file === undefined ? {} : { file });
}

export async function runBroker(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(BROKER_HELP);
    return;
  }
  // --port and --host are the config's port and host fields, checked by the same rules.
  const config = loadBrokerConfig({
    ...(values.config === undefined ? {} : { file: values.config }),
    flags: configFlags(values, { port: 'port', host: 'host' }),
  });
  const logger = createLogger({ level: process.env.HOIST_LOG_LEVEL || 'info' });
  const broker = await startBroker(config, { logger });
  stopOnSignals(() => broker.close());
}

export async function runSweep(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'older-than': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(SWEEP_HELP);
    return;
  }
  const config = load(values.config);
  const olderThan = values['older-than'] ?? String(config.uploadTtlSeconds);
  if (!/^\d+$/.test(olderThan))
    throw new TypeError(`--older-than must be a number of seconds, got "${olderThan}"`);
  const registry = openRegistry(config.registry.url);
  const aws = createAwsClients(config);
  try {
    await registry.migrate();
    const result = await sweep({
      registry,
      s3: aws.s3,
      bucket: config.s3.bucket,
      keyPrefix: config.keyPrefix,
      now: Date.now(),
      olderThanMs: Number(olderThan) * 1000,
      onError: (error, upload) => {
        const message = error instanceof Error ? error.name : String(error);
        process.stderr.write(`hoist sweep: could not clean up ${upload.key}: ${message}\n`);
      },
      onObjectDeleted: (upload) =>
        process.stderr.write(
          `hoist sweep: deleted ${upload.key} (${upload.size} bytes): uploaded around the broker, never verified\n`,
        ),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.failed > 0) process.exitCode = 1;
  } finally {
    destroyAwsClients(aws);
    await registry.close();
  }
}
