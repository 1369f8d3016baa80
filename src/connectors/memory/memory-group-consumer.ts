import {
  NotAssignedError,
  type GroupConsumer,
  type GroupConsumerHandlers,
  type GroupConsumerOptions,
  type PartitionOffset,
  type TopicPartition,
} from '../log.js';
import { randomUUID } from 'node:crypto';
import { ClientStateError, InvalidOptionError, MemberEvictedError } from './errors.js';
import type { GroupMember, MemoryGroup } from './memory-group.js';
import type { TopicRegistry } from './memory-topic.js';
import { PartitionFetcher } from './partition-fetcher.js';

/** Default upper bound on the records of one batch. */
export const DEFAULT_MAX_BATCH_RECORDS = 500;

type Phase = 'new' | 'joining' | 'running' | 'leaving' | 'stopped';

/**
 * A member of a MemoryLog consumer group (see `MemoryGroup` for the eager rebalance and
 * `assignRange` for who gets which partition).
 *
 * - `start` checks the topics (unknown topic: `UnknownTopicError`, unless the log
 *   auto-creates), joins, and resolves once the group has rebalanced and this member's
 *   `onAssigned` has resolved. Fetching starts after `onAssigned`, at the group's committed
 *   offset, else at 0 (`fromBeginning`, the default) or at the end of the partition. A committed
 *   offset past the end is out of range and reset the same way.
 * - `stop` waits for the batches in flight, awaits `onRevoked` for what the member owns, leaves
 *   and resolves once the remaining members have rebalanced.
 * - `pause` takes effect after the batch in flight and lasts until `resume` or until the
 *   partition is revoked; `seek` sets the next offset delivered (the batch in flight stays
 *   delivered; an offset past the end is reset like a missing commit). Both do nothing for a
 *   partition this member does not own; both may be called in `onAssigned`.
 * - A handler that throws or rejects crashes the member: delivery stops on every partition, its
 *   partitions are dropped at once (its later commits are ignored) and it leaves the group
 *   without further callbacks, so the others take over from the committed offsets. The error
 *   goes to `start`/`stop` when it happened while they ran, else to `onCrash`; without
 *   `onCrash` it is rethrown as an uncaught exception, never swallowed. Only the first error of
 *   a crash is reported.
 *
 * Do not await `start` or `stop` of a member of the same group from inside a handler: handlers
 * run inside the group's rebalance, which that call would wait behind.
 *
 * @example
 * const consumer = log.groupConsumer({ groupId: 'clickstream', topics: ['clicks'] });
 * await consumer.start({
 *   onAssigned: async (tps) => console.log('assigned', tps),
 *   onRevoked: async (tps) => console.log('revoked', tps),
 *   onBatch: async (batch) => { for (const r of batch.records) handle(r); },
 * });
 * await consumer.commit([{ topic: 'clicks', partition: 0, offset: 42 }]);
 * await consumer.stop();
 */
export class MemoryGroupConsumer implements GroupConsumer, GroupMember {
  readonly topics: readonly string[];
  private readonly fromBeginning: boolean;
  private readonly maxBatchRecords: number;
  private handlers: GroupConsumerHandlers | undefined;
  private phase: Phase = 'new';
  private failed = false;
  private startError: Error | undefined;
  private stopError: Error | undefined;
  private stopping: Promise<void> | undefined;
  private owned: TopicPartition[] = [];
  private readonly ownedKeys = new Set<string>();
  private readonly paused = new Set<string>();
  /** Seeks made before the partition's fetcher started (in `onAssigned`). */
  private readonly seeks = new Map<string, number>();
  private readonly fetchers = new Map<string, PartitionFetcher>();
  private currentMemberId: string | undefined;
  /** Removed by another member's eviction and not yet told (commits are refused meanwhile). */
  private fenced = false;
  private fencing: Promise<void> = Promise.resolve();

  constructor(
    private readonly group: MemoryGroup,
    private readonly registry: TopicRegistry,
    options: GroupConsumerOptions,
  ) {
    if (typeof options.groupId !== 'string' || options.groupId === '') {
      throw new InvalidOptionError('groupId', 'expected a non-empty string');
    }
    if (!Array.isArray(options.topics) || options.topics.length === 0) {
      throw new InvalidOptionError('topics', `group "${options.groupId}" must subscribe to at least one topic`);
    }
    const maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    if (!Number.isSafeInteger(maxBatchRecords) || maxBatchRecords < 1) {
      throw new InvalidOptionError('maxBatchRecords', `expected a positive integer, got ${String(maxBatchRecords)}`);
    }
    this.topics = [...new Set(options.topics)];
    this.fromBeginning = options.fromBeginning ?? true;
    this.maxBatchRecords = maxBatchRecords;
  }

  get crashed(): boolean {
    return this.failed;
  }

  async start(handlers: GroupConsumerHandlers): Promise<void> {
    if (this.phase !== 'new') {
      throw new ClientStateError(`Consumer of group "${this.group.groupId}" cannot start: it is ${this.phase}`);
    }
    for (const topic of this.topics) this.registry.require(topic);
    this.handlers = handlers;
    this.phase = 'joining';
    this.currentMemberId = newMemberId(this.group.groupId);
    await this.group.join(this);
    if (this.phase === 'joining') this.phase = 'running';
    if (this.startError !== undefined) {
      await this.stop();
      throw this.startError;
    }
  }

  pause(tp: TopicPartition): void {
    const key = tpKey(tp);
    if (!this.ownedKeys.has(key)) return;
    this.paused.add(key);
    this.fetchers.get(key)?.pause();
  }

  resume(tp: TopicPartition): void {
    const key = tpKey(tp);
    if (!this.paused.delete(key)) return;
    this.fetchers.get(key)?.resume();
  }

  seek(tp: TopicPartition, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidOptionError('offset', `expected a non-negative integer to seek to, got ${String(offset)}`);
    }
    const key = tpKey(tp);
    if (!this.ownedKeys.has(key)) return;
    const target = this.inRange(tp, offset);
    const fetcher = this.fetchers.get(key);
    if (fetcher === undefined) this.seeks.set(key, target);
    else fetcher.seek(target);
  }

  async commit(offsets: readonly PartitionOffset[], options: { readonly strict?: boolean } = {}): Promise<void> {
    for (const { offset } of offsets) {
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new InvalidOptionError('offset', `expected a non-negative integer to commit, got ${String(offset)}`);
      }
    }
    if (options.strict) {
      const notOwned = offsets.filter((o) => !this.ownedKeys.has(tpKey(o)));
      if (notOwned.length > 0) throw new NotAssignedError(this.group.groupId, notOwned);
    }
    if (this.fenced && offsets.some((o) => this.ownedKeys.has(tpKey(o)))) {
      throw new MemberEvictedError(this.group.groupId, this.currentMemberId ?? '');
    }
    for (const o of offsets) {
      if (this.ownedKeys.has(tpKey(o))) this.group.commit(o, o.offset, o.metadata);
    }
  }

  async committed(partitions: readonly TopicPartition[]): Promise<PartitionOffset[]> {
    return partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      offset: this.group.committed({ topic, partition }),
      metadata: this.group.committedMetadata({ topic, partition }),
    }));
  }

  assignment(): TopicPartition[] {
    return this.owned.map(({ topic, partition }) => ({ topic, partition }));
  }

  memberId(): string | undefined {
    return this.phase === 'new' || this.phase === 'stopped' ? undefined : this.currentMemberId;
  }

  /** @internal Called by the group: see {@link GroupMember.fence}. */
  fence(): void {
    this.fenced = true;
    this.fencing = this.stopFetchers();
  }

  /**
   * @internal Called by the group: see {@link GroupMember.evicted}. Loses every partition (they
   * are disowned before `onRevoked`, so commits made there are dropped, as on Kafka, where the
   * member learns with a new member id), then joins again, unless it is leaving or crashed.
   */
  evicted(): void {
    void (async () => {
      await this.fencing;
      const revoked = this.owned;
      this.disown();
      this.fenced = false;
      if (revoked.length > 0 && !this.failed) {
        try {
          await this.handlers?.onRevoked(revoked.map(({ topic, partition }) => ({ topic, partition })));
        } catch (error) {
          this.fail(error);
        }
      }
      if (this.failed || this.phase !== 'running') return;
      this.currentMemberId = newMemberId(this.group.groupId);
      await this.group.join(this);
    })();
  }

  stop(): Promise<void> {
    if (this.phase === 'new') {
      this.phase = 'stopped';
      return Promise.resolve();
    }
    this.stopping ??= this.leave();
    return this.stopping;
  }

  /** @internal Called by the group: see {@link GroupMember.revokeAll}. */
  async revokeAll(): Promise<void> {
    const revoked = this.owned;
    if (revoked.length === 0) return;
    await this.stopFetchers();
    try {
      if (!this.failed) await this.handlers?.onRevoked(revoked.map(({ topic, partition }) => ({ topic, partition })));
    } catch (error) {
      this.fail(error);
    } finally {
      this.disown();
    }
  }

  /** @internal Called by the group: see {@link GroupMember.assign}. */
  async assign(partitions: TopicPartition[]): Promise<void> {
    if (this.failed || partitions.length === 0) return;
    this.owned = partitions;
    for (const tp of partitions) this.ownedKeys.add(tpKey(tp));
    try {
      await this.handlers?.onAssigned(partitions.map(({ topic, partition }) => ({ topic, partition })));
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.failed || this.owned !== partitions) return;
    for (const tp of partitions) this.startFetcher(tp);
  }

  private startFetcher(tp: TopicPartition): void {
    const partition = this.registry.require(tp.topic).partitions[tp.partition];
    const key = tpKey(tp);
    const startOffset = this.seeks.get(key) ?? this.inRange(tp, this.group.committed(tp));
    this.seeks.delete(key);
    const fetcher = new PartitionFetcher(partition, {
      startOffset,
      maxBatchRecords: this.maxBatchRecords,
      paused: this.paused.has(key),
      deliver: (batch) => this.handlers!.onBatch(batch),
      fail: (error) => this.fail(error),
    });
    this.fetchers.set(key, fetcher);
    fetcher.start();
  }

  /** `offset` when the partition has it (0..end), else the reset policy's: 0 or the end. */
  private inRange(tp: TopicPartition, offset: number): number {
    const end = this.registry.require(tp.topic).partitions[tp.partition].highWatermark;
    if (offset >= 0 && offset <= end) return offset;
    return this.fromBeginning ? 0 : end;
  }

  private async leave(): Promise<void> {
    this.phase = 'leaving';
    await this.group.leave(this);
    this.phase = 'stopped';
    if (this.stopError !== undefined) throw this.stopError;
  }

  private async stopFetchers(): Promise<void> {
    const stopping = [...this.fetchers.values()].map((f) => f.stop());
    this.fetchers.clear();
    await Promise.all(stopping);
  }

  private disown(): void {
    this.owned = [];
    this.ownedKeys.clear();
    this.paused.clear();
    this.seeks.clear();
  }

  private fail(cause: unknown): void {
    if (this.failed) return;
    this.failed = true;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    void this.stopFetchers();
    this.disown();
    if (this.phase === 'joining') {
      this.startError = error;
    } else if (this.phase === 'leaving') {
      this.stopError = error;
    } else {
      this.report(error);
      this.stop().catch((e: unknown) => this.report(e instanceof Error ? e : new Error(String(e))));
    }
  }

  private report(error: Error): void {
    const handlers = this.handlers;
    try {
      if (handlers?.onCrash !== undefined) {
        handlers.onCrash(error);
        return;
      }
    } catch (crashHandlerError) {
      error = crashHandlerError instanceof Error ? crashHandlerError : new Error(String(crashHandlerError));
    }
    queueMicrotask(() => {
      throw error;
    });
  }
}

function newMemberId(groupId: string): string {
  return `${groupId}-${randomUUID()}`;
}

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}:${tp.partition}`;
}
