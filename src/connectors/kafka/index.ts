export { KafkaConnector } from './kafka-connector.js';
export type { KafkaOptions, KafkaSasl } from './kafka-options.js';
export { KafkaError } from './kafka-errors.js';
export { KafkaGroupEviction } from './kafka-group-eviction.js';
