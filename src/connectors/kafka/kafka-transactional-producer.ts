import { Partitioners, type Kafka, type Producer, type Transaction } from 'kafkajs';
import { ProducerFencedError, type OutgoingRecord, type PartitionOffset, type TransactionalProducer } from '../log.js';
import { KafkaError, kafkaError } from './kafka-errors.js';
import { appendedOffset, toKafkaMessages } from './kafka-messages.js';

/** Default transaction timeout: an open transaction of a dead producer is aborted by the broker after this long. */
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

/** Protocol errors that say a newer producer holds the transactional id. */
const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/**
 * A kafkajs transactional producer (idempotent, acks=all, one request in flight) behind the
 * `TransactionalProducer` contract. What it does about kafkajs' traps:
 * - `sendOffsets` is retried while the coordinator answers `CONCURRENT_TRANSACTIONS` (kafkajs
 *   retries it in `InitProducerId`, not in `AddOffsetsToTxn`: kafkajs#430), a few times with
 *   backoff;
 * - calls are one at a time (the caller chains them): kafkajs' transaction is not safe for
 *   concurrent calls ("another operation in progress", kafkajs#1068);
 * - a fenced producer (`INVALID_PRODUCER_EPOCH`, `PRODUCER_FENCED`) throws a
 *   {@link ProducerFencedError}, permanent: kafkajs would otherwise keep it as a retriable
 *   protocol error, and it can never write again;
 * - offsets go through `sendOffsets` only, never a consumer's own commit (kafkajs#1665: a
 *   consumer resolving offsets by hand under transactions re-delivers forever).
 *
 * @example
 * const txn = new KafkaTransactionalProducer(kafka, 'totals-orders-0');
 * await txn.begin();
 * await txn.send('totals-out', [{ key: 'c-1', value: '10' }]);
 * await txn.sendOffsets('totals', [{ topic: 'orders', partition: 0, offset: 42, metadata: '{}' }]);
 * await txn.commit();
 */
export class KafkaTransactionalProducer implements TransactionalProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private transaction: Transaction | undefined;
  private fenced: ProducerFencedError | undefined;

  constructor(
    kafka: Kafka,
    readonly transactionalId: string,
    transactionTimeoutMs = DEFAULT_TRANSACTION_TIMEOUT_MS,
  ) {
    this.producer = kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: transactionTimeoutMs,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  get inTransaction(): boolean {
    return this.transaction?.isActive() ?? false;
  }

  /**
   * Connects and registers the id (`InitProducerId`, which fences an older producer and aborts its
   * open transaction; kafkajs retries `CONCURRENT_TRANSACTIONS` there while the abort completes).
   * kafkajs does this at its first transaction: a begin and abort of an empty one here (no request).
   */
  async init(): Promise<void> {
    await this.connect();
    if (this.transaction) return;
    const txn = await this.call('registering the transactional id', () => this.producer.transaction());
    await txn.abort(); // empty: kafkajs sends no EndTxn
  }

  async begin(): Promise<void> {
    this.check();
    await this.connect();
    if (this.inTransaction) throw new KafkaError(`transactional producer ${this.transactionalId}: a transaction is already open`);
    this.transaction = await this.call('beginning a transaction', () => this.producer.transaction());
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const txn = this.open();
    await this.call(`producing ${records.length} records to ${topic} in a transaction`, () =>
      txn.send({
        topic,
        acks: -1,
        messages: toKafkaMessages(records),
      }),
    );
  }

  async append(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<number> {
    const txn = this.open();
    const metadata = await this.call(`appending ${records.length} records to ${topic}-${partition} in a transaction`, () =>
      txn.send({
        topic,
        acks: -1,
        messages: toKafkaMessages(records, partition),
      }),
    );
    return appendedOffset(metadata, topic, partition);
  }

  async sendOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void> {
    const txn = this.open();
    const topics = new Map<string, Array<{ partition: number; offset: string; metadata?: string }>>();
    for (const o of offsets) {
      let partitions = topics.get(o.topic);
      if (!partitions) topics.set(o.topic, (partitions = []));
      partitions.push({ partition: o.partition, offset: String(o.offset), ...(o.metadata === undefined ? {} : { metadata: o.metadata }) });
    }
    const request = { consumerGroupId: groupId, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) };
    for (let attempt = 0; ; attempt++) {
      try {
        // kafkajs' types omit the metadata its TxnOffsetCommit request encodes.
        await this.call(`sending offsets of group ${groupId} with the transaction`, () => txn.sendOffsets(request as unknown as Parameters<Transaction['sendOffsets']>[0]));
        return;
      } catch (err) {
        // AddOffsetsToTxn right after the previous EndTxn: the coordinator is still completing it (kafkajs#430).
        if (attempt >= 8 || !hasType(err, 'CONCURRENT_TRANSACTIONS')) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      }
    }
  }

  async commit(): Promise<void> {
    const txn = this.open();
    await this.call('committing the transaction', () => txn.commit());
  }

  async abort(): Promise<void> {
    const txn = this.open();
    await this.call('aborting the transaction', () => txn.abort());
  }

  async close(): Promise<void> {
    if (this.inTransaction && !this.fenced) await this.transaction!.abort().catch(() => undefined);
    this.transaction = undefined;
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = undefined;
  }

  private open(): Transaction {
    this.check();
    if (!this.transaction?.isActive()) throw new KafkaError(`transactional producer ${this.transactionalId}: begin a transaction first`);
    return this.transaction;
  }

  private check(): void {
    if (this.fenced) throw this.fenced;
  }

  private async call<T>(doing: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (FENCED.has(typeOf(err) ?? '')) {
        this.fenced = new ProducerFencedError(this.transactionalId, { cause: err });
        throw this.fenced;
      }
      throw kafkaError(doing, err);
    }
  }

  private async connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw kafkaError('connecting the transactional producer', err);
    });
    await this.connected;
  }
}

/** The kafkajs protocol error type of `err` or of the error it wraps. */
function typeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && type !== 'UNKNOWN') return type;
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function hasType(err: unknown, type: string): boolean {
  return typeOf(err) === type;
}
