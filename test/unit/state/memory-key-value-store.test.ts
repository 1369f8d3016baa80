import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKeyValueStore } from '../../../src/state/memory-key-value-store.js';
import { jsonKeys, structuredValues } from '../../../src/state/store-serdes.js';
import type { Serde } from '../../../src/serdes/serde.js';
import { changelogRestorer, lmdbRestorer, type StoreRestorer } from '../../helpers/store-restorers.js';

type Value = number | bigint | Map<string, number> | Set<string>;
const fresh = () => new MemoryKeyValueStore<string | number, Value>('kv', { key: jsonKeys as Serde<string | number>, value: structuredValues as Serde<Value> });

describe.each([changelogRestorer, lmdbRestorer])('MemoryKeyValueStore restored from %o', (make) => {
  let restorer: StoreRestorer;
  afterEach(async () => restorer.close());

  it('restores every key with its last value, Maps, Sets and BigInts included, and deletes what was deleted', async () => {
    restorer = make();
    const store = fresh();
    store.put('total', 1);
    store.put('total', 2);
    store.put(7, 10n ** 20n);
    store.put('pages', new Set(['/a', '/b']));
    store.put('gone', 1);
    store.put('counts', new Map([['x', 1]]));
    let restored = await restorer.restore(store, fresh);
    (store.get('counts') as Map<string, number>).set('y', 2); // changed in place
    store.touch('counts');
    store.delete('gone');
    restored = await restorer.restore(store, fresh, restored);
    expect(new Map(restored.all())).toEqual(
      new Map<string | number, Value>([
        ['total', 2],
        [7, 10n ** 20n],
        ['pages', new Set(['/a', '/b'])],
        ['counts', new Map([['x', 1], ['y', 2]])],
      ]),
    );
    expect(restored.size).toBe(4);
    expect(restored.has('gone')).toBe(false);
  });

  it('answers a range of keys, sorted, after a restore', async () => {
    restorer = make();
    const store = fresh();
    for (const key of ['m', 'c', 'x', 'a', 'p']) store.put(key, key.charCodeAt(0));
    const restored = await restorer.restore(store, fresh);
    expect(restored.range('b', 'p')).toEqual([
      ['c', 99],
      ['m', 109],
      ['p', 112],
    ]);
  });

  it('writes nothing for a store that did not change since the last changes were taken', async () => {
    restorer = make();
    const store = fresh();
    store.put('a', 1);
    await restorer.restore(store, fresh);
    expect(store.takeChanges()).toEqual([]);
    store.delete('never-there');
    expect(store.takeChanges()).toEqual([]);
  });
});
