import { createConnection, createServer } from 'node:net';

/** Whether something accepts TCP connections on host:port (within timeoutMs). */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The first bytes a server sends on connect (NATS sends `INFO {...}`), or undefined when
 * nothing connects or nothing is sent within timeoutMs (Kafka sends nothing first).
 */
export function readGreeting(host: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host, port });
    let settled = false;
    const done = (greeting: string | undefined): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolvePromise(greeting);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('data', (chunk: Buffer) => done(chunk.toString('utf8')));
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
  });
}

/**
 * A TCP port on host that was free a moment ago (the kernel picks it). Another process can
 * take it before we bind it, so callers that start a server retry on a bind failure.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolvePromise(port) : reject(new Error('no free port'))));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
