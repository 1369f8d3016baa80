import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonKeys } from '../../../src/state/store-serdes.js';

describe('jsonKeys', () => {
  it('reads back every key it writes: strings with escapes, quotes, unicode, and numbers', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), (key) => {
        const written = Buffer.from(jsonKeys.serialize(key) as string);
        expect(jsonKeys.deserialize(written)).toEqual(JSON.parse(JSON.stringify(key)));
      }),
      { numRuns: 2_000 },
    );
    expect(jsonKeys.deserialize(Buffer.from('"a\\"b"'))).toBe('a"b');
    expect(jsonKeys.deserialize(Buffer.from('"line\\n"'))).toBe('line\n');
  });
});
