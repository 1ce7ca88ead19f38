/** Test helpers: a real local server on an ephemeral loopback port, torn down by the test. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type RunningServer, type ServerOptions, startServer } from '@hoist/server';

export const TEST_CREDENTIALS: Readonly<{ accessKeyId: string; secretAccessKey: string }> = Object.freeze({
  accessKeyId: 'AKIAHOISTTESTROOT000',
  secretAccessKey: 'hoist-test-secret-access-key-0123456789',
});

export interface Hook {
  after(fn: () => unknown): void;
}

export async function tmpDir(t: Hook, prefix = 'hoist-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  client: S3Client;
  /** An S3 client with its own options (e.g. other credentials or checksum settings). */
  makeClient(overrides?: Partial<ConstructorParameters<typeof S3Client>[0]>): S3Client;
}

export async function startTestServer(t: Hook, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await tmpDir(t));
  const server = await startServer({ rootCredentials: { ...TEST_CREDENTIALS }, ...options, dataDir });
  const clients: S3Client[] = [];
  const makeClient = (overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {}) => {
    const client = new S3Client({
      endpoint: server.url,
      region: server.region,
      forcePathStyle: true,
      // A copy: the SDK writes bookkeeping fields into the credentials object it is given.
      credentials: { ...TEST_CREDENTIALS },
      maxAttempts: 1,
      ...overrides,
    });
    clients.push(client);
    return client;
  };
  const client = makeClient();
  t.after(async () => {
    for (const c of clients) c.destroy();
    await server.close();
  });
  return { ...server, dataDir, client, makeClient };
}
