export { MemoryLog, DEFAULT_MAX_MESSAGE_BYTES } from './memory-log.js';
export type { MemoryLogOptions } from './memory-log.js';
export type { MemoryGroupConsumer } from './memory-group-consumer.js';
export { DEFAULT_MAX_BATCH_RECORDS } from './memory-group-consumer.js';
export type { MemoryProducer } from './memory-producer.js';
export type { MemoryAdmin } from './memory-admin.js';
export {
  MemoryLogError,
  RecordTooLargeError,
  UnknownTopicError,
  UnknownPartitionError,
  InvalidTopicError,
  PartitionCountMismatchError,
  InvalidOptionError,
  ClientStateError,
  MemberEvictedError,
} from './errors.js';
