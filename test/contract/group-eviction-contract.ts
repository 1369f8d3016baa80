/**
 * The eviction contract (`GroupEviction` in src/connectors/log.ts), at the level of group
 * consumers: one suite, run against the embedded MemoryLog and a real Kafka broker
 * (group-eviction.contract.test.ts). On Kafka the consumers' session timeout is 45 s, longer
 * than any of these tests may take: every takeover seen here is the eviction's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GroupConsumer, GroupEviction, LogConnector, TopicPartition } from '../../src/connectors/log.js';
import { uniqueName } from '../helpers/names.js';
import { eventually } from './read-topic.js';

export interface EvictionTarget {
  readonly connect: () => LogConnector;
}

interface Member {
  readonly consumer: GroupConsumer;
  readonly owned: Set<string>;
  readonly events: Array<{ type: 'assigned' | 'revoked'; partitions: string[] }>;
}

const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`;

export function groupEvictionContract(name: string, target: EvictionTarget): void {
  describe(`group eviction contract on ${name}`, () => {
    const started: GroupConsumer[] = [];
    const evictions: GroupEviction[] = [];
    afterEach(async () => {
      for (const c of started.splice(0)) await c.stop().catch(() => undefined);
      for (const e of evictions.splice(0)) await e.close();
    });

    async function setUp(partitions: number): Promise<{ log: LogConnector; topic: string; groupId: string; eviction: GroupEviction }> {
      const log = target.connect();
      const topic = uniqueName('evict-contract');
      const admin = log.admin();
      await admin.ensureTopics([{ name: topic, partitions }]);
      await admin.close();
      const eviction = log.groupEviction!();
      evictions.push(eviction);
      return { log, topic, groupId: uniqueName('evict-contract-g'), eviction };
    }

    async function join(log: LogConnector, groupId: string, topic: string): Promise<Member> {
      const consumer = log.groupConsumer({ groupId, topics: [topic] });
      const member: Member = { consumer, owned: new Set(), events: [] };
      started.push(consumer);
      // Not awaited: on Kafka `start` resolves before the first assignment, on MemoryLog after it.
      void consumer.start({
        onAssigned: async (tps) => {
          for (const tp of tps) member.owned.add(key(tp));
          member.events.push({ type: 'assigned', partitions: tps.map(key) });
        },
        onRevoked: async (tps) => {
          for (const tp of tps) member.owned.delete(key(tp));
          member.events.push({ type: 'revoked', partitions: tps.map(key) });
        },
        onBatch: async () => undefined,
      });
      return member;
    }

    const splitBetween = (members: Member[], partitions: number): boolean =>
      members.every((m) => m.owned.size > 0) && members.reduce((n, m) => n + m.owned.size, 0) === partitions && new Set(members.flatMap((m) => [...m.owned])).size === partitions;

    it('hands a removed member’s partitions to the others at once; the removed member loses them all and joins again under a new member id', async () => {
      const { log, topic, groupId, eviction } = await setUp(4);
      const a = await join(log, groupId, topic);
      await eventually(() => expect(a.owned.size).toBe(4), 30_000);
      const b = await join(log, groupId, topic);
      await eventually(() => expect(splitBetween([a, b], 4)).toBe(true), 30_000);
      const removedId = a.consumer.memberId!();
      expect(removedId).toBeTruthy();
      const hadA = [...a.owned];

      expect(await eviction.removeMembers(groupId, [removedId!])).toEqual([{ memberId: removedId, outcome: 'removed' }]);

      // (On Kafka a may rejoin before the rebalance its removal started is over, so b need not be
      // given a's partitions: what holds is that a loses them all.) a learns it was removed: every partition it had is revoked, and it joins again as a new member,
      await eventually(() => expect(a.consumer.memberId!()).not.toBe(removedId), 30_000);
      const revoked = a.events.filter((e) => e.type === 'revoked').flatMap((e) => e.partitions);
      expect(revoked).toEqual(expect.arrayContaining(hadA));
      // ... and the two split the partitions again.
      await eventually(() => expect(splitBetween([a, b], 4)).toBe(true), 30_000);
    });

    it('does not let a removed member move the group’s committed offsets', async () => {
      const { log, topic, groupId, eviction } = await setUp(2);
      const a = await join(log, groupId, topic);
      await eventually(() => expect(a.owned.size).toBe(2), 30_000);
      const b = await join(log, groupId, topic);
      await eventually(() => expect(splitBetween([a, b], 2)).toBe(true), 30_000);
      const [aKey] = [...a.owned];
      const tp = { topic, partition: Number(aKey.split(':').pop()) };
      await a.consumer.commit([{ ...tp, offset: 1 }]);
      expect((await b.consumer.committed([tp]))[0].offset).toBe(1);

      await eviction.removeMembers(groupId, [a.consumer.memberId!()!]);
      // Refused by the coordinator (Kafka: UNKNOWN_MEMBER_ID; MemoryLog: MemberEvictedError), or
      // dropped when the member already knows it lost the partition: either way, not committed.
      await a.consumer.commit([{ ...tp, offset: 7 }]).catch(() => undefined);
      expect((await b.consumer.committed([tp]))[0].offset).toBe(1);
    });

    it('answers already-gone for a member that is not in the group, and removes nobody else', async () => {
      const { log, topic, groupId, eviction } = await setUp(2);
      const a = await join(log, groupId, topic);
      await eventually(() => expect(a.owned.size).toBe(2), 30_000);
      const id = a.consumer.memberId!()!;
      expect(await eviction.removeMembers(groupId, [`${groupId}-no-such-member`])).toEqual([{ memberId: `${groupId}-no-such-member`, outcome: 'already-gone' }]);
      expect(await eviction.removeMembers(uniqueName('no-such-group'), ['m'])).toEqual([{ memberId: 'm', outcome: 'already-gone' }]);
      expect(a.consumer.memberId!()).toBe(id);
      expect(a.events.filter((e) => e.type === 'revoked')).toEqual([]);
    });
  });
}
