import type { TopicPartition } from '../log.js';

/** A group member as the assignor sees it. */
export interface AssignmentMember {
  readonly topics: readonly string[];
}

/**
 * Kafka's range assignment (the Java client's default `RangeAssignor`), with members in the
 * order given (the group gives join order, oldest first) instead of sorted member ids.
 *
 * Topic by topic, the members subscribed to it get consecutive ranges of its partitions; the
 * first `partitions % members` members get one extra. With 7 partitions and 3 members:
 * `[0, 1, 2]`, `[3, 4]`, `[5, 6]`. Co-partitioned topics (same partition count) therefore give
 * each member the same partition numbers, which keyed joins across topics rely on.
 *
 * Returns one list per member, in the members' order, sorted by topic then partition.
 *
 * @example
 * assignRange([{ topics: ['a'] }, { topics: ['a'] }], () => 3);
 * // [[a-0, a-1], [a-2]]
 */
export function assignRange(
  members: readonly AssignmentMember[],
  partitionCount: (topic: string) => number,
): TopicPartition[][] {
  const plan: TopicPartition[][] = members.map(() => []);
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const subscribers = members.flatMap((m, index) => (m.topics.includes(topic) ? [index] : []));
    const count = partitionCount(topic);
    const each = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    subscribers.forEach((memberIndex, i) => {
      const first = i * each + Math.min(i, extra);
      const length = each + (i < extra ? 1 : 0);
      for (let partition = first; partition < first + length; partition++) {
        plan[memberIndex].push({ topic, partition });
      }
    });
  }
  return plan;
}
