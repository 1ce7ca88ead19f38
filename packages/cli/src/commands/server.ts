/** `hoist server`: the local S3 server, in the foreground until Ctrl-C. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ServerOptions, startServer } from '@hoist/server';
import { describeServer, stopOnSignals } from '../output.ts';

const HELP = `Usage: hoist server [--port P] [--host H] [--data-dir DIR] [--region R] [--config FILE] [--bucket NAME]... [--iam FILE]

Starts the local S3 server. Root credentials come from HOIST_ROOT_ACCESS_KEY_ID and
HOIST_ROOT_SECRET_ACCESS_KEY, the config file, or are generated once and kept in DIR.

  --port P         TCP port (default 9000; 0 picks a free one)
  --host H         interface to bind (default 127.0.0.1)
  --data-dir DIR   where objects and metadata live (default ./.hoist-data/s3)
  --region R       region to answer for (default us-east-1)
  --config FILE    JSON file with any of the options above (camelCase) and rootCredentials
  --bucket NAME    create this bucket at start (repeatable)
  --iam FILE       IAM config (account, users, roles, policies) — see docs/server.md "Local STS and IAM"
  --json           print one JSON line with url and credentials once ready
`;

export async function runServer(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      region: { type: 'string' },
      config: { type: 'string' },
      bucket: { type: 'string', multiple: true },
      iam: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const fromFile = values.config
    ? (JSON.parse(readFileSync(values.config, 'utf8')) as Partial<ServerOptions>)
    : {};
  const port = values.port ?? (fromFile.port === undefined ? '9000' : String(fromFile.port));
  if (!/^\d+$/.test(port)) throw new TypeError(`--port must be a number, got "${port}"`);
  const options: ServerOptions = {
    ...fromFile,
    dataDir: values['data-dir'] ?? fromFile.dataDir ?? '.hoist-data/s3',
    port: Number(port),
    host: values.host ?? fromFile.host ?? '127.0.0.1',
    buckets: [...(fromFile.buckets ?? []), ...(values.bucket ?? [])],
  };
  if (values.iam) options.iam = values.iam;
  const region = values.region ?? fromFile.region;
  if (region) options.region = region;
  const server = await startServer(options);
  describeServer(server, { json: values.json === true, buckets: options.buckets ?? [] });
  stopOnSignals(() => server.close());
}
