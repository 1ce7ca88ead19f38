/** `hoist dev` (what `npm start` runs): the local S3 server with a dev bucket whose CORS lets local pages upload. */
import { parseArgs } from 'node:util';
import { startServer } from '../../server/index.ts';
import { describeServer, stopOnSignals } from '../output.ts';

const HELP = `Usage: hoist dev [--s3-port P] [--data-dir DIR] [--json]

Starts the local development stack: the local S3 server (data kept in DIR across
restarts) with the bucket "hoist-dev".

  --s3-port P      S3 port (default 9000; 0 picks a free one)
  --data-dir DIR   default ./.hoist-data
  --json           print one JSON line once ready (for scripts)
`;

export const DEV_BUCKET = 'hoist-dev';

export async function runDev(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      's3-port': { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = values['s3-port'] ?? '9000';
  if (!/^\d+$/.test(port)) throw new TypeError(`--s3-port must be a number, got "${port}"`);
  const dataDir = values['data-dir'] ?? '.hoist-data';
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ dataDir: `${dataDir}/s3`, port: Number(port), buckets: [DEV_BUCKET] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `port ${port} is already in use: stop what runs there or pass --s3-port <another port>`,
      );
    }
    throw error;
  }
  if (!server.storage.getBucket(DEV_BUCKET)?.cors) {
    server.storage.setBucketCors(DEV_BUCKET, [
      {
        allowedOrigins: ['http://localhost:*', 'http://127.0.0.1:*'],
        allowedMethods: ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'],
        allowedHeaders: ['*'],
        exposeHeaders: [
          'ETag',
          'x-amz-checksum-crc32',
          'x-amz-checksum-crc32c',
          'x-amz-checksum-crc64nvme',
          'x-amz-checksum-sha256',
          'x-amz-request-id',
        ],
        maxAgeSeconds: 3000,
      },
    ]);
  }
  describeServer(server, { json: values.json === true, buckets: [DEV_BUCKET] });
  stopOnSignals(() => server.close());
}
