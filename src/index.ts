// tributary's public API: re-exports only.
export { createTributary, type Tributary, type TributaryOptions } from './app/tributary.js';
export {
  defineProcessor,
  type ProcessorDefinition,
  type PipelineContext,
  type PipelineOutputs,
  type SourceOptions,
  type DeadLetterOptions,
  type BufferOptions,
} from './processor/define-processor.js';
export type { LifecycleEvent, PartitionLifecycleEvent } from './processor/lifecycle-event.js';
export type { StreamRecord } from './streams/stream-record.js';
export type { OffsetHolds } from './streams/offset-holds.js';
export * from './serdes/index.js';
export * from './sinks/index.js';
export { MemoryLog, type MemoryLogOptions } from './connectors/memory/index.js';
export { KafkaConnector, KafkaError, type KafkaOptions, type KafkaSasl } from './connectors/kafka/index.js';
export type * from './connectors/log.js';
export { TributaryError, ConfigError, DeserializationError, isRetriable, type RecordOrigin } from './errors.js';
export { DeadLetterHeaders, type DeadLetterKind } from './supervision/dead-letter.js';
export { backoffDelay, type BackoffOptions } from './supervision/backoff.js';
export { TributaryMetrics, type MetricsOptions } from './observability/metrics.js';
export { createLogger, type LoggerOptions, type Logger } from './observability/logger.js';
