import type { Logger } from 'pino';
import { ProducerFencedError, type LogConnector, type LogProducer, type OutgoingRecord, type PartitionOffset, type TopicPartition, type TransactionalProducer } from '../connectors/log.js';
import { ConfigError, TributaryError } from '../errors.js';

/** Most records in one transactional send (kafkajs groups a send's messages per partition in quadratic time). */
const MAX_RECORDS_PER_SEND = 1_000;

/**
 * A partition's transaction failed (a write, the offsets or the commit), or the partition's
 * transactional id was taken by a newer producer: nothing of it is visible, the partition
 * restarts from its last commit. Not permanent even when fenced: the partition may be assigned
 * here again, and its next producer registers the id anew.
 */
export class TransactionFailedError extends TributaryError {
  constructor(
    readonly transactionalId: string,
    readonly fenced: boolean,
    cause: unknown,
  ) {
    // A fenced producer's error is permanent for that producer only: not the cause (it would make this permanent too).
    super(`transaction of ${transactionalId} failed${fenced ? ' (fenced: a newer producer has the transactional id)' : ''}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause: cause instanceof ProducerFencedError ? undefined : cause,
    });
  }
}

/** The transactional id of an input partition's producer: `<group>-<topic>-<partition>` (stable, so a new owner fences the old). */
export function transactionalIdOf(groupId: string, tp: TopicPartition): string {
  return `${groupId}-${tp.topic}-${tp.partition}`;
}

/** What a {@link PartitionTransaction} is given. */
export interface PartitionTransactionOptions {
  readonly log: LogConnector;
  readonly groupId: string;
  readonly topicPartition: TopicPartition;
  readonly logger: Logger;
  /** Each transaction that ended: how (`committed`, `aborted`, `fenced`), and for a commit how long it took (seconds). */
  readonly onEnded?: (outcome: TransactionOutcome, seconds?: number) => void;
}

/** How a partition's transaction ended. */
export type TransactionOutcome = 'committed' | 'aborted' | 'fenced';

/**
 * The transactions of one input partition with `guarantee: 'exactly-once'`: its transactional
 * producer (created on first use, registered with {@link fence}, closed on revoke) and the
 * transaction open now. Every write of the partition (results, repartition records, dead
 * letters, changelog appends: {@link send}, {@link append}) goes in the open transaction, begun
 * by the first of them; {@link commit} ends it with the input offset.
 *
 * **Calls run one at a time, in call order** (one chain): kafkajs' transactions do not take
 * concurrent calls (kafkajs#1068), and the order is what makes a commit exact: the writes issued
 * before {@link commit} was called are in the transaction it commits, those issued after it in the
 * next one. A failed call breaks the transaction: later writes of it fail with the same error,
 * and the commit aborts it and rejects; the producer is then closed, so that the next start
 * registers a new one (which aborts whatever the old one left open).
 *
 * @example
 * const txn = new PartitionTransaction({ log, groupId: 'totals', topicPartition, logger });
 * await txn.fence(); // before restoring: a zombie's open transaction is aborted
 * const writes = txn.producerFor(txn.session); // the pipeline's sinks and changelogs
 * await writes.send('totals-out', records);
 * await txn.commit(txn.session, () => ({ topic: 'orders', partition: 0, offset: 42, metadata }));
 */
export class PartitionTransaction {
  readonly transactionalId: string;
  private producer: TransactionalProducer | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private broken: TransactionFailedError | undefined;
  private open = false;
  private closed = false;
  /** Numbers the pipelines of the partition ({@link fence} starts a new one): a call of an older one is refused. */
  private sessionValue = 0;

  constructor(private readonly options: PartitionTransactionOptions) {
    if (!options.log.transactionalProducer) {
      throw new ConfigError('guarantee', `the ${options.log.kind} log has no transactions: 'exactly-once' needs Kafka or MemoryLog`);
    }
    this.transactionalId = transactionalIdOf(options.groupId, options.topicPartition);
  }

  /** The current pipeline's number (see {@link fence}). */
  get session(): number {
    return this.sessionValue;
  }

  /**
   * The writes of the pipeline of `session` as a `LogProducer` (what its sinks and changelogs
   * write through): refused once a newer pipeline of the partition started, so that nothing a
   * failed pipeline still writes (a timer's results, a late append) lands in its successor's
   * transaction.
   */
  producerFor(session: number): LogProducer {
    return {
      send: (topic, records) => this.send(topic, records, session),
      append: (topic, partition, records) => this.append(topic, partition, records, session),
      close: async () => undefined,
    };
  }

  /**
   * Before the partition restores: aborts a transaction left open (by a failed pipeline of this
   * partition), and registers the producer if there is none (a new one fences any older producer
   * of the id, a zombie's, and its open transaction is aborted). Resolves with true when it
   * registered a new producer: the group's committed offset is only then certain to be final (a
   * zombie may have committed until then), so read it again.
   */
  fence(): Promise<boolean> {
    this.sessionValue++;
    return this.enqueue(async () => {
      if (this.open || this.broken) await this.discard();
      if (this.producer) return false;
      await this.producerNow();
      return true;
    });
  }

  /** Writes `records` in the open transaction (begun if none is); resolves when acknowledged. */
  send(topic: string, records: readonly OutgoingRecord[], session = this.sessionValue): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < records.length; i += MAX_RECORDS_PER_SEND) {
      const chunk = records.length <= MAX_RECORDS_PER_SEND ? records : records.slice(i, i + MAX_RECORDS_PER_SEND);
      sends.push(this.write(session, (producer) => producer.send(topic, chunk)));
    }
    return sends.length === 1 ? sends[0] : Promise.all(sends).then(() => undefined);
  }

  /** Appends `records` to one partition in the open transaction; resolves with the first one's offset. */
  append(topic: string, partition: number, records: readonly OutgoingRecord[], session = this.sessionValue): Promise<number> {
    return this.write(session, (producer) => producer.append(topic, partition, records));
  }

  /**
   * Commits the open transaction with the input offset `prepare` names when the commit's turn
   * comes (every write issued before this call acknowledged, and their settlements run):
   * `undefined` when the offset did not move. Resolves with whether anything was committed;
   * `onCommitted` is called once it is, before any later call of the chain runs.
   * A broken transaction is aborted instead, and the commit rejects.
   */
  commit(session: number, prepare: () => PartitionOffset | undefined, onCommitted?: () => void): Promise<boolean> {
    return this.enqueue(async () => {
      // Let the acknowledgements of the writes before settle their turns (microtasks) first.
      await new Promise((resolve) => setImmediate(resolve));
      this.checkSession(session);
      if (this.broken) {
        const broken = this.broken;
        await this.discard();
        throw broken;
      }
      const offset = prepare();
      if (!this.open && offset === undefined) return false;
      try {
        const producer = await this.begun();
        const started = performance.now();
        if (offset !== undefined) await producer.sendOffsets(this.options.groupId, [offset]);
        await producer.commit();
        this.open = false;
        this.options.onEnded?.('committed', (performance.now() - started) / 1000);
        // Before the next write of the chain: its offsets follow the commit's control records.
        onCommitted?.();
      } catch (err) {
        const failed = this.failure(err);
        this.broken = failed;
        await this.discard();
        throw failed;
      }
      return true;
    });
  }

  /** Aborts the open transaction of the pipeline of `session`, if any (it failed: the partition restarts from its last commit). */
  abort(session: number): Promise<void> {
    return this.enqueue(async () => {
      if (session === this.sessionValue && (this.open || this.broken)) await this.discard();
    });
  }

  /** Closes the producer (the partition was revoked, or the processor stops); an open transaction is aborted. */
  close(): Promise<void> {
    this.closed = true;
    return this.enqueue(() => this.discard());
  }

  private write<T>(session: number, op: (producer: TransactionalProducer) => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      this.checkSession(session);
      if (this.broken) throw this.broken;
      try {
        return await op(await this.begun());
      } catch (err) {
        this.broken ??= this.failure(err);
        throw this.broken;
      }
    });
  }

  private checkSession(session: number): void {
    if (session !== this.sessionValue) throw new TributaryError(`${this.transactionalId}: a newer pipeline of the partition has started; this write of an older one is refused`);
  }

  private async begun(): Promise<TransactionalProducer> {
    const producer = await this.producerNow();
    if (!this.open) {
      await producer.begin();
      this.open = true;
    }
    return producer;
  }

  private async producerNow(): Promise<TransactionalProducer> {
    if (this.closed) throw new TributaryError(`the transactional producer ${this.transactionalId} is closed (the partition was revoked)`);
    if (this.producer) return this.producer;
    const producer = this.options.log.transactionalProducer!(this.transactionalId);
    try {
      await producer.init();
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw this.failure(err);
    }
    this.producer = producer;
    return producer;
  }

  /** Aborts what is open (best effort) and closes the producer: the next use registers a new one. */
  private async discard(): Promise<void> {
    const producer = this.producer;
    const broken = this.broken;
    this.producer = undefined;
    this.open = false;
    this.broken = undefined;
    if (!producer) return;
    if (broken?.fenced) this.options.onEnded?.('fenced');
    else if (producer.inTransaction) this.options.onEnded?.('aborted');
    if (producer.inTransaction) await producer.abort().catch((err: unknown) => this.options.logger.debug({ err }, 'aborting the transaction failed; the next producer of the id aborts it'));
    await producer.close().catch((err: unknown) => this.options.logger.debug({ err }, 'closing the transactional producer failed'));
  }

  private failure(err: unknown): TransactionFailedError {
    if (err instanceof TransactionFailedError) return err;
    return new TransactionFailedError(this.transactionalId, err instanceof ProducerFencedError, err);
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** The {@link PartitionTransaction} of each input partition of one processor on this node, created on first use. */
export class PartitionTransactions {
  private readonly byPartition = new Map<string, PartitionTransaction>();

  constructor(private readonly options: Omit<PartitionTransactionOptions, 'topicPartition'>) {}

  /** The partition's transactions (its producer is only created when first used). */
  of(tp: TopicPartition): PartitionTransaction {
    const key = `${tp.topic}:${tp.partition}`;
    let txn = this.byPartition.get(key);
    if (!txn) this.byPartition.set(key, (txn = new PartitionTransaction({ ...this.options, topicPartition: tp })));
    return txn;
  }

  /** Closes the producers of partitions no longer assigned here (their open transactions aborted). */
  async close(tps: readonly TopicPartition[]): Promise<void> {
    await Promise.all(
      tps.map((tp) => {
        const key = `${tp.topic}:${tp.partition}`;
        const txn = this.byPartition.get(key);
        this.byPartition.delete(key);
        return txn ? txn.close() : Promise.resolve();
      }),
    );
  }

  /** Closes every producer (the processor stops, or left its group). */
  closeAll(): Promise<void> {
    const all = [...this.byPartition.values()];
    this.byPartition.clear();
    return Promise.all(all.map((txn) => txn.close())).then(() => undefined);
  }
}
