// One chaos worker: a tributary node on the harness's Kafka broker and nats-server, running the
// windowed count with its repartition stage (and the fraud app when asked). Started by the
// harness as `node --import tsx test/chaos/worker.ts '<WorkerConfig JSON>'` with an IPC channel.
//
// IPC in: { type: 'throw', count, stage } arms `count` transient operator failures at seeded
// random offsets; { type: 'slow', delayMs } slows the counts sink (0: normal).
// IPC out: { type: 'ready' }, { type: 'out', maxWs, n } after each acknowledged counts write,
// { type: 'lifecycle', event } for partition failures and restarts.
// Exit codes: 0 graceful (SIGTERM), 3 supervision gave up (onEscalation 'exit'), 4 could not
// start (the broker unreachable), 70 uncaught exception, 71 unhandled rejection.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import type { ProcessorDefinition } from '../../src/processor/define-processor.js';
import type { Sink } from '../../src/sinks/sink.js';
import { toTopic } from '../../src/sinks/topic-sink.js';
import type { LateRecord } from '../../src/streams/late-output.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { countProcessor, LIVE_SUBJECT, Topics, type ChaosItem, type CountResult, type CountSettings, type GroupTotal } from './count-topology.js';
import { fraudProcessors } from './fraud-topology.js';
import { unitHash } from './random.js';
import type { HarnessMessage, WorkerMessage } from './worker-protocol.js';

/** What the harness passes a worker (argv[2], JSON). */
export interface WorkerConfig {
  readonly id: string;
  readonly brokers: readonly string[];
  readonly natsUrl: string;
  /**
   * The NATS URL of its cluster membership (`cluster: 'chaos'`, node id = worker id, eviction on):
   * a relay the harness can cut for base workers, the server itself for the others.
   */
  readonly clusterNatsUrl: string;
  readonly seed: number;
  readonly settings: CountSettings;
  readonly fraud: boolean;
  /** Every processor with `guarantee: 'exactly-once'` (`npm run chaos -- --exactly-once`). */
  readonly exactlyOnce?: boolean;
  readonly logLevel: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const logger = createLogger({ level: config.logLevel, base: { worker: config.id } });
const send = (message: WorkerMessage): void => {
  if (process.connected) process.send?.(message);
};

process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception');
  process.exit(70);
});
process.on('unhandledRejection', (err) => {
  logger.fatal({ err }, 'unhandled rejection');
  process.exit(71);
});
// The harness going away must not leave workers behind.
process.on('disconnect', () => process.exit(0));

// Fault state the harness sets over IPC.
let armedThrows = 0;
let armedStage: 'up' | 'down' | 'both' = 'both';
let slowDelayMs = 0;
const thrown = new Set<string>();

process.on('message', (raw) => {
  const message = raw as HarnessMessage;
  if (message.type === 'throw') {
    armedThrows = message.count;
    armedStage = message.stage;
  } else if (message.type === 'slow') {
    slowDelayMs = message.delayMs;
  }
});

/** Transient failures: a seeded 5% of records are candidates; each throws at most once in this process. */
function shouldThrow(stage: 'up' | 'down', partition: number, offset: number): boolean {
  if (armedThrows <= 0 || (armedStage !== 'both' && armedStage !== stage)) return false;
  const id = `${stage}:${partition}:${offset}`;
  if (thrown.has(id) || unitHash(`${config.seed}:${id}`) >= 0.05) return false;
  thrown.add(id);
  armedThrows--;
  send({ type: 'thrown', stage, partition, offset });
  return true;
}

const nc: NatsConnection = await connect({
  servers: config.natsUrl,
  name: `chaos-${config.id}`,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  waitOnFirstConnect: true,
});

/** The counts topic, slowed on request, publishing live results to NATS, reporting each acknowledged write. */
function countsSink(): Sink<CountResult> {
  const topic = toTopic<CountResult>(Topics.counts, { key: (r) => r.g, partitions: 3 });
  // Delays queue behind each other, so writes still reach the topic in the order they were made.
  let delayed: Promise<void> = Promise.resolve();
  return {
    name: 'chaos-counts',
    start: topic.start,
    stop: topic.stop,
    // Exactly-once: the results go in the partition's transaction (a slow sink cannot be slowed
    // there: its writes are the transaction's), reported and published live as they are encoded.
    encode(items) {
      const encoded = topic.encode!(items);
      report(items);
      return encoded;
    },
    async write(items) {
      const delayMs = slowDelayMs;
      const turn = delayed.then(() => (delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)) : undefined));
      delayed = turn;
      await turn;
      await topic.write(items);
      report(items);
    },
  };
  function report(items: readonly CountResult[]): void {
    let maxWs = -Infinity;
    for (const item of items) if (item.ws > maxWs) maxWs = item.ws;
    send({ type: 'out', maxWs, n: items.length });
    try {
      for (const item of items) nc.publish(LIVE_SUBJECT, JSON.stringify({ worker: config.id, g: item.g, ws: item.ws, count: item.count }));
    } catch (err) {
      logger.warn({ err }, 'live publish failed (at-most-once, ignored)');
    }
  }
}

/** Late items: the item itself goes to the late topic, keyed by its input key. */
function lateSink(): Sink<LateRecord<StreamRecord<string, ChaosItem>>> {
  const topic = toTopic<ChaosItem>(Topics.late, { key: (item) => item.k, partitions: 1 });
  return {
    name: 'chaos-late',
    start: topic.start,
    stop: topic.stop,
    write: (late) => topic.write(late.map((l) => l.element.value)),
    encode: (late) => topic.encode!(late.map((l) => l.element.value)),
  };
}

const log = new KafkaConnector(
  {
    brokers: [...config.brokers],
    clientId: `chaos-${config.id}`,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 15_000,
  },
  logger,
);
const defined: ProcessorDefinition<string | null, unknown>[] = [
  countProcessor(config.settings, { shouldThrow, counts: countsSink(), late: lateSink(), totals: toTopic<GroupTotal>(Topics.totals, { key: (t) => t.g, partitions: 3 }) }) as ProcessorDefinition<string | null, unknown>,
  ...(config.fraud ? fraudProcessors({ natsUrl: config.natsUrl, inputPartitions: config.settings.inputPartitions }) : []),
];
const processors = config.exactlyOnce ? defined.map((p): ProcessorDefinition<string | null, unknown> => ({ ...p, guarantee: 'exactly-once' })) : defined;
const app = createTributary({
  log,
  logger,
  processors,
  restartBackoff: { minMs: 100, maxMs: 2_000 },
  supervision: {
    intensity: 60,
    periodMs: 60_000,
    onEscalation: 'exit',
    exit: () => {
      logger.fatal('supervision gave up: exiting for the harness to restart this worker');
      process.exit(3);
    },
  },
  shutdownOnSignals: true,
  shutdownTimeoutMs: 20_000,
  // Membership with the default timings and eviction: a worker declared down is removed from its
  // consumer groups by the lowest live worker, so its partitions move before its session expires.
  cluster: { cluster: 'chaos', nodeId: config.id, servers: config.clusterNatsUrl, logger: logger.child({ component: 'cluster' }) },
});
app.lifecycle.subscribe((event) => {
  if (event.type === 'partition.failed') {
    send({ type: 'lifecycle', event: event.type, processor: event.processor, partition: event.partition, error: event.error.message });
  }
});
app.supervision.subscribe((event) => {
  if (event.type === 'supervisor.escalated' || event.type === 'supervisor.gave-up') {
    send({ type: 'lifecycle', event: event.type, processor: event.supervisor, partition: -1, error: event.error.message });
  }
});
try {
  await app.start();
} catch (err) {
  // The broker unreachable at start, say: exit, and let the orchestrator start it again.
  logger.fatal({ err }, 'could not start');
  process.exit(4);
}
send({ type: 'ready' });
logger.info('chaos worker running');
// A worker whose supervision tree gave up stays up with /health failing unless it exits: tell the harness.
setInterval(() => {
  const health = app.health();
  send({ type: 'health', ok: health.ok });
}, 2_000).unref();
