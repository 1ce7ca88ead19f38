/** Listening on a port, with a taken port reported as a typed error that names the flag to change. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  readonly code = 'port-in-use';
  readonly port: number;
  readonly flag: string;
  constructor(port: number, flag: string, options?: ErrorOptions) {
    super(`port ${port} is already in use: stop what runs there or pass ${flag} <another port>`, options);
    this.port = port;
    this.flag = flag;
  }
}

export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';
}

/** Resolves with the bound port once listening; PortInUseError when `port` is taken. */
export function listen(server: Server, port: number, host: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(isAddressInUse(error) ? new PortInUseError(port, flag) : error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
