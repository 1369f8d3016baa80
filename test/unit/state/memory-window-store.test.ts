import { afterEach, describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../../src/state/memory-window-store.js';
import { jsonKeys, structuredValues } from '../../../src/state/store-serdes.js';
import type { Serde } from '../../../src/serdes/serde.js';
import { changelogRestorer, lmdbRestorer, type StoreRestorer } from '../../helpers/store-restorers.js';

type Value = { n: number; pages: Set<string> };
const serdes = { key: jsonKeys as Serde<string>, value: structuredValues as Serde<Value> };
const fresh = () => new MemoryWindowStore<string, Value>('w', serdes);

describe.each([changelogRestorer, lmdbRestorer])('MemoryWindowStore restored from %o', (make) => {
  let restorer: StoreRestorer;
  afterEach(async () => restorer.close());

  it('restores its windows with their keys in first-seen order, whatever order they were last written in', async () => {
    restorer = make();
    const store = fresh();
    store.put(0, 'b', { n: 1, pages: new Set(['/x']) });
    store.put(0, 'a', { n: 1, pages: new Set(['/y']) });
    store.put(60, 'c', { n: 1, pages: new Set() });
    let restored = await restorer.restore(store, fresh);
    store.get(0, 'b')!.n = 5; // changed in place, then written last
    store.touch(0, 'b');
    restored = await restorer.restore(store, fresh, restored);
    expect([...restored.window(0)!.keys()]).toEqual(['b', 'a']);
    expect(restored.get(0, 'b')).toEqual({ n: 5, pages: new Set(['/x']) });
    expect(restored.size).toBe(3);
  });

  it('writes tombstones for every key of a deleted window, and a restore drops it', async () => {
    restorer = make();
    const store = fresh();
    store.put(0, 'a', { n: 1, pages: new Set() });
    store.put(0, 'b', { n: 2, pages: new Set() });
    store.put(60, 'c', { n: 3, pages: new Set() });
    let restored = await restorer.restore(store, fresh);
    store.deleteWindow(0);
    restored = await restorer.restore(store, fresh, restored);
    expect(restored.window(0)).toBeUndefined();
    expect([...restored.starts()]).toEqual([60]);
    expect(restored.size).toBe(1);
  });
});

describe('MemoryWindowStore', () => {
  it('writes a tombstone per key of a deleted window', () => {
    const store = fresh();
    store.put(0, 'a', { n: 1, pages: new Set() });
    store.put(0, 'b', { n: 2, pages: new Set() });
    store.takeChanges();
    store.deleteWindow(0);
    expect(store.takeChanges().map((c) => [c.key, c.value])).toEqual([
      ['[0,"a"]', null],
      ['[0,"b"]', null],
    ]);
  });
});
