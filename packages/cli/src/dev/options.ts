/** `hoist dev`'s command line: flags, help text and their validation. */
import { parseArgs } from 'node:util';
import type { UploadMode } from '@hoist/protocol';
import { parseSizeFlag, UsageError } from '../broker-args.ts';
import {
  EXTERNAL_STORE_HELP,
  EXTERNAL_STORE_OPTIONS,
  type ExternalStore,
  externalStoreFrom,
} from './external-store.ts';

export const DEFAULT_WEB_PORT = 8080;
export const DEFAULT_S3_PORT = 9000;
export const DEFAULT_DATA_DIR = '.hoist-data';

export const DEV_HELP = `Usage: hoist dev [--port P] [--s3-port P] [--data-dir DIR] [--mode MODE] [--json]
       hoist dev --bucket NAME [--s3-endpoint URL] [--sts-endpoint URL] [--role-arn ARN] [--region R] …

Starts the whole local stack in one process (Ctrl-C stops it):
  - the local S3 + STS server with the bucket "hoist-dev" (CORS open to local pages),
  - an IAM user for the broker and the upload role "hoist-upload", created through
    the server's IAM API as the AWS setup does,
  - the broker with the dev users alice and bob (tokens generated once),
  - the upload page, with the broker API under /api on the same port, and /uppy, the same
    broker behind the Uppy Dashboard.
Data (objects, registry, keys, tokens) is kept in DIR across restarts.

  --port P         upload page and broker API (default ${DEFAULT_WEB_PORT}; 0 picks a free one)
  --s3-port P      local S3 + STS (default ${DEFAULT_S3_PORT}; 0 picks a free one)
  --data-dir DIR   default ./${DEFAULT_DATA_DIR}
  --mode MODE      how clients get the right to upload: sts (default), federation or presign
  --max-size SIZE  the users' largest file, e.g. 20MiB (default 5GiB)
  --json           print one JSON line once ready (web, broker, s3, users), nothing else
  -h, --help       show this help

${EXTERNAL_STORE_HELP}`;

export interface DevOptions {
  port: number;
  s3Port: number;
  dataDir: string;
  mode: UploadMode;
  json: boolean;
  /** The broker's limits.maxObjectSize, as given (e.g. "20MiB"). @default '5GiB' */
  maxSize?: string;
  /** A store of one's own instead of the local server. */
  store?: ExternalStore;
}

const MODES: readonly UploadMode[] = ['sts', 'federation', 'presign'];

function parsePort(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > 65_535)
    throw new UsageError(`${flag} must be a port number 0..65535, got "${text}"`);
  return Number(text);
}

/** The options, or undefined when `--help` was asked (and printed). Throws UsageError. */
export function parseDevArgs(args: string[], env: NodeJS.ProcessEnv = process.env): DevOptions | undefined {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      's3-port': { type: 'string' },
      'data-dir': { type: 'string' },
      mode: { type: 'string' },
      'max-size': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...EXTERNAL_STORE_OPTIONS,
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(DEV_HELP);
    return undefined;
  }
  const mode = (values.mode ?? 'sts') as UploadMode;
  if (!MODES.includes(mode))
    throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${values.mode}"`);
  const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
  if (dataDir === '') throw new UsageError('--data-dir must not be empty');
  const store = externalStoreFrom(values, env, mode);
  if (store && values['s3-port'] !== undefined)
    throw new UsageError('--s3-port is for the local server; an external store has --s3-endpoint');
  const options: DevOptions = {
    port: parsePort('--port', values.port, DEFAULT_WEB_PORT),
    s3Port: parsePort('--s3-port', values['s3-port'], DEFAULT_S3_PORT),
    dataDir,
    mode,
    json: values.json === true,
  };
  const maxSize = values['max-size'];
  if (maxSize !== undefined) {
    parseSizeFlag('--max-size', maxSize);
    options.maxSize = maxSize;
  }
  if (store) options.store = store;
  return options;
}
