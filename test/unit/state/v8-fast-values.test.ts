import fc from 'fast-check';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { fastDeserialize, fastSerialize } from '../../../src/state/v8-fast-values.js';

const simple = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(-0));

describe('the V8 fast path of store values', () => {
  it('writes bytes V8 reads back to the same value, and reads what V8 writes', () => {
    fc.assert(
      fc.property(simple, (value) => {
        const fast = fastSerialize(value);
        if (fast !== undefined) expect(Object.is(deserialize(fast), value)).toBe(true);
        const read = fastDeserialize(serialize(value));
        if (read !== undefined) expect(Object.is(read.value, value)).toBe(true);
        return true;
      }),
      { numRuns: 2_000 },
    );
  });

  it('takes the numbers and Latin-1 strings counts and totals are made of', () => {
    for (const value of [0, 42, -7, 2 ** 31, 12.5, 'k123', 'café', true, null]) {
      expect(fastSerialize(value)).toBeDefined();
      expect(fastDeserialize(serialize(value))).toEqual({ value });
    }
  });

  it('leaves everything else to V8', () => {
    expect(fastSerialize('x'.repeat(1_000))).toBeUndefined();
    for (const value of [10n, '日本', new Date(0)]) {
      expect(fastSerialize(value)).toBeUndefined();
      expect(fastDeserialize(serialize(value))).toBeUndefined();
      expect(deserialize(serialize(value))).toEqual(value);
    }
    // Containers are written fast (see below), but not read: V8 reads them.
    for (const value of [{ n: 1 }, [1, 2], new Map([['a', 1]]), new Set(['x'])]) expect(fastDeserialize(serialize(value))).toBeUndefined();
    expect(fastDeserialize(Buffer.from([0xff, 0x0f, 0x49, 0x80]))).toBeUndefined(); // a varint cut short
    expect(fastDeserialize(Buffer.from([0xff, 0x0f, 0x22, 0x05, 0x61]))).toBeUndefined(); // a string cut short
  });

  it('writes the containers stores hold (plain objects, arrays, Set, Map, Buffer) as V8 does, byte for byte', () => {
    const values: object[] = [
      { seq: 12, value: Buffer.from([0, 1, 255]) },
      { seq: 0, value: 'text' },
      { events: 3, pages: new Set(['/home', '/emoji-🚀', 'café']) },
      { nested: { list: [1, -2, 3.25, 'x', null, undefined, true, false], empty: {} }, '日本': '語' },
      [new Map<unknown, unknown>([['a', 1], [2, [3]]]), new Set([1, 'a'])],
    ];
    for (const value of values) {
      const fast = fastSerialize(value);
      expect(fast).toBeDefined();
      expect(fast!.equals(serialize(value))).toBe(true);
      expect(deserialize(fast!)).toEqual(value);
    }
  });

  it('writes nested containers V8 reads back equal (fast-check)', () => {
    const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        simple,
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), tie('tree'), { maxKeys: 4 }),
        fc.array(tie('tree'), { maxLength: 4 }),
        fc.uniqueArray(fc.oneof(fc.integer(), fc.string({ maxLength: 6 })), { maxLength: 4 }).map((items) => new Set(items)),
        fc.array(fc.tuple(fc.string({ maxLength: 6 }), tie('tree')), { maxLength: 3 }).map((entries) => new Map(entries)),
        fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
      ),
    }));
    fc.assert(
      fc.property(tree, (value) => {
        const fast = fastSerialize(value);
        if (fast !== undefined) expect(deserialize(fast)).toEqual(value);
      }),
      { numRuns: 1_000 },
    );
  });

  it('leaves to V8 what it would write references or host objects for: an object met twice, a cycle, class instances, other typed arrays, holes', () => {
    const shared = { a: 1 };
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    class Point {
      x = 1;
    }
    // eslint-disable-next-line no-sparse-arrays
    for (const value of [{ l: shared, r: shared }, cycle, new Point(), { t: new Uint16Array(2) }, [1, , 3], { 0: 'index key' }]) {
      expect(fastSerialize(value)).toBeUndefined();
    }
  });
});
