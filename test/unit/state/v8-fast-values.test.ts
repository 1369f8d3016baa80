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
    for (const value of [{ n: 1 }, [1, 2], new Map([['a', 1]]), new Set(['x']), 10n, '日本', new Date(0)]) {
      expect(fastSerialize(value)).toBeUndefined();
      expect(fastDeserialize(serialize(value))).toBeUndefined();
      expect(deserialize(serialize(value))).toEqual(value);
    }
    expect(fastDeserialize(Buffer.from([0xff, 0x0f, 0x49, 0x80]))).toBeUndefined(); // a varint cut short
    expect(fastDeserialize(Buffer.from([0xff, 0x0f, 0x22, 0x05, 0x61]))).toBeUndefined(); // a string cut short
  });
});
