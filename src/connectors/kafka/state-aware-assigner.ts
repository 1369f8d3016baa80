import kafkajs from 'kafkajs';
import type { Assigner, GroupMember, PartitionAssigner } from 'kafkajs';
import type { TopicPartition } from '../log.js';

const { AssignerProtocol, PartitionAssigners } = kafkajs;

/** The protocol name members announce; a group only uses it when every member supports it (else round robin). */
export const STATE_AWARE_ASSIGNER = 'TributaryStateAware';
const VERSION = 1;

/** One member as the leader sees it: per partition (`topic:partition`), the records a takeover there would read (0: it owns it now). */
export interface MemberState {
  readonly memberId: string;
  readonly lags: ReadonlyMap<string, number>;
}

/**
 * A sticky, state-aware assignment: balanced (each member gets ⌊P/M⌋ or ⌈P/M⌉ partitions), and
 * within that, each partition goes to the member with the least of it to restore — its owner
 * (lag 0), else its warmest standby — considering first the partitions with the warmest
 * candidates. Partitions no member with room has state for go to the least loaded members, in
 * order of member id. Deterministic: the same members and states give the same assignment.
 *
 * @example
 * stateAwareAssignment([{ memberId: 'a', lags: new Map([['t:0', 0]]) }, { memberId: 'b', lags: new Map([['t:0', 12]]) }], [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
 * // a: t-0 (its owner), b: t-1
 */
export function stateAwareAssignment(members: readonly MemberState[], partitions: readonly TopicPartition[]): Map<string, TopicPartition[]> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const result = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));
  if (sorted.length === 0) return result;
  const base = Math.floor(partitions.length / sorted.length);
  let extras = partitions.length % sorted.length;
  const room = (memberId: string): boolean => {
    const n = result.get(memberId)!.length;
    return n < base || (n === base && extras > 0);
  };
  const give = (memberId: string, tp: TopicPartition): void => {
    const list = result.get(memberId)!;
    if (list.length === base) extras--;
    list.push(tp);
  };
  const key = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`;
  const candidates = (tp: TopicPartition): Array<{ memberId: string; lag: number }> =>
    sorted
      .filter((m) => m.lags.has(key(tp)))
      .map((m) => ({ memberId: m.memberId, lag: m.lags.get(key(tp))! }))
      .sort((a, b) => a.lag - b.lag || (a.memberId < b.memberId ? -1 : 1));
  const warm = partitions
    .map((tp) => ({ tp, candidates: candidates(tp) }))
    .filter((p) => p.candidates.length > 0)
    .sort((a, b) => a.candidates[0].lag - b.candidates[0].lag || (key(a.tp) < key(b.tp) ? -1 : 1));
  const placed = new Set<string>();
  for (const { tp, candidates } of warm) {
    const to = candidates.find((c) => room(c.memberId));
    if (!to) continue;
    give(to.memberId, tp);
    placed.add(key(tp));
  }
  for (const tp of partitions) {
    if (placed.has(key(tp))) continue;
    let to: string | undefined;
    for (const m of sorted) if (room(m.memberId) && (to === undefined || result.get(m.memberId)!.length < result.get(to)!.length)) to = m.memberId;
    give(to ?? sorted[0].memberId, tp);
  }
  return result;
}

/** A member's state in its subscription's userData: `{ v: 1, lags: { "topic:partition": records } }`. */
export function encodeMemberState(lags: ReadonlyMap<string, number>): Buffer {
  return Buffer.from(JSON.stringify({ v: VERSION, lags: Object.fromEntries(lags) }));
}

/** The state a member announced, empty when it announced none (or something this version does not read). */
export function decodeMemberState(userData: Buffer | null | undefined): Map<string, number> {
  const lags = new Map<string, number>();
  if (!userData || userData.length === 0) return lags;
  try {
    const parsed = JSON.parse(userData.toString()) as { v?: unknown; lags?: unknown };
    if (parsed.v !== VERSION || !parsed.lags || typeof parsed.lags !== 'object') return lags;
    for (const [k, v] of Object.entries(parsed.lags as Record<string, unknown>)) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) lags.set(k, v);
  } catch {
    // not ours: no state
  }
  return lags;
}

/**
 * kafkajs' `partitionAssigners` entry for a processor with warm standbys: each member's
 * subscription carries `localState()` (per partition, the records a takeover there would read),
 * and the group leader assigns with {@link stateAwareAssignment}. When no member announced any
 * state (a group's first start), it assigns as kafkajs' default round robin does.
 *
 * @example
 * kafka.consumer({ groupId, partitionAssigners: [stateAwareAssigner(() => standbys.lags()), PartitionAssigners.roundRobin] });
 */
export function stateAwareAssigner(localState: () => ReadonlyMap<string, number>): PartitionAssigner {
  return (config) => {
    const roundRobin = PartitionAssigners.roundRobin(config);
    const assigner: Assigner = {
      name: STATE_AWARE_ASSIGNER,
      version: VERSION,
      async assign({ members, topics }) {
        const states = members.map((m: GroupMember) => ({ memberId: m.memberId, lags: decodeMemberState(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData) }));
        if (states.every((s) => s.lags.size === 0)) return roundRobin.assign({ members, topics });
        const partitions = topics.flatMap((topic) => config.cluster.findTopicPartitionMetadata(topic).map((p) => ({ topic, partition: p.partitionId })));
        partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
        const assignment = stateAwareAssignment(states, partitions);
        config.logger.debug('state-aware assignment', { assignment: Object.fromEntries([...assignment].map(([m, tps]) => [m, tps.map((tp) => `${tp.topic}-${tp.partition}`)])) });
        return [...assignment].map(([memberId, tps]) => {
          const byTopic: Record<string, number[]> = {};
          for (const tp of tps) (byTopic[tp.topic] ??= []).push(tp.partition);
          return { memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: VERSION, assignment: byTopic, userData: Buffer.alloc(0) }) };
        });
      },
      protocol({ topics }) {
        return { name: STATE_AWARE_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: encodeMemberState(localState()) }) };
      },
    };
    return assigner;
  };
}
