/** Test helpers for the Node adapters (not part of the package: see `files` in package.json). */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Hook = { after(fn: () => unknown): void };

/** A real node:http server on 127.0.0.1 that counts the TCP connections it accepts. */
export async function startHttp(t: Hook, handler: (req: IncomingMessage, res: ServerResponse) => unknown) {
  let connections = 0;
  const server = createServer((req, res) => void handler(req, res));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}
