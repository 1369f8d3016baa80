import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemberEviction, type EvictionEvent } from '../../../src/cluster/member-eviction.js';
import { MemberTracker, type GroupMembership, type MemberReport } from '../../../src/cluster/member-tracker.js';
import type { GroupEviction, MemberRemoval } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { SimulatedClock } from '../../../src/supervision/simulated-clock.js';

const logger = pino({ level: 'silent' });

function report(seq: number, groups: GroupMembership[], incarnation = 'inc-1', startedAt = 0): MemberReport {
  return { incarnation, seq, startedAt, state: 'running', healthy: true, handlers: [], processors: [], groups };
}

/** A GroupEviction that records its calls and answers `removed` (the log side has its own contract suite). */
function recordingEviction(): GroupEviction & { calls: Array<[string, string[]]> } {
  const calls: Array<[string, string[]]> = [];
  return {
    calls,
    removeMembers: async (groupId, memberIds): Promise<MemberRemoval[]> => {
      calls.push([groupId, [...memberIds]]);
      return memberIds.map((memberId) => ({ memberId, outcome: 'removed' as const }));
    },
    close: async () => undefined,
  };
}

function setup(self: string, eviction: GroupEviction = recordingEviction()) {
  const clock = new SimulatedClock(1_000_000);
  const tracker = new MemberTracker({ self, clock });
  tracker.updateSelf(report(1, [{ group: 'g', member: `${self}-m` }]));
  const evictor = new MemberEviction({ tracker, self, eviction, logger });
  const events: EvictionEvent[] = [];
  evictor.events.subscribe((e) => events.push(e));
  evictor.start();
  const seqs = new Map<string, number>();
  const beat = (node: string, groups: GroupMembership[] = [{ group: 'g', member: `${node}-m` }], incarnation = 'inc-1', startedAt = 0): void => {
    const seq = (seqs.get(node) ?? 0) + 1;
    seqs.set(node, seq);
    tracker.heartbeat(node, report(seq, groups, incarnation, startedAt));
  };
  /** Advances the clock by `ms` in heartbeat steps, with `beating` heartbeating at every step. */
  const run = async (ms: number, beating: string[]): Promise<void> => {
    for (let t = 0; t < ms; t += 500) {
      for (const node of beating) beat(node);
      tracker.updateSelf(report(1, [{ group: 'g', member: `${self}-m` }]));
      await clock.advance(500);
    }
  };
  return { clock, tracker, evictor, events, beat, run };
}

describe('eviction of the members of nodes gone', () => {
  it('has the lowest live node remove a down node’s group members, every group of it, once', async () => {
    const eviction = recordingEviction();
    const { events, beat, run } = setup('a', eviction);
    beat('b', [
      { group: 'g', member: 'b-m' },
      { group: 'g-stage', member: 'b-m2' },
    ]);
    beat('c');
    await run(1_000, ['c']);
    await run(4_000, ['c']); // b silent: down after 3 s
    await Promise.resolve();
    expect(eviction.calls.sort()).toEqual([
      ['g', ['b-m']],
      ['g-stage', ['b-m2']],
    ]);
    const done = events.filter((e) => e.type === 'eviction.done');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ node: 'b', reason: 'down' });
    expect(done[0].type === 'eviction.done' && done[0].removals.map((r) => r.outcome)).toEqual(['removed', 'removed']);
  });

  it('leaves the eviction to the lowest live node when that is another node', async () => {
    const eviction = recordingEviction();
    const { events, beat, run } = setup('b', eviction);
    beat('a');
    beat('c');
    await run(5_000, ['a']); // c silent: down
    expect(eviction.calls).toEqual([]);
    expect(events).toEqual([expect.objectContaining({ type: 'eviction.delegated', node: 'c', evictor: 'a' })]);
  });

  it('passes over a lower node that is only suspected: the next lowest live node evicts', async () => {
    const eviction = recordingEviction();
    const { beat, run } = setup('b', eviction);
    beat('a');
    beat('c');
    await run(1_000, ['a']); // c silent from here on
    await run(4_000, []); // a silent too, 1 s later: suspected when c is declared down
    expect(eviction.calls[0]).toEqual(['g', ['c-m']]);
  });

  it('removes the previous incarnation’s members when a node restarts under its id before it is declared down', async () => {
    const eviction = recordingEviction();
    const { events, beat, run } = setup('a', eviction);
    beat('b', [{ group: 'g', member: 'b-old' }]);
    await run(1_000, []);
    beat('b', [{ group: 'g', member: 'b-new' }], 'inc-2', 1);
    await new Promise((r) => setImmediate(r));
    expect(eviction.calls).toEqual([['g', ['b-old']]]);
    expect(events).toEqual([expect.objectContaining({ type: 'eviction.done', node: 'b', reason: 'restarted' })]);
  });

  it('does nothing about a node that left gracefully (its consumers left their groups themselves)', async () => {
    const eviction = recordingEviction();
    const { tracker, events, beat, run } = setup('a', eviction);
    beat('b');
    tracker.leave('b', 'inc-1');
    await run(5_000, []);
    expect(eviction.calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('reports a removal that failed, and the rest that succeeded', async () => {
    const eviction: GroupEviction = {
      removeMembers: async (groupId, memberIds) =>
        groupId === 'down-group'
          ? Promise.reject(new Error('coordinator unreachable'))
          : memberIds.map((memberId) => ({ memberId, outcome: 'already-gone' as const })),
      close: async () => undefined,
    };
    const { events, beat, run } = setup('a', eviction);
    beat('b', [
      { group: 'down-group', member: 'b-1' },
      { group: 'g', member: 'b-2' },
    ]);
    await run(5_000, []);
    await new Promise((r) => setImmediate(r));
    const done = events.find((e) => e.type === 'eviction.done');
    expect(done?.type === 'eviction.done' && [...done.removals].sort((x, y) => x.group.localeCompare(y.group))).toEqual([
      { group: 'down-group', member: 'b-1', outcome: 'failed', error: 'coordinator unreachable' },
      { group: 'g', member: 'b-2', outcome: 'already-gone' },
    ]);
  });

  it('on a MemoryLog, gives a down node’s partitions to the survivor at once (the removed member, alive here, then joins again)', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    const assigned = { a: [] as number[][], b: [] as number[][] };
    const member = (name: 'a' | 'b') => {
      const consumer = log.groupConsumer({ groupId: 'g', topics: ['t'] });
      return {
        consumer,
        start: () =>
          consumer.start({
            onAssigned: async (tps) => void assigned[name].push(tps.map((tp) => tp.partition).sort()),
            onRevoked: async () => undefined,
            onBatch: async () => undefined,
          }),
      };
    };
    const a = member('a');
    const b = member('b');
    await a.start();
    await b.start();
    expect(assigned.a.at(-1)).toEqual([0]);
    const removedId = b.consumer.memberId()!;
    const { beat, run, evictor } = setup('a', log.groupEviction());
    beat('b', [{ group: 'g', member: removedId }]);
    await run(5_000, []);
    await new Promise((r) => setTimeout(r, 10));
    // a: [0, 1] (joined alone), [0] (b joined), [0, 1] (b evicted), [0] (b joined again).
    expect(assigned.a).toEqual([[0, 1], [0], [0, 1], [0]]);
    expect(b.consumer.memberId()).not.toBe(removedId);
    await evictor.stop();
    await a.consumer.stop();
    await b.consumer.stop();
  });
});
