import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening HTTP server: where it is, and how to close it. */
export interface ListeningServer {
  /** `http://host:port`. */
  readonly url: string;
  /** Stops listening and ends open connections (long-lived ones, like event streams, would keep it waiting). */
  close(this: void): Promise<void>;
}

/**
 * Starts `server` listening on `host:port` (default `127.0.0.1` and any free port) and resolves
 * once it does, or rejects with the listen error (e.g. `EADDRINUSE`).
 *
 * @example
 * const { url, close } = await listenLocal(createServer(handler), { port: 9464 }); // url 'http://127.0.0.1:9464'
 */
export async function listenLocal(server: Server, options: { readonly port?: number; readonly host?: string } = {}): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
