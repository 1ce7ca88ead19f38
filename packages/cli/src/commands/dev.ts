/**
 * `hoist dev` (what `npm start` runs): the whole local stack in one process — local S3 +
 * STS with the dev bucket, the broker's IAM user and upload role, the broker with dev
 * users, and the upload page — stopped cleanly by one Ctrl-C. See ../dev/stack.ts.
 */
import { withUsageErrors } from '../broker-args.ts';
import { type DevOptions, parseDevArgs } from '../dev/options.ts';

export async function runDev(args: string[]): Promise<void> {
  let options = undefined as DevOptions | undefined;
  await withUsageErrors('dev', async () => {
    options = parseDevArgs(args);
  });
  if (!options) return;
  // Loaded on use: the stack pulls in the AWS SDK, which other commands do not need.
  const { DevStack } = await import('../dev/stack.ts');
  const { banner, buildWarning, jsonLine } = await import('../dev/banner.ts');
  const stack = new DevStack();
  const starting = stack.start(options);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`\nhoist dev: ${signal} received, stopping…\n`);
    void (async () => {
      // The first close() makes a start in flight stop at its next step; the second closes what it got to.
      void stack.close();
      await starting.catch(() => {});
      await stack.close();
    })().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`hoist dev: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  let info: Awaited<typeof starting>;
  try {
    info = await starting;
  } catch (error) {
    if (stopping) return;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await stack.close();
    throw error;
  }
  if (info.buildError !== undefined) process.stderr.write(buildWarning(info.buildError));
  process.stdout.write(options.json ? jsonLine(info) : banner(info));
}
