import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { createLogger } from '../../observability/logger.js';
import type { GroupConsumer, GroupConsumerOptions, GroupEviction, LogAdmin, LogConnector, LogProducer, PartitionReader, TransactionalProducer } from '../log.js';
import { KafkaAdmin } from './kafka-admin.js';
import { KafkaGroupConsumer } from './kafka-group-consumer.js';
import { KafkaGroupEviction } from './kafka-group-eviction.js';
import { validateKafkaOptions, type KafkaOptions } from './kafka-options.js';
import { KafkaPartitionReader } from './kafka-partition-reader.js';
import { KafkaProducer } from './kafka-producer.js';
import { KafkaTransactionalProducer } from './kafka-transactional-producer.js';
import { sortAbortedTransactions } from './kafkajs-aborted-order.js';

/**
 * Runs tributary on Apache Kafka through kafkajs. SASL (PLAIN, SCRAM-SHA-256/512) and TLS are
 * passed through; the options are checked now and a bad one throws a `ConfigError`.
 *
 * @example
 * const app = createTributary({
 *   log: new KafkaConnector({ brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'scram-sha-512', username: 'app', password: 's3cret' } }),
 *   processors: [pageViews],
 * });
 */
export class KafkaConnector implements LogConnector {
  readonly kind = 'kafka';
  readonly kafka: Kafka;

  constructor(
    readonly options: KafkaOptions,
    logger: Logger = createLogger(),
  ) {
    validateKafkaOptions(options);
    // Before any consumer fetches: kafkajs' read-committed filter needs the aborted list sorted.
    sortAbortedTransactions();
    process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
    const log = logger.child({ component: 'kafkajs' });
    const config: KafkaConfig = {
      brokers: [...options.brokers],
      clientId: options.clientId ?? 'tributary',
      ssl: options.ssl,
      sasl: options.sasl,
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const { message, ...rest } = entry.log;
        const fields = { namespace: entry.namespace, ...rest };
        // kafkajs reports every ordinary rebalance as an error ("The group is rebalancing,
        // re-joining" from its consumer runner): an info line, not an alarm.
        if (typeof rest.error === 'string' && rest.error.startsWith('The group is rebalancing')) log.info(fields, message);
        // Evicting a member that is already gone (its session expired, another node removed it
        // first) is reported as `already-gone` by KafkaGroupEviction: not an error.
        else if (message.includes('Response LeaveGroup') && rest.error === 'The coordinator is not aware of this member') log.debug(fields, message);
        else if (entry.level <= logLevel.ERROR) log.error(fields, message);
        else if (entry.level === logLevel.WARN) log.warn(fields, message);
        else log.debug(fields, message);
      },
    };
    this.kafka = new Kafka(config);
  }

  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    return new KafkaGroupConsumer(this.kafka, new KafkaAdmin(this.kafka, this.options.replicationFactor), options, this.options);
  }

  producer(): LogProducer {
    return new KafkaProducer(this.kafka);
  }

  /** A kafkajs transactional producer with this id (see {@link KafkaTransactionalProducer}). */
  transactionalProducer(transactionalId: string): TransactionalProducer {
    return new KafkaTransactionalProducer(this.kafka, transactionalId);
  }

  admin(): LogAdmin {
    return new KafkaAdmin(this.kafka, this.options.replicationFactor);
  }

  reader(): PartitionReader {
    return new KafkaPartitionReader(this.kafka);
  }

  /** LeaveGroup on behalf of other members (see {@link KafkaGroupEviction}). */
  groupEviction(): GroupEviction {
    return new KafkaGroupEviction(this.kafka);
  }
}
