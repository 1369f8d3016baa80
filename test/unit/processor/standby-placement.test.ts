import { describe, expect, it } from 'vitest';
import { standbyPlacement, type PlacementView } from '../../../src/processor/standby-placement.js';

function view(self: string, members: Array<[string, string]>, owners: Record<number, string>): PlacementView {
  return {
    self,
    members: members.map(([node, status]) => ({ node, status, report: { processors: [{ id: 'totals' }] } })),
    partitions: Object.entries(owners).map(([p, node]) => ({ processor: 'totals', topic: 'orders', partition: Number(p), node })),
  };
}

const partitions = (self: string, v: PlacementView, n: number): number[] => standbyPlacement({ ...v, self }, 'totals', n).standbys.map((tp) => tp.partition).sort((a, b) => a - b);

describe('standby placement', () => {
  it('gives each partition the next live members after its owner in the sorted ring, and every node computes the same', () => {
    const v = view('a', [['a', 'alive'], ['b', 'alive'], ['c', 'alive']], { 0: 'a', 1: 'b', 2: 'c', 3: 'a' });
    expect(partitions('a', v, 1)).toEqual([2]); // c → a
    expect(partitions('b', v, 1)).toEqual([0, 3]); // a → b
    expect(partitions('c', v, 1)).toEqual([1]); // b → c
    // Two replicas: every node but the owner.
    expect(partitions('a', v, 2)).toEqual([1, 2]);
    expect(partitions('c', v, 2)).toEqual([0, 1, 3]);
  });

  it('skips members that are not alive, and places a partition whose owner is suspected where it would sit in the ring', () => {
    const v = view('c', [['a', 'suspected'], ['b', 'down'], ['c', 'alive'], ['d', 'alive']], { 0: 'a', 1: 'd' });
    expect(partitions('c', v, 1)).toEqual([0, 1]); // after a, skipping b (down): c; after d, wrapping: c
    expect(partitions('d', v, 1)).toEqual([]);
  });

  it('places nothing with 0 replicas, or for a processor the node does not run, and says which partitions have an owner', () => {
    const v = view('b', [['a', 'alive'], ['b', 'alive']], { 0: 'a' });
    expect(partitions('b', v, 0)).toEqual([]);
    expect(standbyPlacement(v, 'other', 1).standbys).toEqual([]);
    const placement = standbyPlacement(v, 'totals', 1);
    expect(placement.owned({ topic: 'orders', partition: 0 })).toBe(true);
    expect(placement.owned({ topic: 'orders', partition: 1 })).toBe(false);
  });
});
