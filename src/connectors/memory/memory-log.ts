import type { GroupConsumerOptions, GroupEviction, LogConnector, LogRecord, MemberRemoval, TopicPartition } from '../log.js';
import { InvalidOptionError, UnknownPartitionError, UnknownTopicError } from './errors.js';
import { MemoryAdmin } from './memory-admin.js';
import { MemoryGroup } from './memory-group.js';
import { MemoryGroupConsumer } from './memory-group-consumer.js';
import { MemoryPartitionReader } from './memory-partition-reader.js';
import { MemoryProducer } from './memory-producer.js';
import { MemoryRetention } from './memory-retention.js';
import { MemoryTransactionalProducer, MemoryTransactionCoordinator } from './memory-transactional-producer.js';
import { checkPartitionCount, TopicRegistry } from './memory-topic.js';

/** Kafka's default `message.max.bytes`: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

/** Options of a {@link MemoryLog}; every one has a default. */
export interface MemoryLogOptions {
  /**
   * Partitions of a topic created without a count (auto-created, or `createTopic(name)`).
   * Default 1, as Kafka's `num.partitions`.
   */
  readonly defaultPartitions?: number;
  /**
   * Largest record `send` accepts, in bytes: key + value + header names and values (Kafka also
   * counts batch overhead, so stay a little under its limit). Default 1,048,576.
   */
  readonly maxMessageBytes?: number;
  /**
   * Create unknown topics on first send or subscribe, with `defaultPartitions`. Default false:
   * sending to or subscribing to an unknown topic is an {@link UnknownTopicError}.
   */
  readonly autoCreateTopics?: boolean;
  /** Append time of records sent without a timestamp, in epoch ms. Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Drop the records every consumer group reading a topic has committed (not on compacted
   * topics; see {@link MemoryRetention}), so that a long run's memory stays bounded. Default
   * true. Topics also honour `retention.ms` and `retention.bytes` in their config. Either way,
   * `admin().deleteRecords` deletes what it is told (as Kafka's `DeleteRecords`): a repartition
   * stage purges its topic below its committed offsets (`repartitionPurgeIntervalMs`).
   */
  readonly trimCommitted?: boolean;
}

/**
 * The embedded partitioned log: tributary's default when no Kafka is configured, and what unit
 * tests and `npm run demo` run on. Topics of N partitions hold append-only records with offsets
 * from 0; consumer groups split partitions and keep committed offsets, with the contract of
 * `LogConnector` that the Kafka connector also implements.
 *
 * Everything lives in this object's memory: two MemoryLogs share nothing, and nothing survives
 * the process. Consumers created later on the same MemoryLog do see earlier commits.
 *
 * @example
 * const log = new MemoryLog({ defaultPartitions: 3 });
 * log.createTopic('clicks');
 * await log.producer().send('clicks', [{ key: 'user-1', value: '{"page":"/"}' }]);
 * const consumer = log.groupConsumer({ groupId: 'counter', topics: ['clicks'] });
 * await consumer.start({
 *   onAssigned: async () => {},
 *   onRevoked: async () => {},
 *   onBatch: async (batch) => console.log(batch.partition, batch.records.length),
 * });
 * log.read('clicks'); // every record, partition by partition
 */
export class MemoryLog implements LogConnector {
  readonly kind = 'memory';
  private readonly topics: TopicRegistry;
  private readonly groups = new Map<string, MemoryGroup>();
  private readonly defaultPartitions: number;
  private readonly maxMessageBytes: number;
  private readonly clock: () => number;
  private readonly retention: MemoryRetention;
  private readonly transactions = new MemoryTransactionCoordinator((groupId) => this.group(groupId));

  constructor(options: MemoryLogOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 1;
    checkPartitionCount('defaultPartitions', this.defaultPartitions);
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(this.maxMessageBytes) || this.maxMessageBytes < 1) {
      throw new InvalidOptionError('maxMessageBytes', `expected a positive integer, got ${String(this.maxMessageBytes)}`);
    }
    this.clock = options.clock ?? Date.now;
    if (typeof this.clock !== 'function') throw new InvalidOptionError('clock', 'expected a function returning epoch ms');
    this.topics = new TopicRegistry(this.defaultPartitions, options.autoCreateTopics ?? false);
    this.retention = new MemoryRetention(this.topics, this.groups, { trimCommitted: options.trimCommitted ?? true, clock: this.clock });
    this.topics.onAppended = (topic, partition, count) => this.retention.appended(topic, partition, count);
  }

  /** A new member of the group `options.groupId`; it joins on `start`. */
  groupConsumer(options: GroupConsumerOptions): MemoryGroupConsumer {
    return new MemoryGroupConsumer(this.group(options.groupId), this.topics, options);
  }

  private group(groupId: string): MemoryGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new MemoryGroup(groupId, this.topics, (tp) => this.retention.committed(tp));
      this.groups.set(groupId, group);
    }
    return group;
  }

  /**
   * A producer with Kafka's transactions (see `TransactionalProducer`): every MemoryLog reader
   * is read-committed, and a newer producer with the same id fences this one.
   */
  transactionalProducer(transactionalId: string): MemoryTransactionalProducer {
    return new MemoryTransactionalProducer(transactionalId, this.topics, { maxMessageBytes: this.maxMessageBytes, clock: this.clock }, this.transactions);
  }

  producer(): MemoryProducer {
    return new MemoryProducer(this.topics, { maxMessageBytes: this.maxMessageBytes, clock: this.clock });
  }

  admin(): MemoryAdmin {
    return new MemoryAdmin(this.topics);
  }

  reader(): MemoryPartitionReader {
    return new MemoryPartitionReader(this.topics);
  }

  /** Compacts a partition of a compacted topic below `below` (see `LogConnector.compact` and {@link MemoryRetention.compact}). */
  compact(tp: TopicPartition, below: number, select: (records: readonly LogRecord[]) => readonly LogRecord[]): void {
    this.retention.compact(tp, below, select);
  }

  /** Removes members from this log's groups by id, with Kafka's contract (see `GroupEviction`). */
  groupEviction(): GroupEviction {
    return {
      removeMembers: async (groupId, memberIds): Promise<MemberRemoval[]> => {
        const group = this.groups.get(groupId);
        if (group === undefined) return memberIds.map((memberId) => ({ memberId, outcome: 'already-gone' as const }));
        return group.evict(memberIds);
      },
      close: async () => undefined,
    };
  }

  /**
   * Creates a topic (with `defaultPartitions` when no count is given); an existing topic with
   * the same count is left alone, one with another count is a `PartitionCountMismatchError`.
   */
  createTopic(name: string, partitions: number = this.defaultPartitions): void {
    this.topics.ensure(name, partitions);
  }

  /**
   * A copy of the records of one partition, or of every partition (partition 0 first, each in
   * offset order), from the log start (see `trimCommitted`): for reading a processor's output
   * back in tests and examples. Read-committed: nothing of an open or aborted transaction.
   */
  read(topic: string, partition?: number): LogRecord[] {
    const target = this.topics.get(topic);
    if (target === undefined) throw new UnknownTopicError(topic);
    if (partition === undefined) return target.partitions.flatMap((p) => p.all());
    const one = target.partitions[partition];
    if (one === undefined || !Number.isInteger(partition)) {
      throw new UnknownPartitionError(topic, partition, target.partitions.length);
    }
    return one.all();
  }
}
