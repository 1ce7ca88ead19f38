/**
 * `hoist` command line: one module per command, dispatched by name.
 */
import { readFileSync } from 'node:fs';
import { runDev } from './commands/dev.ts';
import { runServer } from './commands/server.ts';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<void>; summary: string }> = {
  dev: { run: runDev, summary: 'start the local stack: S3 + STS, IAM setup, broker and the upload page' },
  server: { run: runServer, summary: 'start the local S3 server' },
  // Loaded on use: the broker pulls in the AWS SDK, which the other commands do not need.
  broker: {
    run: async (args) => (await import('./commands/broker.ts')).runBroker(args),
    summary: 'start the credential broker (HTTP API)',
  },
  sweep: {
    run: async (args) => (await import('./commands/broker.ts')).runSweep(args),
    summary: 'abort stale multipart uploads once (as the broker does on an interval)',
  },
  upload: {
    run: async (args) => (await import('./commands/upload.ts')).runUpload(args),
    summary: 'upload files through a broker, resumably (progress bars or --json)',
  },
  credentials: {
    run: async (args) => (await import('./commands/credentials.ts')).runCredentials(args),
    summary: 'start an upload and print its temporary credentials for the AWS CLI or an SDK',
  },
  aws: {
    run: async (args) => (await import('./commands/aws.ts')).runAws(args),
    summary: 'AWS kit: IAM policies, trust, CORS, lifecycle, CloudFormation template, setup, doctor',
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(12)} ${command.summary}`);
  return `Usage: hoist <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "hoist <command> --help" for a command's options; "hoist --version" prints the version.\n`;
}

/** @hoist/cli's version, from its package.json (one level above src/ and dist/ alike). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`hoist: unknown command "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`hoist: ${message}\n`);
  process.exitCode = 1;
});
