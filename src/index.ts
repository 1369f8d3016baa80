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
  type Guarantee,
} from './processor/define-processor.js';
export type { LifecycleEvent, PartitionLifecycleEvent } from './processor/lifecycle-event.js';
export * from './streams/index.js';
export * from './state/index.js';
export { repartition, RepartitionHeaders, repartitionTopic, isRepartitionSink, type RepartitionOptions, type RepartitionSink } from './processor/repartition.js';
export { expandStages } from './processor/expand-stages.js';
export type { QueryAnswer } from './processor/processor-runtime.js';
export type { StateQueryAnswer } from './app/state-query.js';
export type { ScanOptions, ScanRow, StateScanAnswer } from './processor/store-scan.js';
export { UnpartitionedStoreError, type UnpartitionedStore } from './processor/unpartitioned-store-error.js';
export { KeyedUnlikeInputError } from './actors/keyed-unlike-input-error.js';
export { NoSuchStoreError, type MissingStore } from './processor/no-such-store-error.js';
export { CoPartitioningError } from './processor/co-partitioning-error.js';
export type { KeyMismatch } from './actors/key-mismatch.js';
export type { NodeStatus } from './app/tributary.js';
export * from './serdes/index.js';
export * from './sinks/index.js';
export { MemoryLog, type MemoryLogOptions } from './connectors/memory/index.js';
export { KafkaConnector, KafkaError, type KafkaOptions, type KafkaSasl } from './connectors/kafka/index.js';
export type * from './connectors/log.js';
export { ProducerFencedError } from './connectors/log.js';
export { TributaryError, ConfigError, DeserializationError, isRetriable, isPermanent, type RecordOrigin } from './errors.js';
export * from './supervision/index.js';
export { TributaryMetrics, type MetricsOptions } from './observability/metrics.js';
export type { ConsoleOptions } from './observability/console/console-options.js';
export { createLogger, type LoggerOptions, type Logger } from './observability/logger.js';
export {
  BroadcastState,
  BroadcastError,
  type BroadcastStateOptions,
  type BroadcastValue,
  ClusterNode,
  startClusterEndpoint,
  partitionPath,
  ClusterError,
  AskTimeoutError,
  UnknownActorError,
  NodeDownError,
  RemoteHandlerError,
  NoOwnerError,
  EnvelopeTooLargeError,
  type ClusterNodeOptions,
  type NatsAuth,
  type ActorAddress,
  type ActorHandler,
  type ActorContext,
  type PartitionActorHandler,
  type ClusterQueryAnswer,
  type ClusterStatus,
  type ControlOutcome,
  type MembershipSnapshot,
  type MembershipEvent,
  type MemberStatus,
  type EvictionEvent,
} from './cluster/index.js';
