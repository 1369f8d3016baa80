/**
 * The raw kafkajs anchors of the keyed scenarios: what a user writes by hand with kafkajs, the
 * consumer configured as tributary configures it (bench/ingest/kafkajs-raw.ts: 1 MiB per
 * partition, maxWaitTimeInMs 250, partitionsConsumedConcurrently 4, autoCommit off), so that the
 * difference is tributary's own work.
 *
 * `node --import tsx bench/keyed/kafkajs-raw.ts --brokers B --topic T --group G --records N
 *  --label L --job windows|stateless|latency [--output O] [--outputs M] [--window-ms 10000]
 *  [--partitions P] [--warmup-ms 5000]`
 *
 * - `windows`: the plain-JS keyed count in tumbling windows (bench/keyed/loop-count.ts), one
 *   counter per partition, over the decoded key (UTF-8) and the record's timestamp; results
 *   counted in memory.
 * - `stateless` / `latency`: consume → filter → map → produce: each batch's kept records go to
 *   the output topic in one `send` through an idempotent producer (acks=all, one request in
 *   flight: tributary's producer settings), awaited before the batch's offset is resolved.
 *   `latency` records now − the input timestamp for each acknowledged result, and for each
 *   input when its batch reaches the handler (`arrivalP50Ms`, …).
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { IngestMeter, parseChildArgs, report, runChild } from '../ingest/child.js';
import { arrivalSummary, Histogram } from '../lib/histogram.js';
import { LoopTumblingCount, type LoopResult } from './loop-count.js';

runChild(async () => {
  const args = parseChildArgs();
  const job = args.extra.job ?? 'windows';
  if (!['windows', 'stateless', 'latency'].includes(job)) throw new Error(`--job must be windows, stateless or latency`);
  const outputs = Number(args.extra.outputs ?? 0);
  const partitions = Number(args.extra.partitions ?? 0);
  const windowMs = Number(args.extra['window-ms'] ?? 10_000);
  const warmupMs = Number(args.extra['warmup-ms'] ?? 5000);
  const output = args.extra.output;
  const meter = new IngestMeter(args.label, args.records, outputs);
  const histogram = new Histogram();
  const arrivals = new Histogram();
  let firstTs = 0;
  const kafka = new Kafka({ clientId: `bench-${args.label}`, brokers: args.brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({
    groupId: args.group,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxBytesPerPartition: 1_048_576,
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  if (job !== 'windows') await producer.connect();
  const counters = new Map<number, LoopTumblingCount>();
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) meter.fail(event.payload.error);
  });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const assigned = Object.values(event.payload.memberAssignment).reduce((n, ps) => n + ps.length, 0);
    if (!joined && assigned >= partitions) {
      joined = true;
      process.stderr.write('READY\n');
    }
  });
  meter.start();
  await consumer.connect();
  await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 4,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const { messages } = batch;
      if (messages.length === 0) return;
      if (job === 'windows') {
        let counter = counters.get(batch.partition);
        if (counter === undefined) {
          counter = new LoopTumblingCount(windowMs);
          counters.set(batch.partition, counter);
        }
        const results: LoopResult[] = [];
        for (const m of messages) {
          meter.batch(1);
          counter.add(m.key === null ? '' : m.key.toString('utf8'), Number(m.timestamp), results);
        }
        if (results.length > 0) meter.output(results.length);
      } else {
        const out: Array<{ key: string; value: string }> = [];
        const stamps: number[] = [];
        const arrived = job === 'latency' ? Date.now() : 0;
        for (const m of messages) {
          meter.batch(1);
          if (job === 'latency' && firstTs !== 0 && Number(m.timestamp) >= firstTs + warmupMs) arrivals.record(arrived - Number(m.timestamp));
          if (m.key === null) continue;
          const key = m.key.toString('utf8');
          const c = key.charCodeAt(key.length - 2) - 48;
          if (!(c >= 0 && c <= 9 && c % 2 === 0)) continue;
          const ts = Number(m.timestamp);
          out.push({ key, value: JSON.stringify(job === 'latency' ? { key, bytes: m.value?.length ?? 0, ts } : { key, bytes: m.value?.length ?? 0 }) });
          if (job === 'latency') stamps.push(ts);
        }
        if (out.length > 0) {
          await producer.send({ topic: output, acks: -1, messages: out });
          if (job === 'latency') {
            const now = Date.now();
            for (const ts of stamps) {
              if (firstTs === 0) firstTs = ts;
              if (ts >= firstTs + warmupMs) histogram.record(now - ts);
            }
          }
          meter.output(out.length);
        }
      }
      payload.resolveOffset(batch.lastOffset());
      await payload.heartbeat();
    },
  });
  const result = await meter.done;
  const latency = job === 'latency' ? { ...histogram.summary(), ...arrivalSummary(arrivals) } : undefined;
  const late = [...counters.values()].reduce((n, c) => n + c.late, 0);
  await report({ ...result, extra: { ...result.extra, late, ...(latency ?? {}) } }, async () => {
    await consumer.disconnect();
    await producer.disconnect();
  });
});
