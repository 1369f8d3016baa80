import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../src/connectors/log.js';
import { MemoryWindowStore } from '../../../src/state/memory-window-store.js';
import { jsonKeys, structuredValues } from '../../../src/state/store-serdes.js';
import type { Serde } from '../../../src/serdes/serde.js';

const serdes = { key: jsonKeys as Serde<string>, value: structuredValues as Serde<{ n: number; pages: Set<string> }> };

/** The changes of `from` as log records, applied to a new store (a restore). */
function restoreInto(from: MemoryWindowStore<string, { n: number; pages: Set<string> }>, into = new MemoryWindowStore<string, { n: number; pages: Set<string> }>('w', serdes)) {
  from.takeChanges().forEach((r, offset) => {
    const record: LogRecord = {
      topic: 'w-changelog',
      partition: 0,
      offset,
      key: Buffer.from(r.key as string),
      value: r.value === null ? null : Buffer.from(r.value as Buffer),
      headers: {},
      timestamp: 0,
    };
    into.restore(record);
  });
  into.restored();
  return into;
}

describe('MemoryWindowStore', () => {
  it('restores its windows with their keys in first-seen order, whatever order they were last written in', () => {
    const store = new MemoryWindowStore<string, { n: number; pages: Set<string> }>('w', serdes);
    store.put(0, 'b', { n: 1, pages: new Set(['/x']) });
    store.put(0, 'a', { n: 1, pages: new Set(['/y']) });
    store.put(60, 'c', { n: 1, pages: new Set() });
    const restored = restoreInto(store);
    store.get(0, 'b')!.n = 5; // changed in place, then written last
    store.touch(0, 'b');
    restoreInto(store, restored);
    expect([...restored.window(0)!.keys()]).toEqual(['b', 'a']);
    expect(restored.get(0, 'b')).toEqual({ n: 5, pages: new Set(['/x']) });
    expect(restored.size).toBe(3);
  });

  it('writes tombstones for every key of a deleted window, and a restore drops it', () => {
    const store = new MemoryWindowStore<string, { n: number; pages: Set<string> }>('w', serdes);
    store.put(0, 'a', { n: 1, pages: new Set() });
    store.put(0, 'b', { n: 2, pages: new Set() });
    const restored = restoreInto(store);
    store.deleteWindow(0);
    const changes = store.takeChanges();
    expect(changes.map((c) => [c.key, c.value])).toEqual([
      ['[0,"a"]', null],
      ['[0,"b"]', null],
    ]);
    changes.forEach((r, offset) => restored.restore({ topic: 't', partition: 0, offset, key: Buffer.from(r.key as string), value: null, headers: {}, timestamp: 0 }));
    expect(restored.window(0)).toBeUndefined();
    expect(restored.size).toBe(0);
  });
});
