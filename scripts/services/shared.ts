import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceError } from './errors.js';
import { probeKafka, startKafkaBroker } from './kafka-broker.js';
import type { Log } from './kafka-dist.js';
import { withLock } from './lock.js';
import { isPortOpen, sleep } from './net.js';
import { probeNats, startNatsServer } from './nats-server.js';
import { runDir } from './paths.js';
import { commandLine, isAlive, readPidFile, stopPidFile } from './process.js';

/** Default address of the shared Kafka broker (`TRIBUTARY_KAFKA_BROKERS` overrides it). */
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
/** Default address of the shared NATS server (`TRIBUTARY_NATS_URL` overrides it). */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** A shared service that answers, and whether this call started it. */
export interface SharedService {
  /** kafkajs brokers list or NATS url. */
  readonly address: string;
  /** true when this call started it; false when it was already running. */
  readonly started: boolean;
  /** true when services:up started it (services:down will stop it). */
  readonly managed: boolean;
  /** The service's log when services:up manages it. */
  readonly logFile: string | undefined;
  /** The service's pid when services:up manages it (to watch its CPU, say). */
  readonly pid: number | undefined;
}

/** Options of {@link ensureKafka}. */
export interface EnsureKafkaOptions {
  /** Comma-separated host:port list. Default: `TRIBUTARY_KAFKA_BROKERS`, else 127.0.0.1:9092. */
  readonly brokers?: string;
  /** The KRaft controller port of a broker we start. Default: broker port + 1 (9093). */
  readonly controllerPort?: number;
  readonly log?: Log;
}

/** Options of {@link ensureNats}. */
export interface EnsureNatsOptions {
  /** Default: `TRIBUTARY_NATS_URL`, else nats://127.0.0.1:4222. */
  readonly url?: string;
  /** HTTP monitoring port of a server we start, if free. Default 8222. */
  readonly monitorPort?: number;
  readonly log?: Log;
}

const kafkaDir = (): string => join(runDir(), 'kafka');
const natsDir = (): string => join(runDir(), 'nats');
const KAFKA_MARKER = 'kafka.Kafka';
const NATS_MARKER = 'nats-server';

/**
 * Makes sure the shared test Kafka answers: reuses whatever Kafka answers at the address,
 * else starts the pinned release there (127.0.0.1 only), detached so that later runs reuse it,
 * with logs, pid and a fresh log dir under `<repo>/.tributary/run/kafka/`.
 *
 * @example
 * const kafka = await ensureKafka({ log: console.log });
 * new Kafka({ brokers: kafka.address.split(',') });
 */
export async function ensureKafka(options: EnsureKafkaOptions = {}): Promise<SharedService> {
  const log = options.log ?? (() => undefined);
  const address = options.brokers ?? process.env.TRIBUTARY_KAFKA_BROKERS ?? DEFAULT_KAFKA_BROKERS;
  const brokers = address.split(',').map((b) => b.trim()).filter(Boolean);
  const { host, port } = parseHostPort(brokers[0] ?? DEFAULT_KAFKA_BROKERS, 9092);
  const dir = kafkaDir();
  const pidFile = join(dir, 'kafka.pid');
  const logFile = join(dir, 'server.log');
  const describe = (started: boolean): SharedService => describeShared(address, started, pidFile, KAFKA_MARKER, logFile);

  return withLock(join(runDir(), 'kafka.lock'), async () => {
    if (await probeKafka(brokers, 3000)) return describe(false);
    if (await isPortOpen(host, port)) {
      // Something listens: give a Kafka that is still starting a few seconds before judging.
      for (const deadline = Date.now() + 3000; Date.now() < deadline; ) {
        await sleep(500);
        if (await probeKafka(brokers, 1500)) return describe(false);
      }
      throw new ServiceError(
        `port ${port} on ${host} is taken by something that is not a Kafka broker (it does not answer a Kafka ` +
          `metadata request); stop it, or point TRIBUTARY_KAFKA_BROKERS at a Kafka broker`,
        { logFile: isManaged(pidFile, KAFKA_MARKER) ? logFile : undefined },
      );
    }
    if (!isLoopback(host)) {
      throw new ServiceError(`no Kafka broker answers at ${address}, and only a local (127.0.0.1) one can be started here`);
    }
    // A broker of ours that no longer answers (hung, or half started): replace it.
    await stopPidFile(pidFile, KAFKA_MARKER, 10_000);
    const controllerPort = options.controllerPort ?? port + 1;
    if (await isPortOpen('127.0.0.1', controllerPort)) {
      throw new ServiceError(
        `port ${controllerPort} on 127.0.0.1, which the test Kafka's KRaft controller needs, is taken by another process`,
      );
    }
    await startKafkaBroker({
      name: 'shared',
      port,
      controllerPort,
      dir,
      fresh: true,
      detached: true,
      heapMb: 768,
      quickStart: false,
      // Never bounced on purpose: keep Kafka's default tolerance for a slow heartbeat.
      properties: { 'broker.session.timeout.ms': 9000, 'broker.heartbeat.interval.ms': 2000 },
      log,
    });
    return describe(true);
  });
}

/**
 * Makes sure the shared test NATS server answers: reuses whatever NATS answers at the url,
 * else starts nats-server there with JetStream (installing it from Debian's packages if
 * absent), detached, with its log, pid and store under `<repo>/.tributary/run/nats/`.
 *
 * @example
 * const nats = await ensureNats();
 * const nc = await connect({ servers: nats.address });
 */
export async function ensureNats(options: EnsureNatsOptions = {}): Promise<SharedService> {
  const log = options.log ?? (() => undefined);
  const address = options.url ?? process.env.TRIBUTARY_NATS_URL ?? DEFAULT_NATS_URL;
  const first = (address.split(',')[0] ?? DEFAULT_NATS_URL).trim().replace(/^(nats|tls|ws|wss):\/\//, '');
  const { host, port } = parseHostPort(first.replace(/^[^@]*@/, ''), 4222);
  const dir = natsDir();
  const pidFile = join(dir, 'nats.pid');
  const logFile = join(dir, 'nats.log');
  const describe = (started: boolean): SharedService => describeShared(address, started, pidFile, NATS_MARKER, logFile);

  return withLock(join(runDir(), 'nats.lock'), async () => {
    if (await probeNats(host, port)) return describe(false);
    if (await isPortOpen(host, port)) {
      throw new ServiceError(
        `port ${port} on ${host} is taken by something that is not a NATS server (it sends no INFO greeting); ` +
          `stop it, or point TRIBUTARY_NATS_URL at a NATS server`,
      );
    }
    if (!isLoopback(host)) {
      throw new ServiceError(`no NATS server answers at ${address}, and only a local (127.0.0.1) one can be started here`);
    }
    await stopPidFile(pidFile, NATS_MARKER, 10_000);
    const monitorPort = options.monitorPort ?? 8222;
    await startNatsServer({
      name: 'shared',
      port,
      monitorPort: (await isPortOpen('127.0.0.1', monitorPort)) ? false : monitorPort,
      dir,
      fresh: true,
      detached: true,
      log,
    });
    return describe(true);
  });
}

/** The shared Kafka and NATS, started if need be (both at once). */
export async function ensureServices(
  options: { readonly log?: Log } = {},
): Promise<{ readonly kafka: SharedService; readonly nats: SharedService }> {
  const [kafka, nats] = await Promise.all([ensureKafka(options), ensureNats(options)]);
  return { kafka, nats };
}

/**
 * Stops what services:up started (the pids in its pid files, checked to still be a Kafka
 * broker or a nats-server) and any own broker or server a test left behind under
 * `<run>/instances/` (whose directories it then deletes). A Kafka or NATS that was already
 * running is left alone. Returns a line per process stopped.
 */
export async function stopServices(): Promise<string[]> {
  const stopped: string[] = [];
  const jobs: Promise<void>[] = [];
  const stop = (pidFile: string, marker: string, what: string): void => {
    jobs.push(
      stopPidFile(pidFile, marker).then((pid) => {
        if (pid !== undefined) stopped.push(`stopped ${what} (pid ${pid})`);
      }),
    );
  };
  stop(join(kafkaDir(), 'kafka.pid'), KAFKA_MARKER, 'Kafka');
  stop(join(natsDir(), 'nats.pid'), NATS_MARKER, 'nats-server');
  const instances = join(runDir(), 'instances');
  if (existsSync(instances)) {
    for (const entry of readdirSync(instances)) {
      stop(join(instances, entry, 'kafka.pid'), KAFKA_MARKER, `Kafka ${entry}`);
      stop(join(instances, entry, 'nats.pid'), NATS_MARKER, `nats-server ${entry}`);
    }
  }
  await Promise.all(jobs);
  rmSync(instances, { recursive: true, force: true });
  return stopped;
}

function describeShared(address: string, started: boolean, pidFile: string, marker: string, logFile: string): SharedService {
  const managed = isManaged(pidFile, marker);
  return { address, started, managed, logFile: managed ? logFile : undefined, pid: managed ? readPidFile(pidFile) : undefined };
}

function isManaged(pidFile: string, marker: string): boolean {
  const pid = readPidFile(pidFile);
  return pid !== undefined && isAlive(pid) && commandLine(pid).includes(marker);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

function parseHostPort(value: string, defaultPort: number): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim());
  if (!match) throw new ServiceError(`cannot read host:port from '${value}'`);
  return { host: match[1], port: match[2] ? Number(match[2]) : defaultPort };
}
