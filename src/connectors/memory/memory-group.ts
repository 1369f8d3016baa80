import type { MemberRemoval, TopicPartition } from '../log.js';
import type { TopicRegistry } from './memory-topic.js';
import { assignRange } from './range-assignment.js';

/** What the group coordinator needs from a member (implemented by `MemoryGroupConsumer`). */
export interface GroupMember {
  readonly topics: readonly string[];
  /** A crashed member gets no partitions and no callbacks. */
  readonly crashed: boolean;
  /** Stops fetching, awaits the batches in flight, then `onRevoked` for everything it owns. */
  revokeAll(): Promise<void>;
  /** Takes the partitions: `onAssigned`, then one fetch loop per partition. */
  assign(partitions: TopicPartition[]): Promise<void>;
  /** Its member id in the group (a new one at every join). */
  memberId(): string | undefined;
  /** Removed by another: stop fetching and refuse commits now, without awaiting any callback. */
  fence(): void;
  /** Called once the others have its partitions: it learns it was removed and joins again. */
  evicted(): void;
}

/**
 * The coordinator of one consumer group on a MemoryLog: its members and its committed offsets.
 *
 * Rebalancing is **eager**, as kafkajs' consumer group: on every join or leave, every member
 * stops fetching and revokes all its partitions (`onRevoked` awaited for all members, in
 * parallel), and only then are the partitions assigned again ({@link assignRange}) and each
 * member's `onAssigned` awaited. So no partition is ever fetched by two members, and a member's
 * commits in `onRevoked` are in place before the next owner reads its start offset.
 *
 * Joins and leaves are serialized: one rebalance at a time, in call order.
 *
 * Committed offsets belong to the group, not to members: they outlive every member, and a
 * consumer created later with the same group id on the same MemoryLog resumes from them.
 */
export class MemoryGroup {
  private readonly members: GroupMember[] = [];
  private readonly offsets = new Map<string, Map<number, { offset: number; metadata: string | undefined }>>();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly groupId: string,
    private readonly topics: TopicRegistry,
    /** Told after every commit (the log's retention trims what every group has committed). */
    private readonly onCommitted: (tp: TopicPartition) => void = () => undefined,
  ) {}

  /** Whether the group reads `topic`: a member subscribes to it, or the group has committed on it. */
  reads(topic: string): boolean {
    return this.offsets.has(topic) || this.members.some((m) => m.topics.includes(topic));
  }

  /** The committed offset (next offset to read), or -1. */
  committed(tp: TopicPartition): number {
    return this.offsets.get(tp.topic)?.get(tp.partition)?.offset ?? -1;
  }

  /** The metadata committed with the offset, if any. */
  committedMetadata(tp: TopicPartition): string | undefined {
    return this.offsets.get(tp.topic)?.get(tp.partition)?.metadata;
  }

  commit(tp: TopicPartition, offset: number, metadata?: string): void {
    let partitions = this.offsets.get(tp.topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.offsets.set(tp.topic, partitions);
    }
    partitions.set(tp.partition, { offset, metadata });
    this.onCommitted(tp);
  }

  /** Adds the member and rebalances. Resolves when every member has its new partitions. */
  join(member: GroupMember): Promise<void> {
    return this.serialize(async () => {
      this.members.push(member);
      await this.rebalance([]);
    });
  }

  /** Revokes the member's partitions, removes it and rebalances the others. Idempotent. */
  leave(member: GroupMember): Promise<void> {
    return this.serialize(async () => {
      const index = this.members.indexOf(member);
      if (index < 0) return;
      this.members.splice(index, 1);
      await this.rebalance([member]);
    });
  }

  /**
   * Removes members by id on behalf of another client (see `GroupEviction`): each is fenced at
   * once (no more batches, commits refused), the others rebalance without waiting for it (its
   * `onRevoked` is not awaited: it is presumed dead), then it is told, loses its partitions and
   * joins again under a new member id, as a Kafka member does at its next heartbeat. An id not in
   * the group is `already-gone`.
   */
  evict(memberIds: readonly string[]): Promise<MemberRemoval[]> {
    return this.serialize(async () => {
      const results: MemberRemoval[] = [];
      const removed: GroupMember[] = [];
      for (const memberId of memberIds) {
        const index = this.members.findIndex((m) => m.memberId() === memberId);
        if (index < 0) {
          results.push({ memberId, outcome: 'already-gone' });
          continue;
        }
        const [member] = this.members.splice(index, 1);
        member.fence();
        removed.push(member);
        results.push({ memberId, outcome: 'removed' });
      }
      if (removed.length > 0) {
        await this.rebalance([]);
        for (const member of removed) member.evicted();
      }
      return results;
    });
  }

  private async rebalance(leaving: readonly GroupMember[]): Promise<void> {
    await Promise.all([...leaving, ...this.members].map((m) => m.revokeAll()));
    const live = this.members.filter((m) => !m.crashed);
    const plan = assignRange(live, (topic) => this.topics.get(topic)?.partitions.length ?? 0);
    await Promise.all(live.map((m, i) => m.assign(plan[i])));
  }

  /** Runs `op` after every operation queued before it; a failure does not block the queue. */
  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
