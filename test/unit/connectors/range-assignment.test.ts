import { describe, expect, it } from 'vitest';
import { assignRange } from '../../../src/connectors/memory/range-assignment.js';

const partitionsOf = (plan: { topic: string; partition: number }[][]) =>
  plan.map((tps) => tps.map((tp) => `${tp.topic}-${tp.partition}`));

describe('assignRange', () => {
  it('gives members consecutive ranges, the first members one extra', () => {
    const plan = assignRange([{ topics: ['a'] }, { topics: ['a'] }, { topics: ['a'] }], () => 7);
    expect(partitionsOf(plan)).toEqual([['a-0', 'a-1', 'a-2'], ['a-3', 'a-4'], ['a-5', 'a-6']]);
  });

  it('gives co-partitioned topics the same partition numbers to the same member', () => {
    const plan = assignRange([{ topics: ['b', 'a'] }, { topics: ['a', 'b'] }], () => 2);
    expect(partitionsOf(plan)).toEqual([['a-0', 'b-0'], ['a-1', 'b-1']]);
  });

  it('splits each topic among its subscribers only', () => {
    const plan = assignRange([{ topics: ['a'] }, { topics: ['a', 'b'] }], (t) => (t === 'a' ? 2 : 3));
    expect(partitionsOf(plan)).toEqual([['a-0'], ['a-1', 'b-0', 'b-1', 'b-2']]);
  });

  it('leaves members beyond the partition count without partitions', () => {
    const plan = assignRange([{ topics: ['a'] }, { topics: ['a'] }, { topics: ['a'] }], () => 2);
    expect(partitionsOf(plan)).toEqual([['a-0'], ['a-1'], []]);
  });
});
