import { describe, expect, it } from 'vitest';
import { StoreKeyPartitioning, type KeyMismatch } from '../../../src/actors/store-key-partitioning.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { KeyedUnlikeInputError } from '../../../src/actors/keyed-unlike-input-error.js';
import { isPermanent } from '../../../src/errors.js';
import type { MemoryKeyValueStore } from '../../../src/state/memory-key-value-store.js';
import { unloggedStores } from '../../../src/state/store-provider.js';
import { CHECKED_FIRST_WRITES, CHECKED_WRITES_EVERY, WriteSampler } from '../../../src/state/write-sampler.js';

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

describe('StoreKeyPartitioning, sampled writes', () => {
  const otherKey = String(keysMapping(PARTITION, false, 1)[0]);
  const ownKey = String(keysMapping(PARTITION, true, 1)[0]);
  // An order's own key, placed by murmur2 (as the Java client and kafkajs place it) in this partition.
  const orderKey = Array.from({ length: 100 }, (_, i) => `order-${i}`).find((k) => partitionForKey(k, COUNT) === PARTITION)!;

  function writes(current: { offset: number; key: unknown } | undefined) {
    const found: KeyMismatch[] = [];
    const keys = new StoreKeyPartitioning({ topic: 'in', partition: PARTITION }, () => COUNT, (m) => found.push(m), { processor: 'totals', current: () => current });
    return { keys, found };
  }

  it("refuses a 'by-key' write under a key of another partition while a record with another key is processed, naming the processor, operator, store, key, both partitions and the fix", () => {
    const { keys, found } = writes({ offset: 42, key: orderKey });
    const check = keys.declare('by-customer', 'aggregateByKey')!;
    check(ownKey); // maps to this partition: right
    let error: unknown;
    try {
      check(otherKey);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyedUnlikeInputError);
    const refused = error as KeyedUnlikeInputError;
    expect(refused.permanent).toBe(true);
    expect(isPermanent(refused)).toBe(true);
    expect(refused.mismatch).toEqual({ store: 'by-customer', key: otherKey, topic: 'in', partition: PARTITION, mapsTo: partitionForKey(otherKey, COUNT), partitionCount: COUNT });
    expect(refused.record).toEqual({ offset: 42, key: orderKey });
    for (const part of ["processor 'totals'", "operator aggregateByKey (store 'by-customer')", JSON.stringify(otherKey), `in[${PARTITION}]@42`, `maps to partition ${partitionForKey(otherKey, COUNT)} of in, not ${PARTITION}`, 'repartition({ key })', "partitioning: 'per-partition'"]) {
      expect(refused.message).toContain(part);
    }
    expect(found).toEqual([]);
  });

  it("takes a write under the record's own key as keyed like the input, whatever partitioner placed it (strings, numbers as their decimal string, bytes)", () => {
    for (const recordKey of [otherKey, Number(otherKey), Buffer.from(otherKey)]) {
      const { keys, found } = writes({ offset: 1, key: recordKey });
      const check = keys.declare('per-user', 'countByKey')!;
      expect(() => check(otherKey)).not.toThrow();
      expect(() => check(Number(otherKey))).not.toThrow();
      expect(found).toEqual([]);
    }
  });

  it("keeps a key of another partition in a 'per-partition' store, or written outside any record, as evidence for queries only", () => {
    const perPartition = writes({ offset: 3, key: 'page-3' });
    const check = perPartition.keys.declare('top-pages', 'tumbling', 'per-partition')!;
    expect(() => check('top')).not.toThrow();
    check(otherKey);
    expect(perPartition.keys.isPerPartition('top-pages')).toBe(true);
    expect(perPartition.found).toHaveLength(1); // the first key of another partition, once
    expect(perPartition.keys.mismatch('top-pages')).toEqual(perPartition.found[0]);

    const outside = writes(undefined);
    expect(() => outside.keys.declare('by-key', 'keyedProcess')!(otherKey)).not.toThrow();
    expect(outside.keys.isPerPartition('by-key')).toBe(false);
    expect(outside.found.map((m) => m.key)).toEqual([otherKey]);
  });

  it("stops refusing in a partition whose records show another partitioner (a record's own key that murmur2 maps elsewhere): a misplaced key is then evidence for queries only", () => {
    const current = { offset: 9, key: ownKey };
    const { keys, found } = writes(current);
    const check = keys.declare('per-user', 'countByKey')!;
    keys.sawRecord(ownKey); // maps here: murmur2 so far
    expect(() => check(otherKey)).toThrow(KeyedUnlikeInputError);

    const learned = writes(current);
    const learnedCheck = learned.keys.declare('per-user', 'countByKey')!;
    learned.keys.sawRecord(ownKey);
    learned.keys.sawRecord(otherKey); // a record of this partition murmur2 puts elsewhere: another partitioner
    expect(learned.keys.learning).toBe(0);
    expect(() => learnedCheck(String(keysMapping(PARTITION, false, 2)[1]))).not.toThrow();
    expect(learned.found).toHaveLength(1);
    expect(found).toEqual([]);

    // Also learned at a checked write, from the record in flight.
    const inFlight = writes({ offset: 1, key: otherKey });
    expect(() => inFlight.keys.declare('s', 'countByKey')!(String(keysMapping(PARTITION, false, 2)[1]))).not.toThrow();
  });

  it('does not check writes without a pipeline context, or keys that are not strings or numbers', () => {
    const { keys } = checker();
    expect(keys.declare('s', 'countByKey')).toBeUndefined();
    const { keys: checked } = writes({ offset: 0, key: 'x' });
    expect(() => checked.declare('s', 'countByKey')!({ id: otherKey })).not.toThrow();
  });
});

describe('WriteSampler', () => {
  it('checks each of the first 1,024 writes of a store, then 1 in 1,024, counted in writes', () => {
    const checked: number[] = [];
    let n = 0;
    const sampler = new WriteSampler(() => checked.push(n));
    for (n = 1; n <= 10_000; n++) sampler.wrote('k');
    expect(checked.slice(0, CHECKED_FIRST_WRITES)).toEqual(Array.from({ length: CHECKED_FIRST_WRITES }, (_, i) => i + 1));
    expect(checked.slice(CHECKED_FIRST_WRITES)).toEqual([2_048, 3_072, 4_096, 5_120, 6_144, 7_168, 8_192, 9_216]);
    expect(CHECKED_WRITES_EVERY).toBe(1_024);
  });

  it('runs in the write path of every store an operator writes: a refusing check leaves the store unchanged', () => {
    const stores = unloggedStores();
    const kv = stores.keyValueStore<string, number>('kv');
    const windows = stores.windowStore<string, number>('w');
    const refuse = (key: unknown) => {
      if (key === 'bad') throw new Error('refused');
    };
    (kv as MemoryKeyValueStore<string, number>).sampleWrites(refuse);
    windows.sampleWrites(refuse);
    kv.put('good', 1);
    expect(() => kv.put('bad', 1)).toThrow('refused');
    expect(() => windows.put(0, 'bad', 1)).toThrow('refused');
    expect([...kv.all()]).toEqual([['good', 1]]);
    expect(windows.size).toBe(0);
  });
});
