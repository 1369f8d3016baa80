/**
 * One tributary worker of the recovery scenario (bench/scenarios/recovery.ts): two of them run in
 * the same consumer group, and one is killed with SIGKILL.
 *
 * `node --import tsx bench/recovery/tributary-worker.ts --brokers B --topic T --output O --group G
 *  --worker W [--session-timeout-ms 6000] [--heartbeat-ms 500] [--nats URL --cluster C]`
 *
 * With `--nats`, the worker is also a node of cluster `C` on that NATS (node id = its name), with
 * the default membership timings and eviction: when one worker is killed, the other declares it
 * down and removes its consumer-group member, so its partitions move before its session expires.
 *
 * The stateless scenario's pipeline (filter: the key's next-to-last character is an even digit),
 * each kept record written keyed by its key as `{ key, bytes, ts, p, o, w }`: the input's
 * timestamp, partition and offset, and this worker's name (Kafka Streams' `RecoveryWorker` writes
 * the same), so that the watcher can tell whose output it is and how old its input was.
 *
 * With `--state-dir D`, the pipeline is stateful: every record first updates its key's entry in
 * the store `last` (on LMDB under D: `{ n, ts, p, o, bytes }`, the key's count and its latest
 * record), and the result of a kept record is written from that entry; `--standbys N` gives the
 * processor N warm standbys (with `--nats`). Prints `RESTORED {…}` for every partition restored
 * (its `RestoreSummary`) and, with standbys, `STANDBYS {"count":…,"lag":…}` every 250 ms.
 *
 * Prints `ASSIGNED {"at":<epoch ms>,"partitions":[…]}` on stdout whenever the set of running
 * partition actors changes (`partition.started` / `partition.stopped` / `partition.failed`);
 * SIGTERM stops the app and exits.
 */
import { parseArgs } from 'node:util';
import { filter, map } from 'rxjs';
import { aggregateByKey, bytes, createLogger, createTributary, defineProcessor, KafkaConnector, toTopic, type Aggregator, type StreamRecord } from '../../src/index.js';
import { keep } from '../lib/dataset.js';
import { ASSIGNED_PREFIX, RESTORED_PREFIX, STANDBYS_PREFIX } from './worker-process.js';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    output: { type: 'string' },
    group: { type: 'string' },
    worker: { type: 'string' },
    'session-timeout-ms': { type: 'string', default: '6000' },
    'heartbeat-ms': { type: 'string', default: '500' },
    nats: { type: 'string' },
    cluster: { type: 'string' },
    'state-dir': { type: 'string' },
    standbys: { type: 'string', default: '0' },
  },
});
const need = (name: 'brokers' | 'topic' | 'output' | 'group' | 'worker'): string => {
  const v = values[name];
  if (!v) throw new Error(`missing --${name}`);
  return v;
};
const worker = need('worker');

interface Result {
  readonly key: string;
  readonly bytes: number;
  readonly ts: number;
  readonly p: number;
  readonly o: number;
  readonly w: string;
}

const logger = createLogger({ level: 'warn' });
const stateDir = values['state-dir'];

/** A key's entry in the stateful pipeline: its count and its latest record. */
interface Last {
  readonly n: number;
  readonly ts: number;
  readonly p: number;
  readonly o: number;
  readonly bytes: number;
}
const latest: Aggregator<StreamRecord<string | null, Buffer | null>, Last> = {
  init: () => ({ n: 0, ts: 0, p: 0, o: 0, bytes: 0 }),
  add: (last, r) => ({ n: last.n + 1, ts: r.timestamp, p: r.partition, o: r.offset, bytes: r.value?.length ?? 0 }),
};
const processor = defineProcessor({
  // With state, named after the group (unique per run): its changelog topic is then the run's own.
  id: stateDir === undefined ? 'bench-recovery' : need('group'),
  groupId: need('group'),
  source: { topics: need('topic'), value: bytes() },
  deadLetters: { topic: `${need('topic')}.dlq` },
  pipeline: (records) =>
    stateDir === undefined
      ? records.pipe(
          filter((r) => r.key !== null && keep(r.key)),
          map((r): Result => ({ key: r.key!, bytes: r.value?.length ?? 0, ts: r.timestamp, p: r.partition, o: r.offset, w: worker })),
        )
      : records.pipe(
          filter((r) => r.key !== null),
          aggregateByKey({ store: 'last', aggregate: latest }),
          filter((u) => keep(u.key!)),
          map((u): Result => ({ key: u.key!, bytes: u.value.bytes, ts: u.value.ts, p: u.value.p, o: u.value.o, w: worker })),
        ),
  ...(stateDir !== undefined ? { stores: 'lmdb' as const, standbyReplicas: Number(values.standbys) } : {}),
  sinks: toTopic(need('output'), { key: (v: Result) => v.key }),
});
const app = createTributary({
  processors: [processor],
  log: new KafkaConnector(
    {
      brokers: need('brokers').split(','),
      clientId: `bench-recovery-${worker}`,
      sessionTimeoutMs: Number(values['session-timeout-ms']),
      heartbeatIntervalMs: Number(values['heartbeat-ms']),
    },
    logger,
  ),
  logger,
  ...(values.nats ? { cluster: { cluster: values.cluster ?? 'bench-recovery', nodeId: worker, servers: values.nats } } : {}),
  ...(stateDir !== undefined ? { stateDir } : {}),
});
app.lifecycle.subscribe((event) => {
  if (event.type !== 'partition.restored') return;
  const { partition, records, localRecords, keys, durationMs } = event;
  process.stdout.write(`${RESTORED_PREFIX}${JSON.stringify({ at: Date.now(), partition, records, localRecords, keys, durationMs })}\n`);
});
if (Number(values.standbys) > 0) {
  setInterval(() => {
    const standbys = app.status().processors[0]?.standbys ?? [];
    const lag = standbys.every((s) => s.lag !== null) ? standbys.reduce((sum, s) => sum + (s.lag ?? 0), 0) : null;
    process.stdout.write(`${STANDBYS_PREFIX}${JSON.stringify({ at: Date.now(), count: standbys.length, lag })}\n`);
  }, 250).unref();
}

const running = new Set<number>();
const report = (): void => {
  const partitions = [...running].sort((a, b) => a - b);
  process.stdout.write(`${ASSIGNED_PREFIX}${JSON.stringify({ at: Date.now(), partitions })}\n`);
};
app.lifecycle.subscribe((event) => {
  if (event.type === 'partition.started') running.add(event.partition);
  else if (event.type === 'partition.stopped' || event.type === 'partition.failed') running.delete(event.partition);
  else return;
  report();
});

process.once('SIGTERM', () => {
  const timer = setTimeout(() => process.exit(0), 10_000);
  timer.unref();
  app.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${worker}: stop failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
});

app.start().catch((err: unknown) => {
  process.stderr.write(`${worker}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
