import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { kafkaBrokers } from '../helpers/env.js';
import { adminContract } from './admin-contract.js';
import { processorContract } from './processor-contract.js';
import { stateContract } from './state-contract.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'error' });
processorContract('Kafka', {
  connect: () => new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger),
  backlog: 200_000,
});
stateContract('Kafka', {
  connect: () => new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger),
  backlog: 0,
});
stateContract(
  'Kafka',
  { connect: () => new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger), backlog: 0 },
  'lmdb',
);
adminContract('Kafka', { connect: () => new KafkaConnector({ brokers: kafkaBrokers() }, logger) });
