/**
 * Loopback ports and servers for tests: a port nothing listens on (yet), and a TCP server that
 * accepts connections and never says a word (a store that hangs), torn down by the test.
 */
import { createServer, type Socket } from 'node:net';
import type { Hook } from './server.ts';

/** A loopback port that was free a moment ago: bound, noted, closed (another process may take it). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * `http://127.0.0.1:PORT` of a TCP server that accepts connections and never answers;
 * `onConnection` counts them (each attempt of a client that gave up on the last one is one).
 */
export async function silentServer(t: Hook, onConnection?: () => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    onConnection?.();
    sockets.add(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
