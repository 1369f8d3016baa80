import { map } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaBrokerHandle } from '../../scripts/services/index.js';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import { eventually } from '../contract/read-topic.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: 'silent' });

describe('Kafka with SASL/SCRAM', () => {
  let broker: KafkaBrokerHandle;
  beforeAll(async () => {
    broker = await startKafkaBroker({
      name: 'scram',
      sasl: { users: [{ name: 'alice', password: 'alice-secret' }] },
    });
  }, 180_000);
  afterAll(async () => {
    await broker?.stop();
  });

  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    it(`processes records over a ${mechanism} listener with the right credentials`, async () => {
      const plain = new KafkaConnector({ brokers: [...broker.brokers] }, logger);
      const topic = uniqueName('scram');
      const admin = plain.admin();
      await admin.ensureTopics([{ name: topic, partitions: 1 }]);
      await admin.close();
      const producer = plain.producer();
      await producer.send(topic, [{ value: '{"n":1}' }, { value: '{"n":2}' }]);
      await producer.close();
      const seen: number[] = [];
      const app = createTributary({
        logger,
        log: new KafkaConnector({ brokers: [...broker.saslBrokers], sasl: { mechanism, username: 'alice', password: 'alice-secret' } }, logger),
        processors: [
          defineProcessor<string | null, { n: number }>({
            id: uniqueName('scram-p'),
            source: { topics: topic },
            pipeline: (records) => records.pipe(map((r) => r.value.n)),
            sinks: toFunction('collect', (items: readonly number[]) => void seen.push(...items)),
          }),
        ],
      });
      await app.start();
      try {
        await eventually(() => expect(seen).toEqual([1, 2]));
      } finally {
        await app.stop();
      }
    }, 90_000);
  }

  it('fails fast at start with a clear error when the password is wrong', async () => {
    const app = createTributary({
      logger,
      log: new KafkaConnector(
        { brokers: [...broker.saslBrokers], sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'wrong' } },
        logger,
      ),
      processors: [defineProcessor({ id: uniqueName('scram-bad'), source: { topics: 'any' }, pipeline: (r) => r, sinks: toFunction('x', () => {}) })],
    });
    const started = Date.now();
    await expect(app.start()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|authentication failed/i);
    expect(Date.now() - started).toBeLessThan(30_000);
    await app.stop().catch(() => {});
  }, 60_000);

  it('refuses SASL PLAIN without TLS unless explicitly allowed', () => {
    expect(() => new KafkaConnector({ brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'plain', username: 'a', password: 'b' } }, logger)).toThrow(
      ConfigError,
    );
    expect(
      () => new KafkaConnector({ brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'plain', username: 'a', password: 'b' }, allowPlainSaslWithoutTls: true }, logger),
    ).not.toThrow();
  });
});
