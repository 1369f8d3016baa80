import { InvalidOptionError, InvalidTopicError, PartitionCountMismatchError, UnknownTopicError } from './errors.js';
import { MemoryPartition } from './memory-partition.js';

/** A MemoryLog topic: a fixed number of partitions. */
export class MemoryTopic {
  readonly partitions: readonly MemoryPartition[];

  constructor(
    readonly name: string,
    partitionCount: number,
    /** The configuration it was created with (Kafka's topic configs, e.g. `cleanup.policy`). */
    readonly config: Readonly<Record<string, string>> = {},
  ) {
    this.partitions = Array.from({ length: partitionCount }, (_, p) => new MemoryPartition(name, p));
  }
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** Checks a partition count: a positive safe integer. */
export function checkPartitionCount(option: string, partitions: number): void {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new InvalidOptionError(option, `expected a positive integer, got ${String(partitions)}`);
  }
}

/**
 * The topics of one MemoryLog, shared by its producers, admins and consumers.
 *
 * Topic names follow Kafka's rule (1-249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`), so a
 * processor that runs on MemoryLog never meets a name Kafka would reject.
 */
export class TopicRegistry {
  private readonly topics = new Map<string, MemoryTopic>();
  /** Told after records are appended to a partition (the log's retention). */
  onAppended: (topic: MemoryTopic, partition: number, count: number) => void = () => undefined;

  constructor(
    private readonly defaultPartitions: number,
    private readonly autoCreateTopics: boolean,
  ) {}

  /** The topic, or undefined. */
  get(name: string): MemoryTopic | undefined {
    return this.topics.get(name);
  }

  /** The topic; created with the default partition count when `autoCreateTopics`, else {@link UnknownTopicError}. */
  require(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (topic !== undefined) return topic;
    if (!this.autoCreateTopics) throw new UnknownTopicError(name);
    return this.ensure(name, this.defaultPartitions);
  }

  /** Throws what {@link TopicRegistry.ensure} would, without creating anything. */
  check(name: string, partitions: number): void {
    if (!LEGAL_TOPIC.test(name) || name === '.' || name === '..') throw new InvalidTopicError(name);
    checkPartitionCount(`partition count of topic "${name}"`, partitions);
    const existing = this.topics.get(name);
    if (existing !== undefined && existing.partitions.length !== partitions) {
      throw new PartitionCountMismatchError(name, partitions, existing.partitions.length);
    }
  }

  /** Creates the topic, or checks that the existing one has `partitions` partitions. */
  ensure(name: string, partitions: number, config?: Readonly<Record<string, string>>): MemoryTopic {
    this.check(name, partitions);
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = new MemoryTopic(name, partitions, { ...config });
      this.topics.set(name, topic);
    }
    return topic;
  }
}
