import { Kafka, logLevel } from 'kafkajs';
import { map } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaBrokerHandle } from '../../scripts/services/index.js';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import { toTopic } from '../../src/sinks/topic-sink.js';
import { eventually } from '../contract/read-topic.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });

describe('a Kafka broker stopped and restarted mid-run', () => {
  let broker: KafkaBrokerHandle;
  beforeAll(async () => {
    broker = await startKafkaBroker({ name: 'bounce' });
  }, 180_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('resumes processing when the broker is back, with nothing lost', async () => {
    const kafka = new Kafka({ brokers: [...broker.brokers], logLevel: logLevel.NOTHING, retry: { retries: 30, maxRetryTime: 2_000 } });
    const admin = kafka.admin();
    await admin.connect();
    const input = uniqueName('bounce-in');
    const output = uniqueName('bounce-out');
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const produce = async (from: number, count: number) => {
      await producer.send({ topic: input, messages: Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % 7}`, value: JSON.stringify({ n: from + i }) })) });
    };

    const app = createTributary({
      logger,
      log: new KafkaConnector({ brokers: [...broker.brokers], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, connectionTimeoutMs: 2_000 }, logger),
      restartBackoff: { minMs: 100, maxMs: 2_000 },
      processors: [
        defineProcessor<string | null, { n: number }>({
          id: uniqueName('bounce-p'),
          source: { topics: input },
          commitIntervalMs: 200,
          pipeline: (records) => records.pipe(map((r) => ({ n: r.value.n }))),
          sinks: toTopic<{ n: number }>(output, { partitions: 2, key: (v) => String(v.n) }),
        }),
      ],
    });
    await app.start();
    await produce(0, 300);

    const seen = new Set<number>();
    const reader = kafka.consumer({ groupId: uniqueName('bounce-reader'), maxWaitTimeInMs: 200, retry: { retries: 30 } });
    await reader.connect();
    await reader.subscribe({ topic: output, fromBeginning: true }); // the app's sink created it at start
    await reader.run({ eachMessage: async ({ message }) => void seen.add((JSON.parse(String(message.value)) as { n: number }).n) });
    await eventually(() => expect(seen.size).toBe(300), 60_000);

    await broker.stop(); // SIGTERM: the broker is down
    await new Promise((r) => setTimeout(r, 8_000));
    expect(app.health().ok).toBe(true); // waiting, not escalated
    await broker.start();
    await produce(300, 300);
    await eventually(() => expect(seen.size).toBe(600), 90_000, 200);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));

    await reader.disconnect();
    await producer.disconnect();
    await app.stop();
  }, 180_000);
});
