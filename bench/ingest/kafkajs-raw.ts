/**
 * Anchor: a raw kafkajs consumer. `eachBatch` resolves each batch's last offset and does nothing
 * else (`--value raw`), or JSON.parses every value first (`--value json`, what a user decoding
 * JSON by hand writes).
 *
 * The consumer is configured exactly as tributary's KafkaGroupConsumer configures kafkajs
 * (src/connectors/kafka/kafka-group-consumer.ts: maxBytesPerPartition 1 MiB, maxWaitTimeInMs
 * 250, partitionsConsumedConcurrently 4, autoCommit off, eachBatchAutoResolve off), so that the
 * difference between the two is tributary's own work. autoCommit off: nothing is committed, the
 * group is thrown away. `--concurrency N` and `--autocommit true` change those two settings.
 */
import { Kafka, logLevel } from 'kafkajs';
import { IngestMeter, parseChildArgs, report, runChild } from './child.js';

runChild(async () => {
  const args = parseChildArgs();
  const decodeJson = (args.extra.value ?? 'raw') === 'json';
  const concurrency = Number(args.extra.concurrency ?? 4);
  const autoCommit = args.extra.autocommit === 'true';
  const meter = new IngestMeter(args.label, args.records);
  const kafka = new Kafka({ clientId: `bench-${args.label}`, brokers: args.brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({
    groupId: args.group,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxBytesPerPartition: 1_048_576,
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  });
  let sink = 0; // keeps the parsed values observable so the parse is not optimised away
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) meter.fail(event.payload.error);
  });
  meter.start();
  await consumer.connect();
  await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
  await consumer.run({
    autoCommit,
    partitionsConsumedConcurrently: concurrency,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const { messages } = batch;
      if (decodeJson) {
        for (const m of messages) {
          const value = JSON.parse(m.value!.toString('utf8')) as { seq?: number };
          if (value.seq === -1) sink++;
        }
      }
      if (messages.length > 0) payload.resolveOffset(batch.lastOffset());
      meter.batch(messages.length);
      await payload.heartbeat(); // as tributary does after each batch (kafkajs throttles it to heartbeatInterval)
    },
  });
  const result = await meter.done;
  if (sink < 0) process.stderr.write('unreachable\n');
  await report(result, () => consumer.disconnect());
});
