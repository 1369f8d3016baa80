import { ProducerFencedError, type OutgoingRecord, type PartitionOffset, type TransactionalProducer } from '../log.js';
import { ClientStateError } from './errors.js';
import type { MemoryGroup } from './memory-group.js';
import type { MemoryPartition } from './memory-partition.js';
import { MemoryProducer, type MemoryProducerOptions } from './memory-producer.js';
import type { MemoryTopic, TopicRegistry } from './memory-topic.js';
import type { RecordSegment } from './record-segment.js';

/** The records and offsets of one open transaction. */
class OpenTransaction {
  /** Per partition written: the offsets of the records this transaction appended there. */
  readonly writes = new Map<MemoryPartition, number[]>();
  readonly offsets: Array<{ readonly group: MemoryGroup; readonly offset: PartitionOffset }> = [];

  end(committed: boolean): void {
    for (const [partition, offsets] of this.writes) partition.endTransaction(this, offsets, committed);
    if (committed) for (const { group, offset } of this.offsets) group.commit(offset, offset.offset, offset.metadata);
  }
}

/**
 * The transaction coordinator of one MemoryLog: which producer holds each transactional id now
 * (the latest to `init`), and the open transaction of each.
 */
export class MemoryTransactionCoordinator {
  private readonly holders = new Map<string, { producer: MemoryTransactionalProducer; open: OpenTransaction | undefined }>();

  constructor(readonly groupOf: (groupId: string) => MemoryGroup) {}

  /** `producer` takes `transactionalId`: the previous holder is fenced, its open transaction aborted. */
  register(transactionalId: string, producer: MemoryTransactionalProducer): void {
    const previous = this.holders.get(transactionalId);
    previous?.open?.end(false);
    this.holders.set(transactionalId, { producer, open: undefined });
  }

  /** The open transaction slot of `producer`, or a {@link ProducerFencedError} when another holds its id. */
  holder(transactionalId: string, producer: MemoryTransactionalProducer): { open: OpenTransaction | undefined } {
    const holder = this.holders.get(transactionalId);
    if (holder === undefined || holder.producer !== producer) throw new ProducerFencedError(transactionalId);
    return holder;
  }

  newTransaction(): OpenTransaction {
    return new OpenTransaction();
  }
}

/**
 * A MemoryLog producer with Kafka's transaction contract (see `TransactionalProducer`): records
 * of an open transaction hold the partition's last stable offset, so read-committed readers
 * (every MemoryLog consumer and reader) see them only once it commits, never once it aborts;
 * offsets sent with it are committed to their group when it commits. A newer producer with the
 * same transactional id fences this one at its `init`.
 *
 * @example
 * const txn = log.transactionalProducer('totals-orders-0');
 * await txn.begin();
 * await txn.send('totals-out', [{ key: 'c-1', value: '10' }]);
 * await txn.sendOffsets('totals', [{ topic: 'orders', partition: 0, offset: 42 }]);
 * await txn.commit();
 */
export class MemoryTransactionalProducer extends MemoryProducer implements TransactionalProducer {
  private initialized = false;

  constructor(
    readonly transactionalId: string,
    topics: TopicRegistry,
    options: MemoryProducerOptions,
    private readonly coordinator: MemoryTransactionCoordinator,
  ) {
    super(topics, options);
  }

  get inTransaction(): boolean {
    try {
      return this.initialized && this.coordinator.holder(this.transactionalId, this).open !== undefined;
    } catch {
      return false;
    }
  }

  async init(): Promise<void> {
    if (this.closed) throw new ClientStateError(`transactional producer ${this.transactionalId} is closed`);
    this.coordinator.register(this.transactionalId, this);
    this.initialized = true;
  }

  async begin(): Promise<void> {
    if (!this.initialized) await this.init();
    const holder = this.holder();
    if (holder.open) throw new ClientStateError(`transactional producer ${this.transactionalId}: a transaction is already open`);
    holder.open = this.coordinator.newTransaction();
  }

  override async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    this.open();
    await super.send(topic, records);
  }

  override async append(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<number> {
    this.open();
    return super.append(topic, partition, records);
  }

  async sendOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void> {
    const open = this.open();
    const group = this.coordinator.groupOf(groupId);
    for (const offset of offsets) open.offsets.push({ group, offset: { ...offset } });
  }

  async commit(): Promise<void> {
    this.end(true);
  }

  async abort(): Promise<void> {
    this.end(false);
  }

  override async close(): Promise<void> {
    if (this.inTransaction) this.end(false);
    await super.close();
  }

  protected override appendTo(target: MemoryTopic, partition: number, segments: readonly RecordSegment[], count: number): void {
    const open = this.open();
    const log = target.partitions[partition];
    log.beginTransaction(open);
    let offsets = open.writes.get(log);
    if (!offsets) open.writes.set(log, (offsets = []));
    for (const segment of segments) for (let i = 0; i < segment.count; i++) offsets.push(segment.offsetAt(i));
    super.appendTo(target, partition, segments, count);
  }

  private end(committed: boolean): void {
    const holder = this.holder();
    const open = holder.open;
    if (!open) throw new ClientStateError(`transactional producer ${this.transactionalId}: no transaction is open`);
    holder.open = undefined;
    open.end(committed);
  }

  private holder(): { open: OpenTransaction | undefined } {
    if (this.closed) throw new ClientStateError(`transactional producer ${this.transactionalId} is closed`);
    return this.coordinator.holder(this.transactionalId, this);
  }

  private open(): OpenTransaction {
    const open = this.holder().open;
    if (!open) throw new ClientStateError(`transactional producer ${this.transactionalId}: begin a transaction first`);
    return open;
  }
}
