import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { MemoryLog } from '../../src/connectors/memory/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { kafkaBrokers } from '../helpers/env.js';
import { groupEvictionContract } from './group-eviction-contract.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });
const shared = new MemoryLog();
groupEvictionContract('MemoryLog', { connect: () => shared });
// Sessions of 45 s: longer than any test here may take, so a takeover seen is the eviction's.
// Heartbeats every 3 s: a removed member learns it at its next one, after the commit the second test makes.
groupEvictionContract('Kafka', {
  connect: () => new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 45_000, heartbeatIntervalMs: 3_000 }, logger),
});
