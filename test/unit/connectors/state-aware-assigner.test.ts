import { describe, expect, it } from 'vitest';
import { decodeMemberState, encodeMemberState, stateAwareAssignment } from '../../../src/connectors/kafka/state-aware-assigner.js';

const tps = (n: number) => Array.from({ length: n }, (_, partition) => ({ topic: 't', partition }));
const names = (m: Map<string, Array<{ partition: number }>>) => Object.fromEntries([...m].map(([id, list]) => [id, list.map((tp) => tp.partition).sort((a, b) => a - b)]));

describe('state-aware assignment', () => {
  it('keeps owners on their partitions and gives a dead member\'s partitions to their warmest standbys, balanced', () => {
    // a owned 0-3, b 4-7 (c died owning 8-11); a stands by warmly for 8 and 9, b for 10 and 11, each also coldly for the others.
    const a = new Map<string, number>([...[0, 1, 2, 3].map((p): [string, number] => [`t:${p}`, 0]), ['t:8', 3], ['t:9', 5], ['t:10', 900], ['t:11', 800]]);
    const b = new Map<string, number>([...[4, 5, 6, 7].map((p): [string, number] => [`t:${p}`, 0]), ['t:10', 2], ['t:11', 1], ['t:8', 700], ['t:9', 600]]);
    const assignment = stateAwareAssignment([{ memberId: 'b', lags: b }, { memberId: 'a', lags: a }], tps(12));
    expect(names(assignment)).toEqual({ a: [0, 1, 2, 3, 8, 9], b: [4, 5, 6, 7, 10, 11] });
  });

  it('stays balanced when one member is warm for everything, giving a newcomer the rest', () => {
    const a = new Map(tps(12).map((tp): [string, number] => [`t:${tp.partition}`, 0]));
    const assignment = stateAwareAssignment([{ memberId: 'a', lags: a }, { memberId: 'b', lags: new Map() }, { memberId: 'c', lags: new Map() }], tps(12));
    expect(names(assignment).a).toHaveLength(4);
    expect(names(assignment).b).toHaveLength(4);
    expect(names(assignment).c).toHaveLength(4);
    expect([...assignment.values()].flat().length).toBe(12);
  });

  it('round-trips a member\'s state and reads foreign userData as no state', () => {
    const lags = new Map([['t:1', 4], ['u:0', 0]]);
    expect(decodeMemberState(encodeMemberState(lags))).toEqual(lags);
    expect(decodeMemberState(Buffer.from('not json')).size).toBe(0);
    expect(decodeMemberState(Buffer.alloc(0)).size).toBe(0);
  });
});
