import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ServiceError } from './errors.js';
import { ensureKafkaDist, type KafkaDist, type Log } from './kafka-dist.js';
import { freePorts, isPortOpen, sleep } from './net.js';
import { kafkaLog4jConfig, runDir } from './paths.js';
import { ServiceProcess, tail, type ServiceHandle } from './process.js';

/** The SASL mechanisms a broker's SASL_PLAINTEXT listener enables. */
export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** A SCRAM user created when the broker's storage is formatted. */
export interface ScramUser {
  readonly name: string;
  readonly password: string;
  /** Default: both SCRAM-SHA-256 and SCRAM-SHA-512. */
  readonly mechanisms?: readonly ScramMechanism[];
}

/** Options of {@link startKafkaBroker}. Every port defaults to a free one. */
export interface KafkaBrokerOptions {
  /** Names the instance directory (`<run>/instances/kafka-<name>-...`). Default 'broker'. */
  readonly name?: string;
  /** PLAINTEXT listener on 127.0.0.1. */
  readonly port?: number;
  /** KRaft controller listener on 127.0.0.1. */
  readonly controllerPort?: number;
  /**
   * Adds a SASL_PLAINTEXT listener with SCRAM-SHA-256 and SCRAM-SHA-512 and these users
   * (created at format time with `--add-scram`). The PLAINTEXT listener stays, for admin.
   */
  readonly sasl?: { readonly port?: number; readonly users: readonly ScramUser[] };
  /** Instance directory (config, data, logs, pid). Default: a new one under `<run>/instances/`. */
  readonly dir?: string;
  /** Empty the instance directory before the first start. Default true. */
  readonly fresh?: boolean;
  /** Java heap in MiB. Default 512. */
  readonly heapMb?: number;
  /** How long to wait for the broker to answer a metadata request. Default 90 s. */
  readonly readyTimeoutMs?: number;
  /**
   * true: the broker outlives this process (services:up). Default false: it is SIGKILLed
   * when this process exits, so a test never leaks a broker.
   */
  readonly detached?: boolean;
  /**
   * JIT with C1 only (-XX:TieredStopAtLevel=1): starts about 0.5 s sooner, but the broker
   * spends more CPU per record. Default true (tests bounce brokers); the shared broker, which
   * benchmarks also use, turns it off.
   */
  readonly quickStart?: boolean;
  /** Extra JVM options, after (and so overriding) the defaults. */
  readonly jvmArgs?: readonly string[];
  /** Extra or overriding server.properties entries. */
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
  /** Progress lines. */
  readonly log?: Log;
}

/** A running (or stopped, restartable) Kafka broker started by {@link startKafkaBroker}. */
export interface KafkaBrokerHandle extends ServiceHandle {
  readonly version: string;
  /** kafkajs `brokers` for the PLAINTEXT listener, e.g. `['127.0.0.1:40123']`. */
  readonly brokers: readonly string[];
  /** kafkajs `brokers` for the SASL_PLAINTEXT listener; empty without `sasl`. */
  readonly saslBrokers: readonly string[];
  readonly port: number;
  readonly controllerPort: number;
  readonly saslPort: number | undefined;
  /** The instance directory. */
  readonly dir: string;
  /** The log dir (topics, committed offsets); kept across restarts. */
  readonly dataDir: string;
  /** The broker's log4j log. */
  readonly logFile: string;
  /** The JVM's stdout and stderr (crashes, OOM). */
  readonly outputFile: string;
}

const HOST = '127.0.0.1';

/**
 * Starts a single-node Kafka broker (KRaft, combined broker and controller) of the version
 * pinned in scripts/kafka/pom.xml, and resolves once it answers a kafkajs metadata request.
 * Tests that need their own broker (chaos, SASL) use this; shared tests use ensureKafka().
 *
 * @example
 * const broker = await startKafkaBroker({ name: 'bounce' });
 * const kafka = new Kafka({ brokers: [...broker.brokers] });
 * await broker.restart({ hard: true }); // SIGKILL, then the same ports and data again
 * await broker.destroy();
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBrokerHandle> {
  const log = options.log ?? (() => undefined);
  for (const user of options.sasl?.users ?? []) {
    // The --add-scram syntax is `[name=...,password=...]`.
    if (/[,\]["=\s]/.test(user.name + user.password) || !user.name || !user.password) {
      throw new ServiceError(`SCRAM user '${user.name}': name and password must be non-empty, without , [ ] " = or spaces`);
    }
  }
  const dist = await ensureKafkaDist(log);
  const autoPorts = options.port === undefined && options.controllerPort === undefined && options.sasl?.port === undefined;
  // A free port can be taken between our probe and the broker's bind: retry with new ports.
  for (let attempt = 1; ; attempt++) {
    const broker = await createBroker(dist, options, log);
    try {
      await broker.start();
      return broker;
    } catch (err) {
      await broker.kill();
      const output = tail(broker.outputFile, 200) + tail(broker.logFile, 200);
      const portRace = err instanceof ServiceError && /Address already in use/.test(output);
      if (!(autoPorts && portRace && attempt < 3)) throw err;
      if (options.dir === undefined) rmSync(broker.dir, { recursive: true, force: true });
    }
  }
}

async function createBroker(dist: KafkaDist, options: KafkaBrokerOptions, log: Log): Promise<KafkaBrokerHandle> {
  const [freeA, freeB, freeC] = await freePorts(3, HOST);
  const port = options.port ?? freeA;
  const controllerPort = options.controllerPort ?? freeB;
  const saslPort = options.sasl ? (options.sasl.port ?? freeC) : undefined;
  const dir =
    options.dir ?? join(runDir(), 'instances', `kafka-${options.name ?? 'broker'}-${port}-${randomBytes(3).toString('hex')}`);
  if (options.fresh ?? true) rmSync(dir, { recursive: true, force: true });
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const outputFile = join(dir, 'stdout.log');
  const pidFile = join(dir, 'kafka.pid');
  const propertiesFile = join(dir, 'server.properties');
  mkdirSync(dir, { recursive: true });
  writeFileSync(propertiesFile, serverProperties({ port, controllerPort, saslPort, dataDir, extra: options.properties }));

  const jvm = [
    `-Xmx${options.heapMb ?? 512}m`,
    // 2 cores: the serial collector leaves the other core to the tests.
    '-XX:+UseSerialGC',
    ...(options.quickStart ?? true ? ['-XX:TieredStopAtLevel=1'] : []),
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${kafkaLog4jConfig}`,
    `-Dtributary.kafka.logFile=${logFile}`,
    ...(options.jvmArgs ?? []),
    '-cp',
    dist.classpath,
  ];
  const processOf = new ServiceProcess({
    command: dist.java,
    args: [...jvm, 'kafka.Kafka', propertiesFile],
    cwd: dir,
    outputFile,
    pidFile,
    detached: options.detached ?? false,
  });
  const brokers = [`${HOST}:${port}`];
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;

  const formatIfNeeded = (): void => {
    if (existsSync(join(dataDir, 'meta.properties'))) return;
    const args = [...jvm, 'kafka.tools.StorageTool', 'format', '--config', propertiesFile];
    args.push('--cluster-id', clusterId(), '--standalone');
    for (const user of options.sasl?.users ?? []) {
      for (const mechanism of user.mechanisms ?? ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        args.push('--add-scram', `${mechanism}=[name=${user.name},password=${user.password}]`);
      }
    }
    const result = spawnSync(dist.java, args, { cwd: dir, encoding: 'utf8' });
    appendFileSync(outputFile, `$ kafka-storage format\n${result.stdout ?? ''}${result.stderr ?? ''}`);
    if (result.status !== 0) {
      const why = tail(outputFile, 15);
      throw new ServiceError(`formatting the Kafka log dir ${dataDir} failed (exit code ${result.status})\n${why}`, {
        logFile: outputFile,
      });
    }
  };

  const waitUntilReady = async (timeoutMs = readyTimeoutMs): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!processOf.isRunning()) {
        const code = await processOf.whenExited();
        throw new ServiceError(
          `Kafka broker on ${brokers[0]} exited during startup (exit code ${code})\n${tail(outputFile, 10)}\n${tail(logFile, 10)}`,
          { logFile },
        );
      }
      if ((await isPortOpen(HOST, port, 500)) && (await probeKafka(brokers, 3000))) return;
      if (Date.now() > deadline) {
        throw new ServiceError(`Kafka broker on ${brokers[0]} did not answer a metadata request within ${timeoutMs} ms`, {
          logFile,
        });
      }
      await sleep(200);
    }
  };

  const start = async (): Promise<void> => {
    if (processOf.isRunning()) return;
    formatIfNeeded();
    const sasl = saslPort ? `, SASL ${HOST}:${saslPort}` : '';
    log(`starting Kafka ${dist.version} on ${brokers[0]} (controller ${HOST}:${controllerPort}${sasl}), log: ${logFile}`);
    processOf.start();
    await waitUntilReady();
  };

  const handle: KafkaBrokerHandle = {
    version: dist.version,
    brokers,
    saslBrokers: saslPort ? [`${HOST}:${saslPort}`] : [],
    port,
    controllerPort,
    saslPort,
    dir,
    dataDir,
    logFile,
    outputFile,
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
  return handle;
}

function serverProperties(p: {
  port: number;
  controllerPort: number;
  saslPort: number | undefined;
  dataDir: string;
  extra: Readonly<Record<string, string | number | boolean>> | undefined;
}): string {
  const listeners = [`PLAINTEXT://${HOST}:${p.port}`, `CONTROLLER://${HOST}:${p.controllerPort}`];
  const advertised = [`PLAINTEXT://${HOST}:${p.port}`];
  if (p.saslPort) {
    listeners.push(`SASL_PLAINTEXT://${HOST}:${p.saslPort}`);
    advertised.push(`SASL_PLAINTEXT://${HOST}:${p.saslPort}`);
  }
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': `${HOST}:${p.controllerPort}`,
    listeners: listeners.join(','),
    'advertised.listeners': advertised.join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'log.dirs': p.dataDir,
    'num.partitions': 1,
    // Tests create their topics through the admin client, with the partitions they need.
    'auto.create.topics.enable': false,
    // Single node: internal topics with replication factor 1, or kafkajs cannot join groups
    // (kafkajs#1752).
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 5,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // A consumer group forms as soon as its first member joins.
    'group.initial.rebalance.delay.ms': 0,
    // After a SIGKILL the restarted broker cannot register until the controller expires the
    // dead incarnation's session (9 s by default); 3 s keeps a chaos bounce short.
    'broker.session.timeout.ms': 3000,
    'broker.heartbeat.interval.ms': 500,
  };
  if (p.saslPort) {
    const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    props['sasl.enabled.mechanisms'] = 'SCRAM-SHA-256,SCRAM-SHA-512';
    props['listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config'] = jaas;
    props['listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config'] = jaas;
  }
  Object.assign(props, p.extra ?? {});
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('\n')}\n`;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding. Like Kafka's own
 * `Uuid.randomUuid()`, never one starting with '-', which kafka-storage's argument parser would
 * take for an option (1 run in 64 failed to format its storage).
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Whether a Kafka broker at `brokers` answers a kafkajs admin metadata request (listTopics). */
export async function probeKafka(brokers: readonly string[], timeoutMs = 3000): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'tributary-services-probe',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolvePromise) => {
    timer = setTimeout(() => resolvePromise(false), timeoutMs);
  });
  const attempt = (async () => {
    try {
      await admin.connect();
      await admin.listTopics();
      return true;
    } catch {
      return false;
    }
  })();
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
    await Promise.race([admin.disconnect().catch(() => undefined), sleep(1000)]);
  }
}
