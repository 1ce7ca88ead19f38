/** What the CLI prints about a running server, and clean shutdown on Ctrl-C. */
import type { RunningServer } from '@hoist/server';

export function describeServer(server: RunningServer, options: { json: boolean; buckets: string[] }): void {
  const { accessKeyId, secretAccessKey, source } = server.rootCredentials;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ s3: { endpoint: server.url, region: server.region, buckets: options.buckets, accessKeyId, secretAccessKey } })}\n`,
    );
    return;
  }
  const lines = [
    `Hoist local S3 server listening on ${server.url} (region ${server.region})`,
    options.buckets.length > 0 ? `  buckets:           ${options.buckets.join(', ')}` : undefined,
    `  access key id:     ${accessKeyId}`,
    `  secret access key: ${secretAccessKey}   (${source === 'generated' ? 'generated and kept in the data directory' : `from ${source}`})`,
    '',
    'Try it with the AWS CLI:',
    `  AWS_ACCESS_KEY_ID=${accessKeyId} AWS_SECRET_ACCESS_KEY=<secret above> \\`,
    `    aws --endpoint-url ${server.url} --region ${server.region} s3 ls`,
    '',
    'Press Ctrl-C to stop.',
  ].filter((line) => line !== undefined);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`\nhoist: ${signal} received, stopping…\n`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`hoist: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
