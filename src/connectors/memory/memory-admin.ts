import type { LogAdmin, PartitionOffset, TopicSpec } from '../log.js';
import { ClientStateError, InvalidOptionError, UnknownPartitionError, UnknownTopicError } from './errors.js';
import type { TopicRegistry } from './memory-topic.js';

/**
 * Topic administration on a MemoryLog. `replicationFactor` of a {@link TopicSpec} is accepted
 * and ignored (one process has one replica); `config` is kept and read back by `topicConfig`
 * (what MemoryLog itself drops is `MemoryRetention`'s; {@link deleteRecords} is Kafka's `DeleteRecords`).
 *
 * @example
 * const admin = log.admin();
 * await admin.ensureTopics([{ name: 'clicks', partitions: 3 }]);
 * await admin.endOffsets('clicks'); // [{ topic: 'clicks', partition: 0, offset: 0 }, ...]
 */
export class MemoryAdmin implements LogAdmin {
  private closed = false;

  constructor(private readonly topics: TopicRegistry) {}

  /**
   * Creates the missing topics. All specs are checked first (names, partition counts, existing
   * topics with another count: {@link PartitionCountMismatchError}), so on error nothing is created.
   */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.checkOpen('ensureTopics');
    for (const spec of topics) this.topics.check(spec.name, spec.partitions);
    for (const spec of topics) this.topics.ensure(spec.name, spec.partitions, spec.config);
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    this.checkOpen('partitionCount');
    return this.topics.get(topic)?.partitions.length;
  }

  /** Offset of the next record of each partition. An unknown topic is an {@link UnknownTopicError}. */
  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    this.checkOpen('endOffsets');
    const target = this.topics.get(topic);
    if (target === undefined) throw new UnknownTopicError(topic);
    return target.partitions.map((p) => ({ topic, partition: p.partition, offset: p.highWatermark }));
  }

  /** The log start offset of each partition (past what was trimmed or deleted). An unknown topic is an {@link UnknownTopicError}. */
  async startOffsets(topic: string): Promise<PartitionOffset[]> {
    this.checkOpen('startOffsets');
    const target = this.topics.get(topic);
    if (target === undefined) throw new UnknownTopicError(topic);
    return target.partitions.map((p) => ({ topic, partition: p.partition, offset: p.logStartOffset }));
  }

  /**
   * Removes the records below each offset (Kafka's `DeleteRecords`; see `LogAdmin.deleteRecords`),
   * whatever `trimCommitted` says: it is the client's explicit word. All partitions are checked
   * first, so an unknown one deletes nothing.
   */
  async deleteRecords(topic: string, offsets: readonly { readonly partition: number; readonly offset: number }[]): Promise<void> {
    this.checkOpen('deleteRecords');
    const target = this.topics.get(topic);
    if (target === undefined) throw new UnknownTopicError(topic);
    for (const { partition, offset } of offsets) {
      if (!Number.isInteger(partition) || target.partitions[partition] === undefined) throw new UnknownPartitionError(topic, partition, target.partitions.length);
      if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidOptionError('offset', `expected a non-negative integer, got ${String(offset)}`);
    }
    for (const { partition, offset } of offsets) target.partitions[partition].trimBefore(offset);
  }

  async topicConfig(topic: string): Promise<Readonly<Record<string, string>> | undefined> {
    this.checkOpen('topicConfig');
    return this.topics.get(topic)?.config;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(call: string): void {
    if (this.closed) throw new ClientStateError(`Cannot call ${call}: the admin is closed`);
  }
}
