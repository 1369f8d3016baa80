import { describe, expect, it } from 'vitest';
import { MemberTracker, membershipTimings, type MemberReport, type MembershipEvent } from '../../../src/cluster/member-tracker.js';
import { ConfigError } from '../../../src/errors.js';
import { SimulatedClock } from '../../../src/supervision/simulated-clock.js';

function report(overrides: Partial<MemberReport> = {}): MemberReport {
  return {
    incarnation: 'inc-1',
    seq: 1,
    startedAt: 0,
    state: 'running',
    healthy: true,
    handlers: [],
    processors: [],
    ...overrides,
  };
}

function owning(partitions: number[], extra: Partial<MemberReport> = {}): MemberReport {
  return report({
    processors: [{ id: 'p', paused: false, topics: ['t'], partitions: partitions.map((partition) => ({ topic: 't', partition, state: 'running' })) }],
    ...extra,
  });
}

function setup() {
  const clock = new SimulatedClock(1_000_000);
  // The state machine on the timings these tests were written for (the defaults are tighter: see the first test).
  const tracker = new MemberTracker({ self: 'a', clock, timings: { heartbeatIntervalMs: 500, suspectAfterMs: 1_500, downAfterMs: 3_000 } });
  const events: MembershipEvent[] = [];
  tracker.events.subscribe((e) => events.push(e));
  tracker.updateSelf(owning([0]));
  let seq = 1;
  /** Heartbeats `node` every 500 ms for `ms`. */
  const beating = async (node: string, ms: number, r: (seq: number) => MemberReport = (s) => report({ seq: s })): Promise<void> => {
    for (let t = 0; t < ms; t += 500) {
      tracker.heartbeat(node, r(++seq));
      await clock.advance(500);
    }
  };
  const statusOf = (node: string) => tracker.member(node)?.status;
  return { clock, tracker, events, beating, statusOf, nextSeq: () => ++seq };
}

describe('membership state machine (simulated clock)', () => {
  it('validates the timings and names the bad setting', () => {
    expect(membershipTimings()).toEqual({ heartbeatIntervalMs: 250, suspectAfterMs: 1_000, downAfterMs: 2_000, forgetAfterMs: 60_000 });
    expect(() => membershipTimings({ suspectAfterMs: 200 })).toThrow(/suspectAfterMs/);
    expect(() => membershipTimings({ downAfterMs: 1_000 })).toThrow(ConfigError);
    expect(() => membershipTimings({ heartbeatIntervalMs: 0 })).toThrow(/heartbeatIntervalMs/);
  });

  it('a member that keeps heartbeating stays alive', async () => {
    const { tracker, beating, statusOf, events } = setup();
    await beating('b', 10_000);
    expect(statusOf('b')).toBe('alive');
    expect(events.map((e) => e.type)).toEqual(['member.joined']);
    expect(tracker.snapshot().members.map((m) => [m.node, m.status, m.self])).toEqual([
      ['a', 'alive', true],
      ['b', 'alive', false],
    ]);
  });

  it('suspects a silent member after 1.5 s and declares it down after 3 s, at exactly those times', async () => {
    const { clock, tracker, beating, statusOf, events } = setup();
    await beating('b', 1_000);
    const lastHeard = tracker.member('b')!.lastHeardAt;
    await clock.advance(lastHeard + 1_499 - clock.now());
    expect(statusOf('b')).toBe('alive');
    await clock.advance(1);
    expect(statusOf('b')).toBe('suspected');
    await clock.advance(1_499);
    expect(statusOf('b')).toBe('suspected');
    await clock.advance(1);
    expect(statusOf('b')).toBe('down');
    const down = events.find((e) => e.type === 'member.down');
    expect(down).toMatchObject({ node: 'b', at: lastHeard + 3_000, silentForMs: 3_000 });
    expect(events.map((e) => e.type)).toEqual(['member.joined', 'member.suspected', 'member.down']);
  });

  it('a suspected member that heartbeats again is alive and never declared down', async () => {
    const { clock, tracker, statusOf, events, nextSeq } = setup();
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    await clock.advance(2_000);
    expect(statusOf('b')).toBe('suspected');
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    expect(statusOf('b')).toBe('alive');
    expect(events.at(-1)).toMatchObject({ type: 'member.alive', node: 'b', silentForMs: 2_000 });
    await clock.advance(1_000);
    expect(statusOf('b')).toBe('alive');
  });

  it('a down member that heartbeats again comes back alive; a restart (new incarnation) is reported as such', async () => {
    const { clock, tracker, statusOf, events, nextSeq } = setup();
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    await clock.advance(5_000);
    expect(statusOf('b')).toBe('down');
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    expect(statusOf('b')).toBe('alive');
    tracker.heartbeat('b', report({ incarnation: 'inc-2', seq: 1, startedAt: 10 }));
    expect(events.map((e) => e.type)).toEqual(['member.joined', 'member.suspected', 'member.down', 'member.alive', 'member.restarted']);
    // A late heartbeat of the old incarnation changes nothing.
    tracker.heartbeat('b', report({ incarnation: 'inc-1', seq: 99, startedAt: 0 }));
    expect(tracker.member('b')!.incarnation).toBe('inc-2');
  });

  it('a graceful leave takes effect at once and later heartbeats of that incarnation are ignored', async () => {
    const { clock, tracker, statusOf, events, nextSeq } = setup();
    tracker.heartbeat('b', owning([1], { seq: nextSeq() }));
    expect(tracker.ownerOf('p', 't', 1)?.node).toBe('b');
    tracker.leave('b', 'inc-1');
    expect(statusOf('b')).toBe('left');
    expect(tracker.ownerOf('p', 't', 1)).toBeUndefined();
    tracker.heartbeat('b', owning([1], { seq: nextSeq() }));
    expect(statusOf('b')).toBe('left');
    await clock.advance(60_000);
    expect(tracker.member('b')).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['member.joined', 'member.left', 'member.forgotten']);
  });

  it('forgets a down member after 60 s', async () => {
    const { clock, tracker, events, nextSeq } = setup();
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    await clock.advance(3_000 + 59_999);
    expect(tracker.member('b')?.status).toBe('down');
    await clock.advance(1);
    expect(tracker.member('b')).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ type: 'member.forgotten', node: 'b' });
  });

  it('keeps the partition owners: alive before suspected, running before starting, none for a down member', async () => {
    const { clock, tracker, nextSeq } = setup();
    tracker.heartbeat('b', owning([1, 2], { seq: nextSeq() }));
    tracker.heartbeat('c', report({ seq: nextSeq(), processors: [{ id: 'p', paused: false, topics: ['t'], partitions: [{ topic: 't', partition: 2, state: 'starting' }] }] }));
    expect(tracker.snapshot().partitions.map((p) => `${p.partition}:${p.node}`)).toEqual(['0:a', '1:b', '2:b']);
    await clock.advance(1_000);
    tracker.heartbeat('c', report({ seq: nextSeq(), processors: [{ id: 'p', paused: false, topics: ['t'], partitions: [{ topic: 't', partition: 2, state: 'starting' }] }] }));
    await clock.advance(600); // b suspected, c alive
    expect(tracker.member('b')?.status).toBe('suspected');
    expect(tracker.ownerOf('p', 't', 1)?.node).toBe('b'); // still the only claimant
    expect(tracker.ownerOf('p', 't', 2)?.node).toBe('c'); // alive beats suspected
    await clock.advance(1_500);
    expect(tracker.member('b')?.status).toBe('down');
    expect(tracker.ownerOf('p', 't', 1)).toBeUndefined();
  });

  it('judges no one while its own connection is down, and gives everyone a fresh window after', async () => {
    const { clock, tracker, statusOf, events, nextSeq } = setup();
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    await clock.advance(1_000);
    tracker.hold(); // NATS disconnected
    await clock.advance(10_000);
    expect(statusOf('b')).toBe('alive');
    tracker.release(); // reconnected: b gets 1.5 s from now before suspicion
    await clock.advance(1_499);
    expect(statusOf('b')).toBe('alive');
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    await clock.advance(1_000);
    expect(statusOf('b')).toBe('alive');
    expect(events.map((e) => e.type)).toEqual(['member.joined']);
  });

  it('judges no one while its own heartbeats do not come back (a connection up but not delivering)', async () => {
    const { clock, tracker, statusOf, nextSeq } = setup();
    const echo = (): void => tracker.heartbeat('a', tracker.member('a')!.report);
    const echoing = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 500) {
        echo();
        await clock.advance(500);
      }
    };
    echo();
    tracker.heartbeat('b', report({ seq: nextSeq() }));
    await clock.advance(10_000); // neither b nor our own echo heard
    expect(statusOf('b')).toBe('alive');
    expect(tracker.judging).toBe(false);
    echo(); // our echo is back after 10 s: b is credited with 9.5 s, so it has been silent 0.5 s
    expect(tracker.judging).toBe(true);
    await echoing(500);
    expect(statusOf('b')).toBe('alive');
    await echoing(500);
    expect(statusOf('b')).toBe('suspected');
    await echoing(1_500);
    expect(statusOf('b')).toBe('down');
  });

  it('ignores repeated and reordered heartbeats of an incarnation', () => {
    const { tracker } = setup();
    let changes = 0;
    tracker.changes.subscribe(() => changes++);
    tracker.heartbeat('b', owning([1], { seq: 5 }));
    tracker.heartbeat('b', owning([1, 2], { seq: 4 }));
    tracker.heartbeat('b', owning([1, 2], { seq: 5 }));
    expect(tracker.ownerOf('p', 't', 2)).toBeUndefined();
    tracker.heartbeat('b', owning([1], { seq: 6 })); // same content: no new snapshot
    expect(changes).toBe(2); // the initial snapshot and b joining
  });
});
