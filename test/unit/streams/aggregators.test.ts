import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { aggregating, type Aggregator } from '../../../src/streams/aggregator.js';
import { counting } from '../../../src/streams/counting.js';
import { maximum } from '../../../src/streams/maximum.js';
import { minimum } from '../../../src/streams/minimum.js';
import { reducing } from '../../../src/streams/reducing.js';
import { summing } from '../../../src/streams/summing.js';
import { topN } from '../../../src/streams/top-n.js';
import { byCodeUnits } from './support.js';

function fold<T, A>(agg: Aggregator<T, A>, xs: readonly T[]): A {
  return xs.reduce(agg.add, agg.init());
}

describe('aggregators', () => {
  it('count, sum, minimum and maximum fold and merge as expected', () => {
    expect(fold(counting(), ['a', 'b', 'c'])).toBe(3);
    expect(fold(summing((x: number) => x), [1, 2, 3])).toBe(6);
    expect(fold(minimum((x: number) => x), [4, -2, 9])).toBe(-2);
    expect(fold(maximum((x: number) => x), [4, -2, 9])).toBe(9);
    expect(counting().merge?.(2, 3)).toBe(5);
    expect(summing((x: number) => x).merge?.(2, 3)).toBe(5);
    expect(minimum((x: number) => x).merge?.(2, 3)).toBe(2);
    expect(maximum((x: number) => x).merge?.(2, 3)).toBe(3);
  });

  it('reducing returns the single element of a one-element window and combines in order otherwise', () => {
    const concat = reducing((a: string, b: string) => a + b);
    expect(fold(concat, ['x'])).toBe('x');
    expect(fold(concat, ['x', 'y', 'z'])).toBe('xyz');
    expect(concat.merge?.(fold(concat, ['a']), fold(concat, ['b', 'c']))).toBe('abc');
    expect(concat.merge?.(concat.init(), 'q')).toBe('q');
  });

  it('topN keeps the best n, best first, ties by the comparator, equal ones in arrival order', () => {
    type Views = { page: string; views: number };
    const top3 = topN<Views>({ n: 3, compare: (a, b) => b.views - a.views || byCodeUnits(a.page, b.page) });
    const views: Views[] = [
      { page: '/b', views: 2 },
      { page: '/a', views: 2 },
      { page: '/Z', views: 1 },
      { page: '/c', views: 5 },
      { page: '/z', views: 1 },
    ];
    expect(fold(top3, views).map((v) => v.page)).toEqual(['/c', '/a', '/b']);
    expect(fold(top3, views.slice(2, 3))).toEqual([{ page: '/Z', views: 1 }]);
    const byViewsOnly = topN<Views>({ n: 2, compare: (a, b) => b.views - a.views });
    expect(fold(byViewsOnly, views).map((v) => v.page)).toEqual(['/c', '/b']);
    // code-unit order: uppercase before lowercase
    expect(fold(top3, views.slice(2)).map((v) => v.page)).toEqual(['/c', '/Z', '/z']);
    const merged = top3.merge?.(fold(top3, views.slice(0, 2)), fold(top3, views.slice(2)));
    expect(merged?.map((v) => v.page)).toEqual(['/c', '/a', '/b']);
  });

  it('aggregating checks its parts', () => {
    const agg = aggregating({ init: () => [] as string[], add: (xs: string[], x: string) => [...xs, x] });
    expect(fold(agg, ['a', 'b'])).toEqual(['a', 'b']);
    expect(agg.merge).toBeUndefined();
    expect(() => aggregating({ init: () => 0 } as never)).toThrow(ConfigError);
    expect(() => aggregating({ init: () => 0 } as never)).toThrow(/aggregating\.add/);
  });

  it('rejects bad configuration', () => {
    expect(() => topN({ n: 0, compare: () => 0 })).toThrow(/topN\.n/);
    expect(() => topN({ n: 2.5, compare: () => 0 })).toThrow(ConfigError);
    expect(() => topN({ n: 3 } as never)).toThrow(/topN\.compare/);
    expect(() => summing(undefined as never)).toThrow(/summing\.value/);
    expect(() => reducing(42 as never)).toThrow(/reducing\.combine/);
  });
});
