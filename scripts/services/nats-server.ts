import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceError } from './errors.js';
import type { Log } from './kafka-dist.js';
import { ensureNatsServerBinary } from './nats-binary.js';
import { freePort, readGreeting, sleep } from './net.js';
import { runDir } from './paths.js';
import { ServiceProcess, tail, type ServiceHandle } from './process.js';

/** Client authentication the server requires. */
export type NatsServerAuth =
  | { readonly user: string; readonly password: string }
  | { readonly token: string };

/** Options of {@link startNatsServer}. Every port defaults to a free one. */
export interface NatsServerOptions {
  /** Names the instance directory (`<run>/instances/nats-<name>-...`). Default 'server'. */
  readonly name?: string;
  /** Client port on 127.0.0.1. */
  readonly port?: number;
  /** HTTP monitoring port (/varz, /connz); false for none. Default: none. */
  readonly monitorPort?: number | false;
  /** JetStream, stored under the instance directory. Default true. */
  readonly jetstream?: boolean;
  /** Require this user/password or token from clients. */
  readonly auth?: NatsServerAuth;
  /** Instance directory (JetStream store, log, pid). Default: a new one under `<run>/instances/`. */
  readonly dir?: string;
  /** Empty the instance directory before the first start. Default true. */
  readonly fresh?: boolean;
  /** How long to wait for the server's INFO greeting. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** true: the server outlives this process (services:up). Default false. */
  readonly detached?: boolean;
  /** Extra nats-server arguments. */
  readonly args?: readonly string[];
  /** Progress lines. */
  readonly log?: Log;
}

/** A running (or stopped, restartable) nats-server started by {@link startNatsServer}. */
export interface NatsServerHandle extends ServiceHandle {
  /** e.g. `nats://127.0.0.1:40123` */
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number | undefined;
  /** The instance directory. */
  readonly dir: string;
  /** The JetStream store; kept across restarts. */
  readonly storeDir: string;
  /** nats-server's log (its stdout and stderr). */
  readonly logFile: string;
}

const HOST = '127.0.0.1';

/**
 * Starts a nats-server (JetStream on by default) on 127.0.0.1 and resolves once it greets
 * clients. Tests that need their own server use this; shared tests use ensureNats().
 *
 * @example
 * const server = await startNatsServer({ name: 'partition', auth: { user: 'a', password: 'b' } });
 * const nc = await connect({ servers: server.url, user: 'a', pass: 'b' });
 * server.pause(); // clients time out
 * server.resume();
 * await server.destroy();
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const log = options.log ?? (() => undefined);
  const binary = await ensureNatsServerBinary(log);
  const autoPorts = options.port === undefined && typeof options.monitorPort !== 'number';
  for (let attempt = 1; ; attempt++) {
    const server = await createServer(binary, options, log);
    try {
      await server.start();
      return server;
    } catch (err) {
      await server.kill();
      const portRace = err instanceof ServiceError && /address already in use/i.test(tail(server.logFile, 50));
      if (!(autoPorts && portRace && attempt < 3)) throw err;
      if (options.dir === undefined) rmSync(server.dir, { recursive: true, force: true });
    }
  }
}

async function createServer(binary: string, options: NatsServerOptions, log: Log): Promise<NatsServerHandle> {
  const port = options.port ?? (await freePort(HOST));
  const monitorPort = options.monitorPort === false ? undefined : (options.monitorPort ?? undefined);
  const dir =
    options.dir ?? join(runDir(), 'instances', `nats-${options.name ?? 'server'}-${port}-${randomBytes(3).toString('hex')}`);
  if (options.fresh ?? true) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const storeDir = join(dir, 'jetstream');
  const logFile = join(dir, 'nats.log');
  const pidFile = join(dir, 'nats.pid');
  const url = `nats://${HOST}:${port}`;

  const args = ['-a', HOST, '-p', String(port), '-n', `tributary-${port}`];
  if (options.jetstream ?? true) args.push('-js', '-sd', storeDir);
  if (monitorPort !== undefined) args.push('-m', String(monitorPort));
  if (options.auth && 'token' in options.auth) args.push('--auth', options.auth.token);
  if (options.auth && 'user' in options.auth) args.push('--user', options.auth.user, '--pass', options.auth.password);
  args.push(...(options.args ?? []));

  const processOf = new ServiceProcess({
    command: binary,
    args,
    cwd: dir,
    outputFile: logFile,
    pidFile,
    detached: options.detached ?? false,
  });
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;

  const waitUntilReady = async (timeoutMs = readyTimeoutMs): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!processOf.isRunning()) {
        const code = await processOf.whenExited();
        throw new ServiceError(`nats-server on ${url} exited during startup (exit code ${code})\n${tail(logFile, 10)}`, {
          logFile,
        });
      }
      if ((await readGreeting(HOST, port, 1000))?.startsWith('INFO ')) return;
      if (Date.now() > deadline) {
        throw new ServiceError(`nats-server on ${url} did not greet a client within ${timeoutMs} ms`, { logFile });
      }
      await sleep(100);
    }
  };

  const start = async (): Promise<void> => {
    if (processOf.isRunning()) return;
    log(`starting nats-server on ${url}${options.jetstream ?? true ? ' with JetStream' : ''}, log: ${logFile}`);
    processOf.start();
    await waitUntilReady();
  };

  return {
    url,
    port,
    monitorPort,
    dir,
    storeDir,
    logFile,
    pidFile,
    get pid() {
      return processOf.pid;
    },
    isRunning: () => processOf.isRunning(),
    start,
    stop: () => processOf.stop(),
    kill: () => processOf.kill(),
    pause: () => processOf.pause(),
    resume: () => processOf.resume(),
    restart: async (restartOptions = {}) => {
      await (restartOptions.hard ? processOf.kill() : processOf.stop());
      await start();
    },
    waitUntilReady,
    destroy: async () => {
      await processOf.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a NATS server answers on host:port (it greets every connection with `INFO {...}`). */
export async function probeNats(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return (await readGreeting(host, port, timeoutMs))?.startsWith('INFO ') ?? false;
}
