/**
 * The narrow contract between tributary's runtime and a partitioned log.
 *
 * Two implementations hold to it: the embedded {@link MemoryLog} (`connectors/memory/`) and
 * Kafka through kafkajs (`connectors/kafka/`). The runtime never imports kafkajs directly;
 * everything it needs from a log is here, so another client could replace kafkajs, and one
 * contract suite (`test/contract/`) runs against both implementations.
 *
 * Offsets are plain numbers (safe up to 2^53, i.e. ~9 quadrillion records a partition).
 * A committed offset is, as in Kafka, the offset of the *next* record to read.
 */
import { TributaryError } from '../errors.js';

/** A topic and one of its partitions. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Header values as they come off the wire; `undefined` where the log has none. */
export type LogHeaders = Record<string, Buffer | string | undefined>;

/** One record as it sits in the log: bytes, not yet deserialized. */
export interface LogRecord extends TopicPartition {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: LogHeaders;
  /** Epoch milliseconds: the producer's create time or the log's append time. */
  readonly timestamp: number;
}

/** Records fetched from one partition, in offset order. */
export interface PartitionBatch extends TopicPartition {
  readonly records: readonly LogRecord[];
  /** Offset of the next record the log will append to this partition (Kafka's high watermark). */
  readonly highWatermark: number;
  /**
   * The records were built for this batch and nothing else refers to them (Kafka's, made from
   * the fetch response): the runtime may deserialize each in place, so a record stays one object
   * from the fetch to the pipeline. Unset when they are shared (MemoryLog's are its storage).
   */
  readonly exclusive?: boolean;
}

/** A record to append. Without `partition`, the key picks it (murmur2, as Kafka's default partitioner). */
export interface OutgoingRecord {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Record<string, Buffer | string>;
  readonly partition?: number;
  readonly timestamp?: number;
}

/** An offset to commit: the next offset to read on that partition. */
export interface PartitionOffset extends TopicPartition {
  readonly offset: number;
  /**
   * Committed with the offset and returned with it (Kafka's offset commit metadata, at most
   * 4,096 bytes by default): tributary keeps the partition's event-time state at that offset
   * there, so a replay from it is deterministic.
   */
  readonly metadata?: string;
}

/**
 * What a group consumer calls back into. Each callback is awaited before the consumer goes on,
 * so `onRevoked` can drain and commit before the partitions are given up where the log allows.
 */
export interface GroupConsumerHandlers {
  /** New partitions are ours; fetching starts at each one's committed offset (or the reset policy's). */
  onAssigned(partitions: readonly TopicPartition[]): Promise<void>;
  /** These partitions are no longer (or soon no longer) ours: stop using them. */
  onRevoked(partitions: readonly TopicPartition[]): Promise<void>;
  /** A batch for a partition currently assigned; resolve once it has been taken in (not processed). */
  onBatch(batch: PartitionBatch): Promise<void>;
  /** The consumer failed in a way it cannot recover from by itself. */
  onCrash?(error: Error): void;
  /**
   * A rebalance is starting and partitions may move away (Kafka: the member is about to rejoin;
   * kafkajs has no awaited revoke callback). The last moment to commit, best effort.
   */
  onRebalancing?(): void;
}

/** Options for joining a consumer group. */
export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where to start when the group has no committed offset. Default `'earliest'`. */
  readonly fromBeginning?: boolean;
  /** Upper bound on records delivered in one batch. */
  readonly maxBatchRecords?: number;
  /**
   * This member's state, per partition (`topic:partition`): the changelog records a takeover here
   * would read (0 for a partition it owns, a warm standby's lag). Given (a processor with
   * standbys), a log that supports it assigns each partition to the member with the least to
   * read, balanced (Kafka: the `TributaryStateAware` assignor); without it, the log's default.
   */
  readonly localState?: () => ReadonlyMap<string, number>;
}

/** A member of a consumer group: partitions come and go as members join and leave. */
export interface GroupConsumer {
  start(handlers: GroupConsumerHandlers): Promise<void>;
  /** Stop fetching a partition (backpressure); records already delivered stay delivered. */
  pause(partition: TopicPartition): void;
  /** Fetch a paused partition again. */
  resume(partition: TopicPartition): void;
  /**
   * Fetch from `offset` next (a restarted partition actor replays from its committed offset).
   * Batches already fetched past it and not yet delivered are discarded.
   */
  seek(partition: TopicPartition, offset: number): void;
  /**
   * Commit offsets for partitions this member owns. Offsets for partitions it does not own (any
   * longer) are dropped, never committed (kafkajs#1046); with `strict`, such an offset rejects
   * the whole commit with a {@link NotAssignedError} instead (a new owner's claim on a
   * partition's state must fail loudly when it is not the owner). The log itself refuses a
   * commit from a member of an older generation (Kafka: ILLEGAL_GENERATION), which rejects too.
   */
  commit(offsets: readonly PartitionOffset[], options?: { readonly strict?: boolean }): Promise<void>;
  /** The group's committed offsets (with their metadata), -1 where none. */
  committed(partitions: readonly TopicPartition[]): Promise<PartitionOffset[]>;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /**
   * This member's id in the group now (Kafka's member id), undefined before it joined or after
   * it left. A member that is evicted and joins again gets a new one. Reported in the cluster
   * heartbeat so that, when this node is declared down, a survivor can remove it (see
   * {@link GroupEviction}).
   */
  memberId?(): string | undefined;
  /** Leave the group. `onRevoked` is called for every partition still assigned. */
  stop(): Promise<void>;
}

/** Appends records to topics. `send` resolves when the log has acknowledged every record. */
export interface LogProducer {
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /**
   * Appends `records` to one partition in one request, in order, and resolves with the offset
   * the log gave the first of them (the others follow it, one apart). A changelog writer needs
   * the offsets: they are the positions a commit records, and a gap between two of its appends
   * is someone else's write.
   */
  append(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<number>;
  close(): Promise<void>;
}

/**
 * A producer whose writes go in transactions (Kafka's transactional producer; MemoryLog's the
 * same contract): between {@link begin} and {@link commit}, `send` and `append` write records
 * that read-committed readers (group consumers, partition readers) do not see, and
 * {@link sendOffsets} names group offsets that are not committed, until the transaction commits;
 * {@link abort} (or the producer's death) makes them invisible for good, their offsets still
 * consumed. One transaction at a time, and one call at a time within it: the caller chains them.
 *
 * A transactional id belongs to one live producer: a newer producer with the same id fences the
 * older one (its open transaction is aborted, each of its later calls rejects with a
 * {@link ProducerFencedError}). That is what makes a zombie owner of a partition harmless.
 *
 * @example
 * const txn = log.transactionalProducer!('totals-orders-0');
 * await txn.begin();
 * await txn.send('totals-out', [{ key: 'c-1', value: '10' }]);
 * await txn.sendOffsets('totals', [{ topic: 'orders', partition: 0, offset: 42, metadata: '{}' }]);
 * await txn.commit();
 */
export interface TransactionalProducer {
  readonly transactionalId: string;
  /**
   * Registers the transactional id, fencing any older producer with it and aborting its open
   * transaction; called by the first {@link begin} when not before. Resolves once an older
   * producer's open transaction is aborted.
   */
  init(): Promise<void>;
  begin(): Promise<void>;
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /** As {@link LogProducer.append}, in the transaction: the offset the first record got. */
  append(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<number>;
  /** The group's offsets (with their metadata) to commit with the transaction. */
  sendOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** Whether a transaction is open (begun, neither committed nor aborted). */
  readonly inTransaction: boolean;
  /** Closes the producer; an open transaction is aborted (on Kafka: by the broker, at its timeout or the next owner's `init`). */
  close(): Promise<void>;
}

/**
 * A newer producer with the same transactional id took over: this one may write nothing more
 * (permanent for this producer; the partition's next owner has its own).
 */
export class ProducerFencedError extends TributaryError {
  constructor(
    readonly transactionalId: string,
    options: { cause?: unknown } = {},
  ) {
    super(`transactional producer ${transactionalId} was fenced: a newer producer with the same transactional id took over`, { permanent: true, ...options });
  }
}

/**
 * Reads ranges of partitions without joining a group (Kafka: `Fetch` requests to the leader, as
 * Kafka Streams' restore consumer does with `assign()`): how stores restore from changelogs.
 */
export interface PartitionReader {
  /**
   * Calls `onRecords` with the records of `[from, until)` in offset order, batch by batch, and
   * resolves when the partition has no record left before `until` (offsets may have gaps:
   * compaction). `until` may be `Infinity`: up to the end as it is when the read reaches it.
   */
  read(partition: TopicPartition, from: number, until: number, onRecords: (records: readonly LogRecord[]) => void): Promise<void>;
  /** Offset of the next record the partition will append. */
  endOffset(partition: TopicPartition): Promise<number>;
  /**
   * Only a reader of a log in this process (MemoryLog): the records of `[from, until)` the
   * partition holds now, at most `max`, at once, and the offset to read next. Tables from topics
   * use it to take what is there before a stream record, as a Kafka reader cannot.
   */
  readNow?(partition: TopicPartition, from: number, until: number, max: number): { readonly records: readonly LogRecord[]; readonly next: number };
  close(): Promise<void>;
}

/** A commit with `strict` named a partition this member does not own. */
export class NotAssignedError extends TributaryError {
  constructor(
    readonly groupId: string,
    readonly partitions: readonly TopicPartition[],
    why = 'not assigned to this member',
  ) {
    super(`group ${groupId}: ${partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')} ${why}: commit refused`);
  }
}

/** The description of a topic a processor needs. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly config?: Record<string, string>;
}

/** Topic administration. */
export interface LogAdmin {
  /** Create the topics that do not exist; check the partition count of those that do. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** Number of partitions of a topic, or undefined when it does not exist. */
  partitionCount(topic: string): Promise<number | undefined>;
  /** Offset of the next record each partition will append. */
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  /** Offset of the first record each partition still holds (Kafka's log start offset, the low watermark). */
  startOffsets(topic: string): Promise<PartitionOffset[]>;
  /**
   * Deletes the records below `offset` of each partition given (Kafka's `DeleteRecords`): the
   * partition's log start moves up to `offset`, never down (a lower one changes nothing), and at
   * most to its end offset (a higher one is taken as the end). Records are gone for every reader;
   * a consumer positioned below the new log start resets by its policy. The runtime calls it only
   * on repartition topics, below the offsets their stage has committed.
   */
  deleteRecords(topic: string, offsets: readonly { readonly partition: number; readonly offset: number }[]): Promise<void>;
  /**
   * The topic's configuration (Kafka: `DescribeConfigs`, e.g. `cleanup.policy`), undefined when
   * it does not exist. MemoryLog keeps what the topic was created with.
   */
  topicConfig(topic: string): Promise<Readonly<Record<string, string>> | undefined>;
  close(): Promise<void>;
}

/**
 * What became of one member a {@link GroupEviction} was asked to remove: `removed`, or
 * `already-gone` (not in the group: it left, its session expired, or another node removed it
 * first), or `failed` (the group could not be reached; its session timeout still applies).
 */
export type MemberRemoval =
  | { readonly memberId: string; readonly outcome: 'removed' | 'already-gone' }
  | { readonly memberId: string; readonly outcome: 'failed'; readonly error: Error };

/**
 * Removes other clients' members from a consumer group, so that the group rebalances now
 * rather than when their sessions expire. The contract, for Kafka and MemoryLog alike:
 * - the group rebalances at once: the remaining members get the removed members' partitions;
 * - a removed member's commits are refused (it is fenced); when it next contacts the group it
 *   learns it was removed, loses every partition it had (`onRevoked`) and joins again under a
 *   new member id;
 * - removing a member that is not in the group is `already-gone`, not an error (idempotent).
 */
export interface GroupEviction {
  /** Connects ahead of need, so that the first removal does not wait for it (optional). */
  connect?(): Promise<void>;
  removeMembers(groupId: string, memberIds: readonly string[]): Promise<MemberRemoval[]>;
  close(): Promise<void>;
}

/** A partitioned log tributary can run on. */
export interface LogConnector {
  /** A short name for logs and metrics: `'memory'` or `'kafka'`. */
  readonly kind: string;
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  producer(): LogProducer;
  admin(): LogAdmin;
  /** A reader of partition ranges, for restoring stores from their changelogs. */
  reader(): PartitionReader;
  /**
   * A transactional producer with this id (exactly-once processing), where the log supports
   * transactions; created unconnected, it registers the id at its first `init` or `begin`.
   */
  transactionalProducer?(transactionalId: string): TransactionalProducer;
  /** Removal of other members from consumer groups, where the log supports it. */
  groupEviction?(): GroupEviction;
  /**
   * Where the log compacts on its client's word (MemoryLog; Kafka's broker compacts by itself):
   * the records of a compacted topic's partition below `below` may be replaced by what
   * `select` keeps of them, in order. The log decides when it is worth it (it may do nothing).
   */
  compact?(tp: TopicPartition, below: number, select: (records: readonly LogRecord[]) => readonly LogRecord[]): void;
}
