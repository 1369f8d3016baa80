export { ServiceError } from './errors.js';
export { ensureKafkaDist, javaExecutable, kafkaVersion, type KafkaDist, type Log } from './kafka-dist.js';
export {
  probeKafka,
  startKafkaBroker,
  type KafkaBrokerHandle,
  type KafkaBrokerOptions,
  type ScramMechanism,
  type ScramUser,
} from './kafka-broker.js';
export { ensureNatsServerBinary } from './nats-binary.js';
export { probeNats, startNatsServer, type NatsServerAuth, type NatsServerHandle, type NatsServerOptions } from './nats-server.js';
export { freePort, freePorts } from './net.js';
export type { ServiceHandle } from './process.js';
export { cacheDir, runDir } from './paths.js';
export {
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_NATS_URL,
  ensureKafka,
  ensureNats,
  ensureServices,
  stopServices,
  type EnsureKafkaOptions,
  type EnsureNatsOptions,
  type SharedService,
} from './shared.js';
