import { describe, expect, it } from 'vitest';
import { StoreKeyPartitioning, type KeyMismatch } from '../../../src/actors/store-key-partitioning.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { unloggedStores } from '../../../src/state/store-provider.js';

const COUNT = 4;
const PARTITION = 1;

/** Keys (strings, or numbers as their decimal string) that map to `partition`, or that do not. */
function keysMapping(partition: number, wanted: boolean, n: number, asNumber = false): Array<string | number> {
  const found: Array<string | number> = [];
  for (let i = 0; found.length < n; i++) if ((partitionForKey(String(i), COUNT) === partition) === wanted) found.push(asNumber ? i : String(i));
  return found;
}

function checker() {
  const found: KeyMismatch[] = [];
  const keys = new StoreKeyPartitioning({ topic: 'in', partition: PARTITION }, () => COUNT, (m) => found.push(m));
  return { keys, found };
}

describe('StoreKeyPartitioning', () => {
  it('finds nothing while every key maps to its partition, strings and numbers alike', () => {
    const stores = unloggedStores();
    const strings = stores.keyValueStore<string | number, number>('s');
    for (const k of keysMapping(PARTITION, true, 300)) strings.put(k, 1);
    for (const k of keysMapping(PARTITION, true, 300, true)) strings.put(k, 1);
    const { keys, found } = checker();
    for (let i = 0; i < 5; i++) keys.check(new Map([['s', strings]]));
    expect(found).toEqual([]);
    expect(keys.mismatch('s')).toBeUndefined();
  });

  it('keeps the first key that maps elsewhere as evidence, reports it once, and checks at most the budget per call', () => {
    const stores = unloggedStores();
    const store = stores.keyValueStore<number, number>('totals');
    const good = keysMapping(PARTITION, true, 10, true) as number[];
    const bad = keysMapping(PARTITION, false, 1, true)[0] as number;
    for (const k of good) store.put(k, 1);
    store.put(bad, 1); // the 11th key
    const { keys, found } = checker();
    keys.check(new Map([['totals', store]]), 10);
    expect(found).toEqual([]); // the first 10 keys are right
    keys.check(new Map([['totals', store]]), 10);
    keys.check(new Map([['totals', store]]), 10);
    expect(found).toEqual([{ store: 'totals', key: String(bad), topic: 'in', partition: PARTITION, mapsTo: partitionForKey(String(bad), COUNT), partitionCount: COUNT }]);
    expect(keys.mismatch('totals')).toEqual(found[0]);
  });

  it('meets keys put after its check started, and the keys of every window of a window store', () => {
    const stores = unloggedStores();
    const windows = stores.windowStore<string, number>('w');
    for (const k of keysMapping(PARTITION, true, 5)) windows.put(0, String(k), 1);
    const { keys, found } = checker();
    keys.check(new Map([['w', windows]]), 3);
    windows.put(1_000, String(keysMapping(PARTITION, false, 1)[0]), 1);
    keys.check(new Map([['w', windows]]), 3);
    expect(found.map((m) => m.store)).toEqual(['w']);
  });

  it('calls a store with keys other than strings and numbers unknown and stops checking it', () => {
    const stores = unloggedStores();
    const store = stores.keyValueStore<object, number>('objects');
    store.put({ id: 1 }, 1);
    const { keys, found } = checker();
    keys.check(new Map([['objects', store]]));
    expect(keys.mismatch('objects')).toBeUndefined();
    expect(found).toEqual([]);
  });
});
