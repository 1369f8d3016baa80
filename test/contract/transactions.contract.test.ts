import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { MemoryLog } from '../../src/connectors/memory/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { kafkaBrokers } from '../helpers/env.js';
import { transactionsContract } from './transactions-contract.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'error' });
const shared = new MemoryLog();
transactionsContract('MemoryLog', { connect: () => shared });
transactionsContract('Kafka', { connect: () => new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger) });
